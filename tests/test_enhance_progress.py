"""The enhancer panel (issue 29 item 14): honest progress while the rewrite is written (not "0 %" the
whole time), and a panel that leaves Size and Steps in view at 1180×760. Tiny model, offscreen."""

from PySide6.QtCore import QPoint, QRect

from zimage_desktop.ui.scroll_area import VerticalScrollArea


def test_progress_counts_the_tokens_written(qtbot, window):
    seen = []  # (tokens in the event, the panel's bar, the window's bar) after the window handled it

    def record(e):
        if e.kind == "enhance_text":
            panel = window.enhance_panel.progress
            seen.append((e.tokens, panel.value(), panel.maximum(), panel.isVisibleTo(window.enhance_panel),
                         window.progress.value(), window.progress.format()))
    window.worker.worker_event.connect(record)
    window.prompt.setPlainText("a lighthouse at dusk")
    window.enhancer.enhance()
    assert window.enhance_panel.progress.maximum() == 0  # busy until the first token: loading, reading
    qtbot.waitUntil(lambda: any(e.kind == "enhance_done" for e in window.events), timeout=60000)
    done = next(e for e in window.events if e.kind == "enhance_done")
    counts = [s[0] for s in seen]  # one step per token (a last half character may come once more at the end)
    assert counts == sorted(counts) and sorted(set(counts)) == list(range(1, done.tokens + 1))
    for tokens, value, maximum, visible, window_value, text in seen:
        assert value == tokens and maximum == 300 and visible
        assert window_value == tokens and "%p" not in text and str(tokens) in text
    assert not window.enhance_panel.progress.isVisibleTo(window.enhance_panel)  # done: the bar goes
    assert window.progress.maximum() == 1 and window.progress.value() == 0


def test_panel_leaves_size_and_steps_in_view(qtbot, window):
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    panel = window.enhance_panel
    panel.start("a cat")
    panel.finish("A long rewrite. " * 200, cancelled=False, restored=())
    qtbot.wait(50)
    scroll = window.form.parentWidget().parentWidget()
    assert isinstance(scroll, VerticalScrollArea)
    scroll.verticalScrollBar().setValue(0)
    qtbot.wait(50)
    viewport = scroll.viewport()
    area = QRect(QPoint(0, 0), viewport.size())
    for widget in (window.prompt, panel.accept_button, window.size_combo, window.steps_spin):
        top_left = widget.mapTo(viewport, QPoint(0, 0))
        assert area.contains(QRect(top_left, widget.size())), widget.objectName()
    assert panel.view.verticalScrollBar().maximum() > 0  # the rewrite scrolls in its box instead
