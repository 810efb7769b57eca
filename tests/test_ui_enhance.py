"""The Enhance button in the window (tiny model, offscreen): stream, accept, discard, stop."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.test_ui import kinds, use_size  # noqa: F401  (window and data_with_models are fixtures in conftest)
from zimage_desktop.ui.controller import EnhanceJob, GenerationController
from zimage_desktop.ui.enhance_panel import added_spans


def _enhance(qtbot, window, idea: str):
    window.prompt.setPlainText(idea)
    qtbot.keyClick(window.prompt, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.enhance_panel.isVisible()
    qtbot.waitUntil(lambda: "enhance_done" in kinds(window), timeout=60000)
    return next(e for e in window.events if e.kind == "enhance_done")


def test_ctrl_e_streams_then_accept_keeps_both_prompts(qtbot, window):
    idea = 'a tea shop sign "春茶上市" at night'
    done = _enhance(qtbot, window, idea)
    pieces = [e.text for e in window.events if e.kind == "enhance_text" and e.job_id == done.job_id]
    assert pieces and done.idea == idea and not done.cancelled
    assert "“春茶上市”" in done.text or '"春茶上市"' in done.text
    assert window.enhance_panel.text() == done.text.strip()
    assert not window.enhance_panel.view.isReadOnly()  # the user may edit it before using it
    window.enhance_panel.view.setPlainText(done.text + " extra")  # a light edit
    qtbot.mouseClick(window.enhance_panel.accept_button, Qt.MouseButton.LeftButton)
    assert not window.enhance_panel.isVisible()
    assert window.prompt.toPlainText() == (done.text + " extra").strip()
    use_size(window, 256, 256)
    window.generate()
    qtbot.waitUntil(lambda: "finished" in kinds(window), timeout=60000)
    image = next(e for e in window.events if e.kind == "image")
    assert image.request.original_prompt == idea and image.request.prompt == (done.text + " extra").strip()
    from zimage_desktop.history.store import HistoryStore

    store = HistoryStore(window.paths.history_db)
    try:
        assert [r.request.original_prompt for r in store.search("tea shop")] == [idea]
    finally:
        store.close()


def test_discard_leaves_the_prompt_alone(qtbot, window):
    _enhance(qtbot, window, "a quiet harbour")
    qtbot.mouseClick(window.enhance_panel.discard_button, Qt.MouseButton.LeftButton)
    assert window.prompt.toPlainText() == "a quiet harbour"
    assert not window.enhance_panel.isVisible()
    assert window.enhancer.original_for(window.prompt.toPlainText()) == ""


def test_empty_prompt_asks_for_an_idea(qtbot, window):
    window.prompt.setPlainText("   ")
    qtbot.keyClick(window.prompt, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert "idea" in window.status.text()
    assert window.enhancer.job is None and not window.enhance_panel.isVisible()


def test_stop_ends_a_long_rewrite_early(qtbot, window):
    window.prompt.setPlainText("a mountain")
    window.enhancer.enhance()
    # a long answer on purpose: the stop must arrive while it is still being written
    window.controller.cancel_enhance()
    job = window.enhancer.job = window.controller.enhance("a mountain", seed=1, max_new_tokens=4096)
    qtbot.waitUntil(lambda: any(e.kind == "enhance_text" and e.job_id == job for e in window.events), timeout=60000)
    qtbot.mouseClick(window.enhance_panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(e.kind == "enhance_done" and e.job_id == job for e in window.events), timeout=60000)
    done = next(e for e in window.events if e.kind == "enhance_done" and e.job_id == job)
    assert done.cancelled and done.tokens < 4096
    assert "Stopped early" in window.enhance_panel.note.text()


def test_a_waiting_rewrite_goes_before_queued_images_and_can_be_dropped(qapp):
    from zimage_desktop.engine.request import GenerationRequest

    controller = GenerationController()
    controller.submit(GenerationRequest(prompt="a", seed=1))
    first = controller.enhance("idea", seed=2)
    assert isinstance(work := controller.next_work(), EnhanceJob) and work.id == first
    controller.enhance("another", seed=3)
    controller.cancel_enhance()
    assert controller.is_cancelled()  # the running rewrite stops …
    assert controller.next_work().request.prompt == "a"  # … the waiting one is gone, images go on
    assert not controller.is_cancelled()


def test_added_words_are_shaded_like_a_diff():
    rewrite = "A red fox sleeps in deep snow at dawn"
    spans = [rewrite[a:b] for a, b in added_spans("red fox in snow", rewrite)]
    assert spans == ["A", "sleeps", "deep", "at dawn"]
    assert [("海报，" "金色“新春”")[a:b] for a, b in added_spans("海报“新春”", "海报，金色“新春”")] == ["，金色"]


def test_enhance_texts_in_chinese(qtbot, window):
    window.language_requested.emit("zh_CN")
    qtbot.waitUntil(lambda: window.enhance_button.text().startswith("扩写"), timeout=30000)
    assert window.enhance_panel.accept_button.text() == "使用此提示词"
    window.language_requested.emit("en")
    qtbot.waitUntil(lambda: window.enhance_button.text().startswith("Enhance"), timeout=30000)


def test_poster_mode_enhances_the_scene_only(qtbot, window):
    window.mode_tabs.setCurrentIndex(1)
    poster = window.poster
    poster.headline.setText("新春特惠")
    poster.scene.setPlainText("a bakery counter")
    qtbot.keyClick(poster.scene, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # Ctrl+E on the poster tab
    assert poster.scene_panel.isVisible() and not window.enhance_panel.isVisible()
    qtbot.waitUntil(lambda: "enhance_done" in kinds(window), timeout=60000)
    done = next(e for e in window.events if e.kind == "enhance_done")
    assert done.idea == "a bakery counter"
    poster.scene_panel.view.setPlainText("A bakery counter with warm light")
    qtbot.mouseClick(poster.scene_panel.accept_button, Qt.MouseButton.LeftButton)
    assert poster.scene.toPlainText() == "A bakery counter with warm light"
    assert poster.headline.text() == "新春特惠" and window.prompt.toPlainText() == ""
    assert "warm light" in poster.prompt.toPlainText()  # the poster prompt is composed around the new scene
    assert "Scene" in window.status.text()
