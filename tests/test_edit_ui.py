"""Editing in the window (issue 21): the mask editor driven by real mouse and key events, the outpaint
frame's handles and formats, "Fix the text", a dropped photo, and an inpaint on the tiny model whose
pixels outside the mask are the source's."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage

from zimage_desktop.app import run_app
from zimage_desktop.ui.outpaint_frame import Frame, frame_for_ratio, snap_side


def picture(width=256, height=256) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    for y in range(height):
        for x in range(width):
            image.setPixelColor(x, y, QColor(x % 256, y % 256, (x * y) % 256))
    return image


def at(win, x: float, y: float) -> QPoint:
    """The viewport position of image pixel (x, y) as the canvas shows it now."""
    view = win.preview
    rect = view.label.image_rect()
    scale = rect.width() / view.image.width()
    return view.label.mapTo(view.viewport(), QPointF(rect.left() + (x + 0.5) * scale,
                                                     rect.top() + (y + 0.5) * scale).toPoint())


def drag(qtbot, win, points, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier):
    viewport = win.preview.viewport()
    qtbot.mousePress(viewport, button, modifier, at(win, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(viewport, at(win, *point))
    qtbot.mouseRelease(viewport, button, modifier, at(win, *points[-1]))


def value(mask: QImage, x: int, y: int) -> int:
    return mask.pixelColor(x, y).red()


def open_for_inpaint(win, image=None):
    win.edit.open_image(image or picture())
    win.edit.panel.set_mode("inpaint")
    win.preview.set_zoom(None)
    return win.edit.mask


def test_brush_strokes_undo_redo_and_the_gallery_keeps_its_ctrl_z(qtbot, window):
    mask = open_for_inpaint(window)
    assert window.mode_tabs.currentWidget() is window.edit.page and window.preview.image is window.edit.work
    mask.set_size(16)
    drag(qtbot, window, [(40, 60), (120, 60), (200, 60)])
    assert value(mask.mask, 100, 60) == 255 and value(mask.mask, 100, 67) == 255
    assert value(mask.mask, 100, 80) == 0 and value(mask.mask, 20, 60) == 0
    bounds = mask.bounds()
    assert abs(bounds.left() - 32) <= 2 and abs(bounds.right() - 208) <= 2 and abs(bounds.top() - 52) <= 2
    drag(qtbot, window, [(60, 150), (60, 200)])  # a second stroke
    assert value(mask.mask, 60, 180) == 255
    assert window.focusWidget() is window.preview  # the click gave the canvas the keys
    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert value(mask.mask, 60, 180) == 0 and value(mask.mask, 100, 60) == 255
    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert mask.is_empty()
    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert value(mask.mask, 100, 60) == 255 and value(mask.mask, 60, 180) == 0
    # with the thumbnails focused, Ctrl+Z is the gallery's (undo delete), never a stroke
    # (an empty history shows its empty-state text instead of the thumbnails, so the gallery's search
    # field stands for "focus outside the canvas" here)
    target = window.gallery.view if window.gallery.view.isVisible() else window.gallery.search
    target.setFocus()
    assert window.focusWidget() is target
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert value(mask.mask, 100, 60) == 255
    # the eraser removes what it passes over, as one more undo step
    window.preview.setFocus()
    qtbot.keyClick(window.preview, Qt.Key.Key_X)
    assert mask.tool == "eraser" and window.edit.panel.tool_buttons["eraser"].isChecked()
    drag(qtbot, window, [(100, 40), (100, 80)])
    assert value(mask.mask, 100, 60) == 0 and value(mask.mask, 150, 60) == 255
    mask.undo_stack.undo()
    assert value(mask.mask, 100, 60) == 255


def test_brush_size_keys_rectangle_invert_clear_zoom_and_pan(qtbot, window):
    mask = open_for_inpaint(window)
    window.preview.setFocus()
    mask.set_size(40)
    qtbot.keyClick(window.preview, Qt.Key.Key_BracketRight)
    assert mask.size == 50 and window.edit.panel.brush_size.value() == 50
    qtbot.keyClick(window.preview, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window.preview, Qt.Key.Key_BracketLeft)
    assert mask.size == 32
    qtbot.keyClick(window.preview, Qt.Key.Key_R)
    drag(qtbot, window, [(30, 40), (90, 70), (130, 100)])
    assert mask.bounds() == QRect(QPoint(30, 40), QPoint(130, 100)) or \
        abs(mask.bounds().width() - 101) <= 2 and abs(mask.bounds().height() - 61) <= 2
    assert value(mask.mask, 80, 70) == 255 and value(mask.mask, 140, 70) == 0
    drag(qtbot, window, [(60, 50), (70, 60)], modifier=Qt.KeyboardModifier.AltModifier)  # Alt erases
    assert value(mask.mask, 65, 55) == 0 and value(mask.mask, 100, 90) == 255
    window.edit.panel.invert_button.click()
    assert value(mask.mask, 80, 90) == 0 and value(mask.mask, 200, 200) == 255 and value(mask.mask, 65, 55) == 255
    window.edit.panel.clear_button.click()
    assert mask.is_empty()
    window.edit.panel.undo_button.click()
    assert value(mask.mask, 200, 200) == 255
    window.edit.panel.undo_button.click()
    assert value(mask.mask, 200, 200) == 0 and value(mask.mask, 80, 90) == 255
    # zoomed in, a stroke still lands under the pointer; the middle button pans instead of painting
    window.edit.panel.clear_button.click()
    window.preview.set_zoom(4.0)
    window.preview.horizontalScrollBar().setValue(300)
    window.preview.verticalScrollBar().setValue(300)
    qtbot.keyClick(window.preview, Qt.Key.Key_B)
    mask.set_size(4)
    drag(qtbot, window, [(100, 100), (110, 100)])
    assert value(mask.mask, 105, 100) == 255 and value(mask.mask, 105, 104) == 0
    before = window.preview.horizontalScrollBar().value()
    painted = mask.bounds()
    viewport = window.preview.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(150, 200))
    qtbot.mouseMove(viewport, QPoint(200, 200))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(200, 200))
    assert window.preview.horizontalScrollBar().value() == before - 50 and mask.bounds() == painted
    window.edit.panel.overlay.setChecked(False)
    assert not mask.overlay_visible


def test_outpaint_formats_compute_the_sides():
    assert frame_for_ratio(1024, 1024, 16, 9) == Frame(1024, 1024, (400, 0, 400, 0), 1.0)
    # a 3:4 poster to a 16:9 banner: 2730 px would be too wide, so the poster is scaled to 0.75
    banner = frame_for_ratio(1152, 1536, 16, 9)
    assert banner == Frame(864, 1152, (592, 0, 592, 0), 0.75) and banner.result == (2048, 1152)
    square = frame_for_ratio(1152, 1536, 1, 1)
    assert square.result == (1536, 1536) and square.sides == (192, 0, 192, 0)
    tall = frame_for_ratio(1024, 1024, 9, 16)
    assert tall.result[0] == 1024 and tall.result[1] % 16 == 0 and abs(tall.result[1] / 1024 - 16 / 9) < 0.02
    snapped = snap_side(Frame(1000, 700), 2, 37)  # the right side that brings the width to a multiple of 16
    assert snapped.sides == (0, 0, 40, 0) and snapped.result[0] == 1040


def test_outpaint_handles_and_buttons_build_the_request(qtbot, window):
    window.edit.open_image(picture())
    panel = window.edit.panel
    panel.set_mode("outpaint")
    panel.prompt.setPlainText("a wider view of the pattern")
    window.preview.set_zoom(None)
    frame = window.edit.frame
    assert window.preview.image is frame.shown
    view = window.preview
    rect = view.label.image_rect()
    scale = rect.width() / view.image.width()
    edge = view.label.mapTo(view.viewport(), QPointF(rect.right(), rect.center().y()).toPoint())
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=edge)
    qtbot.mouseMove(view.viewport(), edge + QPoint(round(64 * scale), 0))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=edge + QPoint(round(64 * scale), 0))
    assert frame.frame.sides == (0, 0, 64, 0) and panel.side_spins[2].value() == 64
    panel.side_spins[1].setValue(30)  # typed: snapped so the height stays a multiple of 16
    assert frame.frame.sides == (0, 32, 64, 0) and window.preview.image.size() == QSize(320, 288)
    request = window.edit.request()
    assert request.mode == "outpaint" and request.outpaint == (0, 32, 64, 0)
    assert (request.width, request.height) == (320, 288) and Path(request.source).exists()
    panel.ratio_buttons[0].click()  # 16:9
    request = window.edit.request()
    assert request.outpaint == (104, 0, 104, 0) and (request.width, request.height) == (464, 256)  # 256·16/9 → 464
    assert "464×256" in panel.result_label.text()


def test_upscale_and_image_to_image_requests(window):
    window.edit.open_image(picture(256, 384))
    panel = window.edit.panel
    panel.set_mode("upscale")
    panel.strength.setValue(25)
    panel.prompt.setPlainText("a tiled pattern")
    request = window.edit.request()
    assert (request.mode, request.upscale, request.strength) == ("upscale", 2.0, 0.25)
    assert (request.width, request.height) == (512, 768)
    panel.scale_15.setChecked(True)
    assert (window.edit.request().width, window.edit.request().upscale) == (384, 1.5)
    panel.scale_target.setChecked(True)
    panel.target_width.setValue(320)
    assert (window.edit.request().width, window.edit.request().height) == (320, 480)
    panel.set_mode("img2img")
    request = window.edit.request()
    assert request.mode == "img2img" and request.strength == 0.6 and (request.width, request.height) == (256, 384)
    assert QImage(request.source).size() == QSize(256, 384)
    panel.set_mode("inpaint")  # an empty mask is one sentence, nothing queued
    window.edit.submit()
    assert "mask is empty" in window.status.text() and window.queue_list.count() == 0


def test_the_upscale_panel_picks_a_model_from_the_folder(window):
    folder = window.settings.models_path(window.paths) / "upscale_models"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("4x-UltraSharp.pth", "2x-Real.safetensors", "notes.txt"):
        (folder / name).write_bytes(b"x")
    window.edit.open_image(picture(256, 256))
    panel = window.edit.panel
    panel.prompt.setPlainText("a lake")
    panel.set_mode("upscale")
    combo = panel.findChild(type(panel.upscale_model), "editUpscaleModel")
    assert [combo.itemText(i) for i in range(combo.count())] == ["Lanczos (no model)", "2x-Real.safetensors",
                                                                  "4x-UltraSharp.pth"]
    assert window.edit.request().upscale_model == "2x-Real.safetensors"  # the first, as the CLI's default
    combo.setCurrentIndex(2)
    (folder / "1x-new.pth").write_bytes(b"x")
    panel.set_mode("img2img")
    panel.set_mode("upscale")  # the list is read again; the choice stays
    assert combo.count() == 4 and window.edit.request().upscale_model == "4x-UltraSharp.pth"
    combo.setCurrentIndex(0)
    assert window.edit.request().upscale_model == ""
    window.edit.recall(window.edit.request())
    assert combo.currentIndex() == 0


def test_dropped_photo_is_opened_upright_for_editing(qtbot, window, tmp_path):
    from PIL import Image
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown rotated 90°
    Image.new("RGB", (480, 320), (200, 30, 30)).save(photo, exif=exif)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    centre = window.canvas.mapTo(window, window.canvas.rect().center())
    event = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.edit.loaded, timeout=5000):
        window.dropEvent(event)
    assert window.edit.work is not None and window.edit.work.size() == QSize(320, 480)
    assert window.preview.image is window.edit.work and "photo.jpg" in window.edit.panel.source_label.text()


def test_fix_text_prompt_quotes_the_posters_own_words_in_both_languages():
    from zimage_desktop.poster.compose import PosterSpec
    from zimage_desktop.poster.fix_text import fix_text_prompt

    zh = PosterSpec(headline="新春特惠", subtitle='全场 "5 折" 起', colours="红金", language="zh")
    assert '主标题文字"新春特惠"' in fix_text_prompt(zh, "headline") and "红金配色" in fix_text_prompt(zh, "headline")
    assert '副标题文字"全场 “5 折” 起"' in fix_text_prompt(zh, "subtitle")
    en = PosterSpec(headline="Spring Sale", language="en", font="serif")
    text = fix_text_prompt(en, "headline")
    assert text.startswith('The headline "Spring Sale" on a flat vector illustration poster') and "classic serif" in text
    with pytest.raises(ValueError):
        fix_text_prompt(en, "subtitle")


def _make_poster(qtbot, window, prompt, seed, spec, size=256):
    from zimage_desktop.poster.compose import PosterSpec

    request = window.requests().new(prompt, width=size, height=size, seed=seed,
                                    extra={"poster": PosterSpec(**spec).to_dict()})
    before = len([e for e in window.events if e.kind == "finished"])
    window.controller.submit(request)
    qtbot.waitUntil(lambda: len([e for e in window.events if e.kind in ("finished", "failed")]) > before,
                    timeout=60000)
    assert "failed" not in [e.kind for e in window.events], [e.message for e in window.events if e.kind == "failed"]
    return window.gallery.model.rows[0]


def test_fix_the_text_on_a_poster_is_one_action(qtbot, window):
    record = _make_poster(qtbot, window, 'A poster, headline "新春特惠"', 7,
                          dict(headline="新春特惠", subtitle='全场 "5 折" 起', language="zh"))
    window.gallery.select_only(window.gallery.model.index(0))
    window.gallery.commands["edit"].trigger()  # the gallery's Edit (key E)
    edit, panel = window.edit, window.edit.panel
    assert edit.record.id == record.id and panel.text_group.isVisibleTo(panel)
    assert [panel.text_role.itemData(i)[0] for i in range(panel.text_role.count())] == ["headline", "subtitle"]
    panel.text_role.setCurrentIndex(1)
    panel.fix_button.click()  # nothing selected yet: the rectangle is ready and the user is told
    assert edit.mask.tool == "rectangle" and panel.current_mode() == "inpaint" and "rectangle" in window.status.text()
    queued = window.queue_list.count()
    drag(qtbot, window, [(40, 100), (216, 140)])
    request = edit.fix_text_request()
    assert request.mode == "inpaint" and request.only_masked and request.strength == 1.0
    assert '副标题文字"全场 “5 折” 起"' in request.prompt and request.source_entry == record.id
    assert request.extra["poster"]["subtitle"] == '全场 "5 折" 起' and request.extra["fix_text"] == "subtitle"
    mask = QImage(request.mask)
    assert mask.pixelColor(128, 120).red() == 255 and mask.pixelColor(128, 60).red() == 0
    source = QImage(request.source).convertToFormat(QImage.Format.Format_RGB888)
    assert source == QImage(record.path).convertToFormat(QImage.Format.Format_RGB888)
    assert queued == window.queue_list.count()


@pytest.fixture(params=["gguf"])
def kit_window(qtbot, tmp_path, tiny_models, request):
    """The window on one tiny kit (GGUF like the other window tests; "comfy" is the bf16 single files)."""
    import json
    import shutil

    data = tmp_path / "data-bf16"
    data.mkdir()
    shutil.copytree(getattr(tiny_models, request.param), data / "models")
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    win.events = []
    win.worker.worker_event.connect(win.events.append)
    qtbot.waitUntil(lambda: any(e.kind in ("loaded", "failed") for e in win.events), timeout=30000)
    yield win
    win.close()


def test_inpaint_from_the_window_keeps_every_pixel_outside_the_mask(qtbot, kit_window):
    import numpy as np
    from PIL import Image

    window = kit_window

    window.prompt.setPlainText("a red cat")
    window.size_combo.select_custom()
    window.width_spin.setValue(256)
    window.height_spin.setValue(256)
    window.seed_random.setChecked(False)
    window.seed_spin.setValue(5)
    window.generate()
    qtbot.waitUntil(lambda: window.gallery is not None and window.gallery.model.rowCount() == 1, timeout=60000)
    source = window.gallery.model.rows[0]
    qtbot.waitUntil(lambda: window.history.last_path == source.path, timeout=10000)
    window.canvas.edit_button.click()  # "Edit" on the canvas result
    edit, panel = window.edit, window.edit.panel
    assert edit.record is not None and edit.record.id == source.id
    panel.set_mode("inpaint")
    panel.prompt.setPlainText("a blue bird")
    panel.feather.setValue(4)
    window.preview.set_zoom(None)
    qtbot.keyClick(window.preview, Qt.Key.Key_R)
    drag(qtbot, window, [(96, 64), (176, 160)])
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 2 or "failed" in [e.kind for e in window.events],
                    timeout=60000)
    assert "failed" not in [e.kind for e in window.events], [e.message for e in window.events if e.kind == "failed"]
    made = window.gallery.model.rows[0]
    assert made.request.mode == "inpaint" and made.request.source_entry == source.id and made.parent_id == source.id
    before = np.asarray(Image.open(source.path).convert("RGB"), dtype=np.int16)
    after = np.asarray(Image.open(made.path).convert("RGB"), dtype=np.int16)
    mask = np.zeros(before.shape[:2], bool)
    mask[64 - 5:160 + 6, 96 - 5:176 + 6] = True  # the rectangle, grown by the feather (4 px) and one more
    assert after.shape == before.shape
    assert np.array_equal(after[~mask], before[~mask])  # outside: exactly the source's pixels
    assert np.abs(after[mask] - before[mask]).mean() > 1  # inside: redrawn
    window.gallery.select_only(window.gallery.model.index(0))
    window.gallery.open_viewer()
    assert f"from #{source.id}" in window.gallery.viewer.details.toPlainText()
    window.gallery.viewer.close()
    # "Re-run exactly" from the gallery: the history finds the source and the mask, the pixels are the same
    window.gallery.commands["rerun"].trigger()
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 3 or "failed" in [e.kind for e in window.events],
                    timeout=60000)
    assert "failed" not in [e.kind for e in window.events], [e.message for e in window.events if e.kind == "failed"]
    again = np.asarray(Image.open(window.gallery.model.rows[0].path).convert("RGB"), dtype=np.int16)
    assert np.array_equal(again, after)
    window.gallery.select_only(window.gallery.model.index(1))
    # the inpainted picture, extended to 16:9 with one click: the result has the size the frame shows
    window.gallery.commands["edit"].trigger()
    panel.set_mode("outpaint")
    panel.ratio_buttons[0].click()
    assert window.edit.frame.frame.result == (464, 256)
    panel.edit_button.click()
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 4 or "failed" in [e.kind for e in window.events],
                    timeout=60000)
    wide = window.gallery.model.rows[0]
    assert wide.request.outpaint == (104, 0, 104, 0) and Image.open(wide.path).size == (464, 256)
    inner = np.asarray(Image.open(wide.path).convert("RGB"), dtype=np.int16)[:, 104:360]
    assert np.abs(inner - after).mean() < 1  # the source sits where the frame showed it


def test_a_dropped_edited_png_fills_the_edit_tab_and_asks_for_its_source(qtbot, window, tmp_path):
    from PIL import Image
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    from zimage_desktop.engine.request import GenerationRequest
    from zimage_desktop.history.metadata import write_png

    made = GenerationRequest(prompt="a lighthouse at dusk", width=256, height=256, seed=9, mode="img2img",
                             source_sha256="ab" * 32, strength=0.4)
    path = tmp_path / "edited.png"
    write_png(path, Image.new("RGB", (256, 256)), made, {"name": "Z-Image-Turbo"})  # as the app saves it
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)  # beside the canvas: restore, not edit
    with qtbot.waitSignal(window.dropped_read, timeout=5000):
        window.dropEvent(event)
    panel = window.edit.panel
    assert window.mode_tabs.currentWidget() is window.edit.page and window.edit.work is None
    assert panel.current_mode() == "img2img" and panel.strength.value() == 40
    assert panel.prompt.toPlainText() == "a lighthouse at dusk" and "open its source image" in window.status.text()


def _run_and_wait(qtbot, window, rows: int):
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == rows or "failed" in [e.kind for e in window.events],
                    timeout=90000)
    assert "failed" not in [e.kind for e in window.events], [e.message for e in window.events if e.kind == "failed"]
    return window.gallery.model.rows[0]


def _pixels(path):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_fix_the_text_img2img_and_upscale_from_the_window_and_rerun_exactly(qtbot, window):
    """Every remaining mode end to end on the tiny kit: "Fix the text" on a poster (one action, the poster's
    words verbatim, the rest of the poster untouched), image-to-image and upscale from the Edit tab, and
    "Re-run exactly" of an edit entry giving the same pixels."""
    import numpy as np

    poster = _make_poster(qtbot, window, 'A poster, headline "Spring Sale"', 11,
                          dict(headline="Spring Sale", subtitle="Everything 50% off", language="en"))
    panel = window.edit.panel
    window.gallery.select_only(window.gallery.model.index(0))
    window.gallery.commands["edit"].trigger()
    panel.text_role.setCurrentIndex(0)  # the headline
    panel.fix_button.click()  # readies the rectangle
    window.preview.set_zoom(None)
    drag(qtbot, window, [(48, 32), (208, 80)])
    panel.fix_button.click()  # the one action: queued with the poster's own words
    fixed = _run_and_wait(qtbot, window, 2)
    request = fixed.request
    assert request.mode == "inpaint" and request.only_masked and request.strength == 1.0
    assert '"Spring Sale"' in request.prompt and request.extra["fix_text"] == "headline"
    assert request.extra["poster"]["headline"] == "Spring Sale" and fixed.parent_id == poster.id
    before, after = _pixels(poster.path), _pixels(fixed.path)
    blur = request.mask_blur
    region = np.zeros(before.shape[:2], bool)
    region[32 - blur - 1:80 + blur + 2, 48 - blur - 1:208 + blur + 2] = True  # the rectangle, grown by the feather
    assert after.shape == before.shape and np.array_equal(after[~region], before[~region])
    assert np.abs(after[region] - before[region]).mean() > 1  # the text area was drawn anew
    from zimage_desktop.history.input_store import inputs_folder

    kept = inputs_folder(window.paths.data)  # the window writes its inputs once, into the history's store
    assert Path(request.source).parent == kept and Path(request.mask).parent == kept
    assert not (window.paths.data / "edit_inputs").exists() and not (window.paths.data / "edit-inputs").exists()

    # image-to-image from the gallery's Edit, then "Re-run exactly" of that entry
    window.gallery.select_only(window.gallery.model.index(1))  # the poster
    window.gallery.commands["edit"].trigger()
    panel.set_mode("img2img")
    panel.strength.setValue(50)
    panel.prompt.setPlainText("a poster in watercolour")
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    changed = _run_and_wait(qtbot, window, 3)
    assert (changed.request.mode, changed.request.strength, changed.parent_id) == ("img2img", 0.5, poster.id)
    changed_px = _pixels(changed.path)
    assert changed_px.shape == before.shape and np.abs(changed_px - before).mean() > 1
    window.gallery.select_only(window.gallery.model.index(0))
    window.gallery.commands["rerun"].trigger()
    again = _run_and_wait(qtbot, window, 4)
    assert again.request.mode == "img2img" and np.array_equal(_pixels(again.path), changed_px)

    # upscale ×2 of the poster: twice the pixels, close to the source at low strength, and re-run exactly
    window.gallery.select_only(window.gallery.model.index(3))  # the poster
    window.gallery.commands["edit"].trigger()
    panel.set_mode("upscale")
    panel.scale_2.setChecked(True)
    panel.strength.setValue(20)
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    big = _run_and_wait(qtbot, window, 5)
    big_px = _pixels(big.path)
    assert big.request.mode == "upscale" and big_px.shape[:2] == (512, 512) and big.parent_id == poster.id
    window.gallery.select_only(window.gallery.model.index(0))
    window.gallery.commands["rerun"].trigger()
    assert np.array_equal(_pixels(_run_and_wait(qtbot, window, 6).path), big_px)
