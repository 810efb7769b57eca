"""In Simplified Chinese, no window or dialog shows an English word.

The test opens every window and dialog with the language set to zh_CN, collects what a person can
read (labels, buttons, group titles, window titles, tabs, combo items, placeholders, tooltips, menus,
table headers, message boxes, the status line, the viewer's details) and fails on any English word
outside ``ALLOWED`` (proper names, units, key names) and the text the user typed.

To cover a new window or dialog, add a function to ``SCENES``: it gets the main window (already
holding one generated image) and returns the widgets to read.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Callable

import pytest
from PySide6.QtWidgets import (
    QAbstractButton, QComboBox, QDockWidget, QGroupBox, QLabel, QLineEdit, QMainWindow, QMenu, QMessageBox,
    QPlainTextEdit, QTableWidget, QTabWidget, QTextEdit, QWidget,
)

from zimage_desktop.app import run_app

# Names and units that stay as they are in Chinese text (compared case-insensitively).
ALLOWED = {
    "z-image", "turbo", "gguf", "fp8", "bf16", "hugging", "face", "modelscope", "comfyui", "qwen3", "vae", "cpu",
    "gpu", "cuda", "nvidia", "apple", "mps", "mb", "gb", "gib", "px", "ctrl", "esc", "enter", "shift", "alt", "del", "flux",
    "flux.1", "euler", "english", "json", "png", "https", "http", "sha256", "a1111", "ram", "vram", "tongyi-mai",
    "safetensors", "zimage-desktop", "ae", "ok", "q8_0", "q6_k", "q4_k", "q3_k", "k-quant", "ui", "llama.cpp",
    "z-image-turbo", "diffusers", "lora", "loras",  # the LoRA folder's name, as in ComfyUI
    "res", "multistep", "simple",  # ComfyUI's sampler and schedule names, as users meet them there
    "controlnet", "canny", "z-image-turbo-fun-controlnet-union",  # the control add-on and the edge detector
    "noto", "sans", "serif", "mono",  # the system's CJK font families (glyph control), names as installed
    "esrgan", "lanczos",  # the upscaler family and the resampling filter, names as ComfyUI shows them
}
PROMPT = "一只红猫 a red cat"  # what the user typed: their words may be English


def english_words(text: str) -> list[str]:
    """The English words in ``text`` that are not names, units, paths, file names or typed prompts."""
    text = text.replace(PROMPT, " ")
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths and URLs
    text = re.sub(r"\S+\.(png|jpg|json|safetensors|gguf|yaml|txt|pth)\b", " ", text, flags=re.I)  # file names
    text = re.sub(r"%\d|%n", " ", text)
    text = re.sub(r"--[\w-]+|\b\w+_\w+\b|\b[\w-]+\.(co|com|cn|io|org)\b", " ", text)  # options, variables, hosts
    words = re.findall(r"[A-Za-z][A-Za-z0-9_.'’-]*[A-Za-z0-9]|[A-Za-z]{2,}", text)
    return [w for w in words if w.lower().strip(".") not in ALLOWED and not re.search(r"\d", w)
            and not re.fullmatch(r"[A-Z]{1,3}", w)]  # single letters and short codes (e.g. "A4", "Q", "K")


def texts_of(widget: QWidget) -> list[tuple[str, str]]:
    """(where, text) for everything a person can read in ``widget`` and its children."""
    out: list[tuple[str, str]] = []
    for w in [widget, *widget.findChildren(QWidget)]:
        where = f"{type(w).__name__}#{w.objectName() or '?'}"
        if w.isWindow() or isinstance(w, QDockWidget):
            out.append((where + ".windowTitle", w.windowTitle()))
        out.append((where + ".toolTip", w.toolTip()))
        if isinstance(w, QLabel):
            out.append((where, w.text()))
        if isinstance(w, QAbstractButton):
            out.append((where, w.text()))
        if isinstance(w, QGroupBox):
            out.append((where, w.title()))
        if isinstance(w, QTabWidget):
            out += [(f"{where}.tab{i}", w.tabText(i)) for i in range(w.count())]
        if isinstance(w, QComboBox):
            out += [(f"{where}.item{i}", w.itemText(i)) for i in range(w.count())]
            out += [(f"{where}.itemToolTip{i}", w.itemData(i, 3) or "") for i in range(w.count())]  # ToolTipRole
        if isinstance(w, (QLineEdit, QPlainTextEdit, QTextEdit)):
            out.append((where + ".placeholder", w.placeholderText()))
        if isinstance(w, QPlainTextEdit) and w.isReadOnly():
            out.append((where, w.toPlainText()))
        if isinstance(w, QTableWidget):
            for i in range(w.columnCount()):
                item = w.horizontalHeaderItem(i)
                out.append((f"{where}.header{i}", item.text() if item else ""))
            for r in range(w.rowCount()):
                for c in range(w.columnCount()):
                    item = w.item(r, c)
                    out.append((f"{where}[{r},{c}]", item.text() if item else ""))
        if isinstance(w, QMessageBox):
            out += [(where + ".text", w.text()), (where + ".informative", w.informativeText())]
        if isinstance(w, QMenu):
            out.append((where + ".title", w.title()))
        for action in w.actions():
            out += [(f"{where}>action", action.text()), (f"{where}>action.toolTip", action.toolTip())]
    return out


def _main_window(win: QMainWindow) -> list[QWidget]:
    win.mode_tabs.setCurrentIndex(1)
    win.mode_tabs.setCurrentIndex(0)
    return [win, *win.menuBar().findChildren(QMenu)]


def _model_manager(win) -> list[QWidget]:
    win.open_model_manager()
    return [win._model_dialog]


def _settings(win) -> list[QWidget]:
    from zimage_desktop.ui.settings_dialog import SettingsDialog

    return [SettingsDialog(win.paths, win.settings, win.machine, win)]


def _engines(win) -> list[QWidget]:
    """Settings ▸ Engines with a server selected (its fields, buttons and the token-storage note)."""
    from zimage_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(win.paths, win.settings, win.machine, win)
    dialog.tabs.setCurrentWidget(dialog.engines)
    dialog.engines.add.click()
    return [dialog]


def _viewer(win) -> list[QWidget]:
    gallery = win.gallery
    gallery.view.setCurrentIndex(gallery.model.index(0))
    gallery.open_viewer()
    return [gallery.viewer]


def _error_box(win) -> list[QWidget]:
    from zimage_desktop.engine.request import GenerationRequest
    from zimage_desktop.errors import BadInputError, OutOfMemoryError
    from zimage_desktop.ui.worker import failure

    with pytest.raises(BadInputError) as caught:
        GenerationRequest(prompt="  ")
    win.show_error(failure(caught.value))
    win.show_error(failure(OutOfMemoryError(caught.value.message, "8gb")))
    return [box for box in win.findChildren(QMessageBox) if box.objectName() == "errorBox"]


def _recall_fields(win) -> list[QWidget]:
    from zimage_desktop.engine.request import LoraRef
    from zimage_desktop.history.recall import field_label
    from zimage_desktop.messages import joined, msg
    from zimage_desktop.ui.recall_fields import RecallFieldsDialog

    note = msg("metadata.partial_recall", "No prompt was found; the {fields} found were taken and your prompt was kept.",
               fields=joined([field_label("seed"), field_label("size")], ", "))
    values = {"prompt": PROMPT, "seed": 7, "steps": 9, "width": 1024, "height": 1024, "sampler": "euler",
              "scheduler": "simple", "loras": (LoraRef("细节", 0.8),)}
    dialog = RecallFieldsDialog("x.png", frozenset(values) | {"size", "loras"}, values, (note,), win)
    dialog.show()
    return [dialog]


def _enhance_panel(win) -> list[QWidget]:
    win.enhance_panel.start(PROMPT)
    win.enhance_panel.show()
    return [win.enhance_panel]


def _gallery_menu(win) -> list[QWidget]:
    win.gallery.view.setCurrentIndex(win.gallery.model.index(0))
    return [win.gallery.menu(win)]


def _first_run(win) -> list[QWidget]:
    """With a models folder that cannot generate: the main button and the status say what to get.
    (The readiness is set directly: changing the settings' folder would reload the worker, whose
    late events would then race the next scene's status line.)"""
    import tempfile

    from zimage_desktop.models.readiness import check_models

    ready = win.readiness
    win.readiness = check_models(Path(tempfile.mkdtemp()))
    try:
        win._show_main_action()
        win.generate()
        return [win.generate_button, _frozen_label(win.status.text()), _frozen_label(win.generate_button.toolTip())]
    finally:
        win.readiness = ready
        win._show_main_action()


def _guidance_fields(win) -> list[QWidget]:
    """The negative prompt and CFG fields as Z-Image (the base model) shows them."""
    from zimage_desktop.engine.architectures import Z_IMAGE_BASE

    win.form.guidance.set_model(Z_IMAGE_BASE)  # fields only: the window's steps stay as they are
    return [win.form.guidance]


def _edit_panel(win) -> list[QWidget]:
    """The Edit tab on the generated image, with a poster's "Fix the text" shown, in every mode."""
    from PySide6.QtGui import QImage

    record = win.gallery.model.rows[0]
    win.edit.edit_record(record)
    win.edit.panel.text_group.show()
    for mode in ("inpaint", "outpaint", "upscale", "img2img"):
        win.edit.panel.set_mode(mode)
    win.edit.panel.set_mode("inpaint")
    win.edit.open_image(QImage(record.path))  # the status line says what it opened
    win.edit.submit()  # an empty mask: one sentence in the status line
    return [win.edit.page, win.canvas, win.status]


def _frozen_label(text: str) -> QWidget:
    from PySide6.QtWidgets import QLabel

    return QLabel(text)


def _progress(win) -> list[QWidget]:
    """Every stage a running job's status line and queue bar can name, and the cancelling one."""
    from zimage_desktop.ui.progress_text import RunProgress

    run = RunProgress()
    run.image_count, run.total, run.eta_s = 3, 8, 125.0
    texts = []
    for stage in ("starting", "loading", "encoding", "step", "decoding", "saving"):
        run.stage, run.step = stage, 4
        texts.append(run.text())
    run.cancelling = True
    texts.append(run.text())
    return [_frozen_label(text) for text in texts]


def _empty_history(win) -> list[QWidget]:
    """The history's empty states: no match for a search, and (filters only) no image."""
    gallery = win.gallery
    labels = []
    for query in ("不存在的词", ""):
        gallery.search.setText(query)
        if not query:
            gallery.fav_only.setChecked(True)
        gallery._apply_search()
        labels.append(_frozen_label(gallery.empty.text()))
    gallery.fav_only.setChecked(False)
    gallery._apply_search()
    return labels


SCENES: dict[str, Callable[[QMainWindow], list[QWidget]]] = {
    "main window": _main_window, "model manager": _model_manager, "settings": _settings, "engines": _engines,
    "viewer": _viewer,
    "error box": _error_box, "enhance panel": _enhance_panel, "gallery menu": _gallery_menu, "first run": _first_run,
    "edit panel": _edit_panel,
    "progress": _progress, "empty history": _empty_history, "recall fields": _recall_fields,
    "guidance fields": _guidance_fields,
}


@pytest.fixture(scope="module")
def zh_window(tiny_models, tmp_path_factory, qapp):
    data = tmp_path_factory.mktemp("zh") / "data"
    data.mkdir()
    shutil.copytree(tiny_models.comfy, data / "models")  # safetensors: loads and runs faster on the CPU than GGUF
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "zh_CN"}))
    win = run_app(str(data), exec_loop=False)
    events = []
    win.worker.worker_event.connect(events.append)
    yield win, events
    win.close()
    from zimage_desktop.ui.translations import Translations

    Translations.for_app(qapp).apply("en")  # the next tests start in English


@pytest.fixture(scope="module")
def zh_generated(zh_window):
    from PySide6.QtTest import QTest

    win, events = zh_window

    def wait_for(kind: str) -> None:
        for _ in range(600):
            if any(e.kind == kind for e in events):
                return
            QTest.qWait(100)
        raise AssertionError(f"no {kind} event: {[(e.kind, getattr(e, 'message', '')) for e in events]}")

    wait_for("loaded")
    win.prompt.setPlainText(PROMPT)
    win.size_combo.select_custom()
    win.width_spin.setValue(256)
    win.height_spin.setValue(256)
    win.steps_spin.setValue(2)
    win.generate()
    wait_for("finished")
    QTest.qWait(200)  # the gallery's refresh
    return win


@pytest.mark.parametrize("scene", list(SCENES))
def test_no_english_in_chinese(zh_generated, qtbot, scene):
    widgets = SCENES[scene](zh_generated)
    assert widgets
    qtbot.wait(50)
    found = [(where, text) for w in widgets for where, text in texts_of(w) if english_words(text)]
    assert not found, "\n".join(f"{where}: {text!r} -> {english_words(text)}" for where, text in found)


def test_status_line_says_it_again_after_a_live_switch(zh_generated, qtbot, qapp):
    from zimage_desktop.errors_os import BUSY
    from zimage_desktop.ui.translations import Translations
    from zimage_desktop.ui.worker import Failed, JobCancelled

    win = zh_generated
    win.show_error(Failed(message=BUSY))  # an engine message
    assert win.status.text() == "数据库正被另一个程序使用"
    Translations.for_app(qapp).apply("en")
    try:
        qtbot.waitUntil(lambda: win.status.text() == "another program is using the database", timeout=5000)
        win._on_cancelled(JobCancelled())  # a UI text
        assert win.status.text() == "Cancelled."
    finally:
        Translations.for_app(qapp).apply("zh_CN")
    qtbot.waitUntil(lambda: win.status.text() == "已取消。", timeout=5000)


def test_follow_the_system_on_a_chinese_system_gives_chinese_posters(qtbot, qapp, tmp_path, tiny_models, monkeypatch):
    from zimage_desktop.ui.translations import Translations, current_language

    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(tiny_models.comfy, data / "models")  # safetensors: loads and runs faster on the CPU than GGUF
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "system"}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    try:
        assert current_language() == "zh_CN" and win.poster.language == "zh_CN"
        poster = win.poster
        cjk = re.compile(r"[\u4e00-\u9fff]")
        for combo in (poster.template, poster.format, poster.style_box, poster.layout_box, poster.font_box):
            assert combo.count() and all(cjk.search(combo.itemText(i)) for i in range(combo.count())), combo.objectName()
        for index in range(poster.template.count()):
            poster.apply_template(index)
            assert poster.describe_in.currentData() == "zh", poster.template.itemText(index)
            assert cjk.search(poster.headline.text() + poster.scene.toPlainText())
    finally:
        win.close()
        Translations.for_app(qapp).apply("en")


def test_no_english_in_chinese_after_a_live_switch_to_english_and_back(zh_generated, qtbot):
    """What was said in English while the UI was English is said again in Chinese after the switch back."""
    win = zh_generated

    def switch(language: str) -> None:
        win.language_requested.emit(language)
        qtbot.waitUntil(lambda: win.poster.language == language, timeout=5000)
        qtbot.wait(100)  # the LanguageChange events

    switch("en")
    win.enhance_panel.start(PROMPT)  # notes and warnings first said in English
    win.enhance_panel.finish("改写后的提示词", cancelled=True, restored=("新春特惠",))
    win.poster.headline.setText("一个非常非常长的标题文字会让海报上的字更难以正确渲染出来的很长的标题")
    assert "Stopped early" in win.enhance_panel.note.text() and win.poster.warnings.text()
    switch("zh_CN")
    for name, scene in SCENES.items():
        widgets = scene(win)
        qtbot.wait(50)
        found = [(where, text) for w in widgets for where, text in texts_of(w) if english_words(text)]
        assert not found, name + ":\n" + "\n".join(f"{where}: {text!r} -> {english_words(text)}" for where, text in found)
