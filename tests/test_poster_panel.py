"""The poster panel in the real window: it fits the pane, scrolls only vertically, never changes a
value under a passing wheel, shows only templates it applied and counts tokens live (pytest-qt)."""

import json
import shutil

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton, QScrollArea, QWidget

from zimage_desktop.app import run_app
from zimage_desktop.poster.compose import PosterSpec
from zimage_desktop.ui.poster import PosterPanel


def open_window(qtbot, tmp_path, tiny_models, language):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(tiny_models.gguf, data / "models")
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": language}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    qtbot.waitUntil(lambda: any(e.kind in ("loaded", "failed") for e in events), timeout=30000)
    win.mode_tabs.setCurrentIndex(1)
    return win


@pytest.fixture(params=["en", "zh_CN"])
def window(request, qtbot, tmp_path, tiny_models):
    win = open_window(qtbot, tmp_path, tiny_models, request.param)
    yield win
    win.close()


def scroll_of(win) -> QScrollArea:
    return win.findChild(QScrollArea, "posterScroll")


def clipped(win) -> list:
    """Every visible widget of the panel that does not fit the viewport's width, or (a one-line
    label, a button) is narrower than its text."""
    scroll, panel = scroll_of(win), win.poster
    viewport = scroll.viewport()
    out = []
    for widget in (w for w in panel.findChildren(QWidget) if w.isVisibleTo(panel)):
        left = widget.mapTo(viewport, QPoint(0, 0)).x()
        name = widget.objectName() or type(widget).__name__
        if left < 0 or left + widget.width() > viewport.width():
            out.append((name, left, widget.width(), viewport.width()))
        one_line = isinstance(widget, QPushButton) or (isinstance(widget, QLabel) and not widget.wordWrap())
        if one_line and widget.width() < widget.minimumSizeHint().width():
            out.append((name, widget.text(), widget.width(), widget.minimumSizeHint().width()))
    return out


def assert_fits(qtbot, win):
    scroll, panel = scroll_of(win), win.poster
    qtbot.waitUntil(lambda: panel.width() == scroll.viewport().width() and not clipped(win))  # laid out again
    assert clipped(win) == []
    assert scroll.horizontalScrollBar().maximum() == 0 and not scroll.horizontalScrollBar().isVisible()
    assert scroll.horizontalScrollBar().value() == 0
    assert scroll.verticalScrollBar().maximum() > 0  # the form is taller than the window: it scrolls down
    shown = [w for w in panel.findChildren(QWidget) if w.isVisibleTo(panel)]
    assert panel.save_template in shown and panel.prompt in shown
    for button in (panel.generate, panel.generate_one):  # under the scroll area: always in view
        assert button.isVisible() and button.width() >= button.minimumSizeHint().width()
        corner = button.mapTo(win, QPoint(button.width(), button.height()))
        assert corner.x() <= win.width() and corner.y() <= win.height()


@pytest.mark.parametrize("size", [(1180, 760), (1600, 1000)])
def test_the_panel_fits_its_pane_and_a_language_switch_keeps_it_so(qtbot, window, size):
    window.resize(*size)
    assert_fits(qtbot, window)
    other = "en" if window.settings.language.startswith("zh") else "zh_CN"
    window.language_requested.emit(other)
    qtbot.waitUntil(lambda: window.poster.language == other)
    assert_fits(qtbot, window)


def wheel(widget: QWidget, steps: int = -1) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_form_unless_a_box_has_focus(qtbot, window):
    panel, bar = window.poster, scroll_of(window).verticalScrollBar()
    window.resize(1180, 760)
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    for box in (panel.format, panel.layout_box):  # (the variants' count is outside the scrolling form now)
        before = box.currentIndex()
        bar.setValue(0 if box is panel.format else bar.maximum() // 2)
        start = bar.value()
        wheel(box)
        assert box.currentIndex() == before
        assert bar.value() > start  # the form scrolled down instead
    box = panel.format
    window.activateWindow()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    start = bar.value()
    wheel(box)
    assert box.currentIndex() == 1 and bar.value() == start  # a focused box takes the wheel


def test_the_template_shown_is_the_template_applied(qtbot, window):
    panel = window.poster
    lang = "zh" if panel.language.startswith("zh") else "en"
    assert panel.template.currentIndex() == 0 and panel.template.currentData() is None  # "choose a template"
    assert panel.spec() == PosterSpec(language=panel.spec().language)  # and no template's fields
    for i, template in enumerate(panel.templates):
        panel.template.setCurrentIndex(i + 1)  # what a click in the list does
        panel.template.activated.emit(i + 1)
        assert panel.template.currentData() == template.id
        assert panel.template.currentText().startswith(template.name(lang))
        assert panel.spec() == template.spec(lang)
    panel.set_spec(PosterSpec(headline="从历史恢复"))  # restored from history: not a template
    assert panel.template.currentData() is None
    panel.apply_template(2)
    other = "en" if lang == "zh" else "zh"
    window.language_requested.emit("en" if lang == "zh" else "zh_CN")
    qtbot.waitUntil(lambda: not panel.language.startswith(lang))
    # still shown, renamed, and its untouched fields now in the new language
    assert panel.template.currentData() == panel.templates[2].id
    assert panel.template.currentText().startswith(panel.templates[2].name(other))
    assert panel.spec() == panel.templates[2].spec(other)
    panel.headline.setText("我改过的标题")
    window.language_requested.emit("zh_CN" if lang == "zh" else "en")
    qtbot.waitUntil(lambda: panel.language.startswith(lang))
    assert panel.headline.text() == "我改过的标题"  # edited fields are never replaced


def test_the_token_count_is_live_exact_and_guards_generate(qtbot, window):
    from transformers import AutoTokenizer

    from zimage_desktop.engine.prompts import PromptEncoder

    panel = window.poster
    qtbot.waitUntil(lambda: panel.tokens.counter is not None, timeout=10000)
    folder = window.settings.models_path(window.paths) / "configs" / "z-image-turbo" / "tokenizer"
    engine = PromptEncoder(AutoTokenizer.from_pretrained(str(folder), local_files_only=True), None, "tiny")
    template = engine.token_count("")  # the chat template's share is not the user's
    room = str(512 - template)
    panel.apply_template(0)
    first = panel.token_count.text()
    assert first.startswith(f"{engine.token_count(panel.prompt.toPlainText()) - template} / {room}")
    panel.headline.setText(panel.headline.text() + " 再加几个字 and a few words")
    assert panel.token_count.text() != first
    assert panel.token_count.text().startswith(f"{engine.token_count(panel.prompt.toPlainText()) - template} / {room}")
    assert room not in panel.warnings.text()
    requests = []
    panel.generate_requested.connect(requests.append)
    panel.body.setPlainText("\n".join(f"第{i}行：春季新品全场优惠 spring offers" for i in range(40)))
    assert engine.token_count(panel.prompt.toPlainText()) > 512
    assert room in panel.warnings.text() and panel.warnings.isVisibleTo(panel)
    assert "c0392b" in panel.token_count.styleSheet()
    panel.generate.click()
    assert requests == [] and room in window.status.text()  # refused before anything is queued
    from zimage_desktop.ui.translations import Translations

    Translations.for_app(QApplication.instance()).apply("zh_CN")  # the refusal is said again in Chinese
    try:
        qtbot.waitUntil(lambda: room in window.status.text() and "Z-Image" in window.status.text()
                        and "tokens" not in window.status.text(), timeout=5000)
    finally:
        Translations.for_app(QApplication.instance()).apply("en")
    panel.body.setPlainText("第一行")
    assert room not in panel.warnings.text() and panel.token_count.styleSheet() == ""
    panel.generate.click()
    assert len(requests) == 1


def test_without_models_the_count_is_an_estimate_and_generate_asks(qtbot, tmp_path):
    panel = PosterPanel(tmp_path / "templates", "en")
    qtbot.addWidget(panel)
    panel.tokens.models_dir = lambda: tmp_path / "no-models"
    panel.show()
    panel.apply_template(0)
    assert panel.token_count.text().startswith("≈")
    requests, window_status = [], []
    panel.generate_requested.connect(requests.append)
    panel.status.connect(window_status.append)
    panel.body.setPlainText("\n".join(f"第{i}行：春季新品全场优惠" for i in range(25)))
    assert str(panel.tokens.typed("")[1]) in panel.warnings.text()  # the room the template leaves
    for answer, queued in ((QMessageBox.StandardButton.No, 0), (QMessageBox.StandardButton.Yes, 1)):
        panel.generate.click()
        box = panel.findChild(QMessageBox, "posterLongPromptBox")
        qtbot.waitUntil(lambda b=box: b is not None and b.isVisible())
        box.button(answer).click()
        qtbot.waitUntil(lambda: panel.findChild(QMessageBox, "posterLongPromptBox") is None)
        assert len(requests) == queued, window_status
