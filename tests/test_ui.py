"""The desktop window on the tiny model, offscreen (pytest-qt)."""

import json
import os
import time

from PySide6.QtCore import QTimer

from zimage_desktop.app import run_app


def use_size(win, width, height):
    win.size_combo.select_custom()  # custom
    win.width_spin.setValue(width)
    win.height_spin.setValue(height)


def kinds(win, job=None):
    return [e.kind for e in win.events if job is None or e.job_id == job]


def test_window_appears_with_prompt_focus(window):
    assert window.isVisible()
    assert window.focusWidget() is window.prompt
    for name in ("promptEdit", "generateButton", "cancelButton", "previewView", "seedSpin", "stepsSpin", "sizeCombo",
                 "countSpin", "modelManagerButton", "statusLabel"):
        assert window.findChild(object, name) is not None, name


def test_type_and_generate_with_previews(qtbot, window):
    qtbot.keyClicks(window.prompt, "a red cat ")
    window.prompt.insertPlainText("红猫")  # what an input method commits (QTest cannot type CJK keys)
    use_size(window, 256, 256)
    window.seed_random.setChecked(False)
    window.seed_spin.setValue(42)
    qtbot.mouseClick(window.generate_button, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "finished" in kinds(window), timeout=30000)
    steps = [e for e in window.events if e.kind == "step"]
    assert [e.step for e in steps] == list(range(1, 9))
    previews = [e.preview for e in steps if e.preview is not None]
    assert previews and all((p.width(), p.height()) == (32, 32) for p in previews)
    image = next(e for e in window.events if e.kind == "image")
    assert (image.image.width(), image.image.height()) == (256, 256) and image.seed == 42
    assert image.path and __import__("pathlib").Path(image.path).exists()
    assert window.preview.image is image.image
    assert "seed 42" in window.status.text()


def test_ctrl_enter_generates_and_esc_cancels(qtbot, window):
    from PySide6.QtCore import Qt

    window.prompt.setPlainText("a slow one")
    use_size(window, 1024, 1024)
    window.count_spin.setValue(3)
    qtbot.keyClick(window.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "step" in kinds(window), timeout=30000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: "cancelled" in kinds(window), timeout=30000)
    assert "image" not in kinds(window) and window.status.text() == "Cancelled."


def test_the_prompt_count_is_exact_with_the_models_tokenizer(qtbot, window):
    from transformers import AutoTokenizer

    from zimage_desktop.engine.prompts import PromptEncoder

    folder = window.settings.models_path(window.paths) / "configs" / "z-image-turbo" / "tokenizer"
    engine = PromptEncoder(AutoTokenizer.from_pretrained(str(folder), local_files_only=True), None, "tiny")
    qtbot.waitUntil(lambda: window.form.tokens.counter is not None, timeout=10000)
    window.prompt.setPlainText("海报，标题文字“新春特惠”，金色粗体 with a gold headline")
    label = window.findChild(type(window.form.count_label), "tokenCount").text()
    template = engine.token_count("")  # the chat template's tokens are not what the user typed
    typed = engine.token_count(window.prompt.toPlainText()) - template
    assert f" · {typed} / {512 - template} " in label and "≈" not in label
    window.prompt.setPlainText("")
    assert " · 0 / " in window.findChild(type(window.form.count_label), "tokenCount").text()


def test_queue_of_three_with_one_removed(qtbot, window):
    window.prompt.setPlainText("queued")
    use_size(window, 1024, 1024)
    for _ in range(3):
        window.generate()
    qtbot.waitUntil(lambda: window.queue_list.count() == 2, timeout=30000)  # first one is running
    window.queue_list.setCurrentRow(1)
    window.queue_remove.click()
    qtbot.waitUntil(lambda: window.queue_list.count() == 1, timeout=30000)
    qtbot.waitUntil(lambda: kinds(window).count("finished") == 2 and window.queue_list.count() == 0, timeout=60000)
    started = [e.job_id for e in window.events if e.kind == "started"]
    assert started == [1, 2]


def test_language_switch_changes_visible_texts(qtbot, window):
    assert window.generate_button.text().startswith("Generate")
    window.language_requested.emit("zh_CN")
    qtbot.waitUntil(lambda: window.generate_button.text().startswith("生成"), timeout=30000)
    assert window.labels["seed"].text() == "种子" and window.windowTitle() == "Z-Image 桌面版"
    window.language_requested.emit("en")
    qtbot.waitUntil(lambda: window.generate_button.text().startswith("Generate"), timeout=30000)


def test_bad_custom_size_shows_the_note(qtbot, window):
    use_size(window, 1000, 1030)
    window.width_spin.editingFinished.emit()
    assert (window.width_spin.value(), window.height_spin.value()) == (992, 1024)
    assert "992×1024" in window.findChild(object, "sizeNote").text()


def test_ui_thread_is_never_blocked_during_generation(qtbot, window):
    """The GUI thread never works for long between two timer ticks. Its own CPU time is what is
    measured (a busy machine may deschedule it, which is no fault of ours); the wall-clock gap only
    has to stay under a second (nothing waits on the worker)."""
    window.prompt.setPlainText("latency probe")
    use_size(window, 1024, 1024)
    gaps, busy, last = [], [], [time.perf_counter(), time.thread_time()]

    def tick():
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append(now - last[0])
        busy.append(cpu - last[1])
        last[:] = [now, cpu]

    probe = QTimer()
    probe.timeout.connect(tick)
    probe.start(10)
    window.generate()
    qtbot.waitUntil(lambda: "finished" in kinds(window), timeout=60000)
    probe.stop()
    assert len(gaps) > 50
    assert max(busy[5:]) < 0.100, f"the GUI thread worked {max(busy[5:]) * 1000:.0f} ms without a break"
    assert max(gaps[5:]) < 1.0, f"longest event-loop stall {max(gaps[5:]) * 1000:.0f} ms"


def test_closing_during_a_run_exits_quickly(qtbot, window):
    window.prompt.setPlainText("closing")
    use_size(window, 1024, 1024)
    window.count_spin.setValue(4)
    window.generate()
    qtbot.waitUntil(lambda: "step" in kinds(window), timeout=30000)
    started = time.perf_counter()
    window.close()
    assert window.worker.wait(2000)
    assert time.perf_counter() - started < 2.0


def test_first_run_opens_the_model_manager_with_the_recommendation(qtbot, tmp_path):
    data = tmp_path / "fresh"
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: getattr(win, "_model_dialog", None) is not None and win._model_dialog.isVisible(),
                    timeout=20000)
    dialog = win._model_dialog
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)  # the worker thread probes the hardware
    checked = dialog.selected_components()
    assert set(checked) == set(dialog.plan.needs)
    assert "GiB" in dialog.explanation.text() and dialog.plan.profile in dialog.explanation.text()
    win.close()


def _generate(qtbot, window, prompt, seed):
    window.prompt.setPlainText(prompt)
    use_size(window, 256, 256)
    window.seed_random.setChecked(False)
    window.seed_spin.setValue(seed)
    before = kinds(window).count("finished")
    window.generate()
    qtbot.waitUntil(lambda: kinds(window).count("finished") == before + 1, timeout=30000)
    return [e for e in window.events if e.kind == "image"][-1]


def _select_first(window):
    view = window.gallery.view
    view.setCurrentIndex(window.gallery.model.index(0))


def test_gallery_use_parameters_rerun_exactly_and_vary(qtbot, window):
    import numpy as np

    first = _generate(qtbot, window, "gallery 画廊 test", 321)
    assert window.gallery.model.rowCount() == 1
    window.prompt.setPlainText("something else")
    window.seed_spin.setValue(1)
    _select_first(window)
    window.gallery.commands["use"].trigger()
    assert window.prompt.toPlainText() == "gallery 画廊 test" and window.seed_spin.value() == 321
    assert (window.width_spin.value(), window.height_spin.value()) == (256, 256)
    _select_first(window)
    window.gallery.commands["rerun"].trigger()
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 2, timeout=30000)
    again = [e for e in window.events if e.kind == "image"][-1]
    pixels = lambda e: np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(e.path))  # noqa: E731
    assert np.array_equal(pixels(first), pixels(again))
    newest = window.gallery.model.rows[0]
    assert newest.parent_id == window.gallery.model.rows[1].id
    window.gallery.view.setCurrentIndex(window.gallery.model.index(0))
    window.gallery.commands["vary"].trigger()
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 3, timeout=30000)
    varied = window.gallery.model.rows[0]
    assert varied.prompt == "gallery 画廊 test" and varied.request.seed != 321
    assert [r.id for r in window.gallery.store.lineage(varied.id)][-2:] == [newest.id, varied.id]


def test_gallery_search_favourite_delete_and_undo(qtbot, window):
    from pathlib import Path

    _generate(qtbot, window, "红色灯笼 lanterns", 1)
    _generate(qtbot, window, "blue ocean waves", 2)
    window.gallery.search.setText("灯笼")
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 1, timeout=30000)
    assert window.gallery.model.rows[0].prompt == "红色灯笼 lanterns"
    window.gallery.search.setText("")
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 2, timeout=30000)
    _select_first(window)
    window.gallery.toggle_favourite()
    window.gallery.fav_only.setChecked(True)
    assert [r.prompt for r in window.gallery.model.rows] == ["blue ocean waves"]
    window.gallery.fav_only.setChecked(False)
    _select_first(window)
    doomed = window.gallery.model.rows[0]
    window.gallery.delete_selected()
    assert window.gallery.model.rowCount() == 1 and not Path(doomed.path).exists()
    window.gallery.undo_delete()
    assert window.gallery.model.rowCount() == 2 and Path(doomed.path).exists()
    assert window.gallery.model.rows[0].prompt == "blue ocean waves"


def _drop(qtbot, window, path):
    """Drop a file and wait for the thread that reads it to report back."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.dropped_read, timeout=5000):
        window.dropEvent(event)


def test_drag_and_drop_restores_each_metadata_flavour(qtbot, window, tmp_path):
    from PIL import Image, PngImagePlugin

    def png(name, **chunks):
        info = PngImagePlugin.PngInfo()
        for key, value in chunks.items():
            info.add_itxt(key, value)
        path = tmp_path / name
        Image.new("RGB", (8, 8)).save(path, pnginfo=info)
        return path

    a1111 = png("a1111.png", parameters="a fox in snow\nNegative prompt: ugly\nSteps: 20, Seed: 4242, Size: 1152x896")
    _drop(qtbot, window, a1111)
    assert window.prompt.toPlainText() == "a fox in snow" and window.seed_spin.value() == 4242
    assert (window.width_spin.value(), window.height_spin.value()) == (1152, 896) and window.steps_spin.value() == 20
    # The negative is kept (Turbo's fields are hidden; the engine says once that it has no effect).
    assert window.form.guidance.negative.toPlainText() == "ugly" and not window.form.guidance.isVisible()
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 55, "steps": 8, "positive": ["6", 0]}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "熊猫吃竹子"}},
             "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024}}}
    _drop(qtbot, window, png("comfy.png", prompt=json.dumps(graph)))
    assert window.prompt.toPlainText() == "熊猫吃竹子" and window.seed_spin.value() == 55
    _drop(qtbot, window, png("nothing.png"))
    assert window.prompt.toPlainText() == "熊猫吃竹子" and "no parameters" in window.status.text()


def test_viewer_export_edit_lineage_and_thumbnail_regeneration(qtbot, window, tmp_path):
    from pathlib import Path

    _generate(qtbot, window, "viewer one", 11)
    _generate(qtbot, window, "viewer two", 12)
    gallery = window.gallery
    _select_first(window)
    gallery.open_viewer()
    viewer = gallery.viewer
    assert "viewer two" in viewer.details.toPlainText() and "12" in viewer.details.toPlainText()
    viewer.next_button.click()
    assert "viewer one" in viewer.details.toPlainText() and viewer.row == 1
    viewer.close()
    gallery.view.selectAll()
    exported = gallery.export_selected(str(tmp_path / "export"))
    assert len(exported) == 2 and all(p.exists() for p in exported)
    from zimage_desktop.history.metadata import read_png_metadata

    assert {read_png_metadata(p).request.prompt for p in exported} == {"viewer one", "viewer two"}
    # "use parameters", change the size, generate: the new image is a child of the one used
    parent = gallery.model.rows[0]
    window.use_record(parent)
    use_size(window, 256, 384)
    window.generate()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 3, timeout=30000)
    child = gallery.model.rows[0]
    assert child.parent_id == parent.id and (child.request.width, child.request.height) == (256, 384)
    # a deleted thumbnail is made again when the gallery needs it (once the view's own load of it,
    # started when the image arrived, has finished: deleting under it would race with that load)
    qtbot.waitUntil(lambda: child.id not in gallery.model.pending, timeout=30000)
    Path(child.thumb_path).unlink()
    gallery.model.cache.clear()
    gallery.model.reload()
    gallery.model.data(gallery.model.index(0), __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: Path(child.thumb_path).exists(), timeout=30000)


def test_save_as_keeps_metadata_and_works_without_the_file(qtbot, window, tmp_path):
    from pathlib import Path

    from zimage_desktop.history.metadata import read_png_metadata

    _generate(qtbot, window, "save me", 5)
    window.save_as(str(tmp_path / "copy.png"))
    assert read_png_metadata(tmp_path / "copy.png").request.prompt == "save me"
    Path(window.history.last_path).unlink()  # e.g. the data folder could not be written: the image is still in memory
    window.save_as(str(tmp_path / "from-memory"))
    assert (tmp_path / "from-memory.png").exists()


def test_gallery_copy_and_import(qtbot, window, tmp_path):
    from PIL import Image, PngImagePlugin
    from PySide6.QtGui import QGuiApplication

    _generate(qtbot, window, "copy me", 3)
    _select_first(window)
    window.gallery.copy_selected()
    assert QGuiApplication.clipboard().image().width() == 256
    folder = tmp_path / "outside"
    folder.mkdir()
    info = PngImagePlugin.PngInfo()
    info.add_itxt("parameters", "imported castle\nSteps: 8, Seed: 77, Size: 512x512")
    Image.new("RGB", (32, 32)).save(folder / "a.png", pnginfo=info)
    assert window.gallery.import_folder(str(folder)) == 1
    assert window.gallery.model.rowCount() == 2 and "Imported 1" in window.status.text()


def test_unwritable_images_folder_keeps_the_image(qtbot, data_with_models, tmp_path):
    """The images folder cannot be created: the image is kept in the temp folder, the message says
    where, it stays on screen and can be saved elsewhere."""
    (data_with_models / "images").write_text("a file where the folder should be")
    win = run_app(str(data_with_models), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    win.events = events
    qtbot.waitUntil(lambda: any(e.kind == "loaded" for e in events), timeout=30000)
    win.prompt.setPlainText("nowhere to save")
    use_size(win, 256, 256)
    win.generate()
    qtbot.waitUntil(lambda: "finished" in kinds(win), timeout=30000)
    failed = [e.message for e in events if e.kind == "failed"]
    assert len(failed) == 1 and "Could not save the image" in failed[0] and f"kept at {win.history.last_path}." in failed[0]
    assert win.history.last_image is not None and os.path.isfile(win.history.last_path)
    os.unlink(win.history.last_path)  # the temp folder is shared
    win.save_as(str(tmp_path / "rescued.png"))
    assert (tmp_path / "rescued.png").exists()
    win.close()


def test_poster_panel_generates_variants_and_restores_from_history(qtbot, window):
    panel = window.findChild(object, "posterPanel")
    window.mode_tabs.setCurrentIndex(1)
    panel.apply_template(0)  # a built-in template fills every field
    panel.headline.setText("新春特惠")
    panel.subtitle.setText('全场 "5 折" 起')
    panel.body.setPlainText("第一行\n第二行")
    panel.format.setCurrentIndex(panel.format.findData("square_post"))
    composed = panel.prompt.toPlainText()
    assert '"新春特惠"' in composed and '"全场 “5 折” 起"' in composed and '"第二行"' in composed
    panel.headline.setText("龘龘")
    assert "龘" in panel.warnings.text()
    panel.headline.setText("新春特惠")
    panel.prompt.setPlainText(panel.prompt.toPlainText() + " 手工补充")  # the user edits the prompt
    panel.headline.setText("新春特惠!")  # field edits no longer overwrite the user's prompt
    assert panel.prompt.toPlainText().endswith("手工补充")
    request = panel.request(seed=500)
    assert (request.width, request.height, request.count) == (1024, 1024, 4)
    assert request.extra["poster"]["headline"] == "新春特惠!" and request.extra["poster_prompt_edited"]
    # Generate 4 variants on the tiny model, from a short edited prompt and small, to be quick.
    from dataclasses import replace

    panel.prompt.setPlainText('A poster, headline "新春特惠!" 手工补充')  # short: an edited prompt
    request = panel.request(seed=500)
    window.controller.submit(replace(request, width=256, height=256))
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 4 or "failed" in kinds(window), timeout=60000)
    assert "failed" not in kinds(window), [e.message for e in window.events if e.kind == "failed"]
    assert sorted(r.request.seed for r in window.gallery.model.rows) == [500, 501, 502, 503]
    # compare two variants side by side
    window.gallery.view.selectAll()
    window.gallery.compare_selected()
    assert "Select two" in window.status.text()
    model = window.gallery.model
    selection = window.gallery.view.selectionModel()
    selection.clearSelection()
    for row in (0, 1):
        selection.select(model.index(row), selection.SelectionFlag.Select)
    window.gallery.compare_selected()
    dialog = window.gallery.compare_dialog
    assert dialog.isVisible() and len(dialog.findChildren(type(window.preview))) == 2
    dialog.close()
    # restore the panel from history
    panel.set_spec(type(panel.spec())())  # clear it
    assert panel.headline.text() == ""
    window.mode_tabs.setCurrentIndex(0)
    window.use_record(window.gallery.model.rows[0])
    assert window.mode_tabs.currentIndex() == 1
    assert panel.headline.text() == "新春特惠!" and panel.body.toPlainText() == "第一行\n第二行"
    assert panel.prompt.toPlainText().endswith("手工补充")


def test_seed_control_holds_every_64_bit_seed_and_refuses_more(qtbot, window):
    from PySide6.QtGui import QValidator

    seed = window.seed_spin
    window.seed_random.setChecked(False)
    seed.setValue(2**64 - 1)
    assert seed.value() == 2**64 - 1 and seed.text() == str(2**64 - 1)
    validator = seed.validator()
    assert validator.validate(str(2**64), 0)[0] == QValidator.State.Invalid
    assert validator.validate("12a", 0)[0] == QValidator.State.Invalid
    assert validator.validate("", 0)[0] == QValidator.State.Intermediate
    seed.clear()
    qtbot.keyClicks(seed, "47447417949230x")  # the letter is refused as it is typed
    assert seed.text() == "47447417949230"
    window.prompt.setPlainText("a big seed")
    assert window.build_request().seed == 47447417949230
    from zimage_desktop.engine.request import GenerationRequest

    window.apply_request(GenerationRequest(prompt="restored", seed=2**64 - 2))
    assert window.seed_spin.value() == 2**64 - 2 and not window.seed_random.isChecked()


def test_dropped_comfyui_png_is_read_off_the_gui_thread_and_restores_a_64_bit_seed(qtbot, window, tmp_path):
    import threading

    from tests.test_recall import PANDA, comfy_png, ksampler_graph
    from zimage_desktop.history import metadata

    path = comfy_png(tmp_path / "comfy.png", ksampler_graph(seed=47447417949230, steps=9, width=1152, height=896))
    readers = []
    original = metadata.read_png_metadata

    def spy(p):
        readers.append(threading.current_thread())
        return original(p)

    metadata.read_png_metadata = spy
    try:
        _drop(qtbot, window, path)
    finally:
        metadata.read_png_metadata = original
    assert readers and readers[0] is not threading.main_thread()
    assert window.prompt.toPlainText() == PANDA
    assert window.seed_spin.value() == 47447417949230 and window.steps_spin.value() == 9
    assert (window.width_spin.value(), window.height_spin.value()) == (1152, 896)
    assert "restored" in window.status.text()


def test_sampler_and_schedule_are_restored_and_used(window):
    from zimage_desktop.engine.request import GenerationRequest

    window.apply_request(GenerationRequest(prompt="template", seed=3, sampler="res_multistep", scheduler="diffusers"))
    assert window.findChild(object, "samplerCombo").currentData() == "res_multistep"
    assert window.findChild(object, "scheduleCombo").currentData() == "diffusers"
    request = window.build_request()
    assert (request.sampler, request.scheduler) == ("res_multistep", "diffusers")
