"""Control drawn on the canvas (issue 23): a scribble painted with the mouse becomes the scribble
control image; its strokes undo with Ctrl+Z like the mask editor's."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.test_edit_ui import drag


def _scribble(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def test_a_scribble_drawn_on_the_canvas_is_the_control_image_and_undoes(qtbot, window):
    from zimage_desktop.engine.control_images import open_source, prepare

    form = window.form
    form.width_spin.setValue(256)
    form.height_spin.setValue(256)
    control = form.control
    assert control.controls() == ()
    control.draw.setChecked(True)  # "Draw a scribble on the canvas"
    window.preview.set_zoom(None)
    assert window.preview.image is not None and window.preview.image.width() == 256  # a black page of the output size
    control.scribble.set_size(8)
    drag(qtbot, window, [(40, 128), (120, 128), (200, 128)])
    drag(qtbot, window, [(128, 30), (128, 90)])
    (ref,) = control.controls()
    assert ref.kind == "scribble" and control.kind.currentData() == "scribble"
    strokes = _scribble(ref.image)
    assert strokes.shape == (256, 256)
    assert strokes[128, 60] == 255 and strokes[128, 190] == 255 and strokes[60, 128] == 255  # on both strokes
    assert strokes[100, 60] == 0 and strokes[200, 200] == 0  # nowhere else
    prepared = np.asarray(prepare("scribble", open_source(ref.image), 256, 256).image.convert("L"))
    assert np.array_equal(prepared > 127, strokes > 127)  # the engine gets exactly the drawing
    assert control.preview.pixmap() is not None and not control.preview.pixmap().isNull()

    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the second stroke goes
    strokes = _scribble(control.file.text())
    assert strokes[60, 128] == 0 and strokes[128, 60] == 255
    assert window.edit.mask.undo_stack.count() == 0  # the inpaint mask was never touched
    qtbot.mouseClick(control.draw_redo, Qt.MouseButton.LeftButton)
    assert _scribble(control.file.text())[60, 128] == 255
    control.scribble.set_tool("eraser")
    drag(qtbot, window, [(30, 128), (210, 128)])
    assert _scribble(control.file.text())[128, 60] == 0

    control.draw.setChecked(False)  # drawing off: the canvas's mouse is the viewer's again
    before = control.scribble.undo_stack.count()
    drag(qtbot, window, [(40, 200), (200, 200)])
    assert control.scribble.undo_stack.count() == before


def _text_in(render, box) -> bool:
    left, top, right, bottom = box
    return bool(np.asarray(render.filled)[top:bottom, left:right].any())


def test_poster_text_boxes_move_with_the_mouse_and_keys_and_the_glyph_map_follows(qtbot, window, tmp_path):
    from tests.test_edit_ui import at
    from tests.test_ui_control import LATIN

    from zimage_desktop.poster.glyphs import layout_boxes, load_font, render_glyphs

    if not LATIN.is_file():
        import pytest

        pytest.skip("no DejaVu Sans on this machine")
    poster, glyphs = window.poster, window.poster.glyphs
    poster.headline.setText("SALE")
    poster.subtitle.setText("")
    glyphs.enabled.setChecked(True)
    glyphs.font_box.insertItem(0, LATIN.name, str(LATIN))
    glyphs.font_box.setCurrentIndex(0)
    spec, width, height = poster.page()
    glyphs.boxes_button.setChecked(True)
    editor = glyphs.editor
    assert editor.active and "headline" in editor.boxes
    window.preview.set_zoom(None)
    window.preview.show_image(window.preview.image)  # the canvas shows a picture of the poster's size
    left, top, right, bottom = (round(f * s) for f, s in zip(layout_boxes(spec.layout)["headline"],
                                                              (width, height, width, height)))
    centre = ((left + right) / 2, (top + bottom) / 2)
    # drag the headline box down by a third of the picture
    qtbot.mousePress(window.preview.viewport(), Qt.MouseButton.LeftButton, pos=at(window, *centre))
    qtbot.mouseMove(window.preview.viewport(), at(window, centre[0], centre[1] + height / 3))
    qtbot.mouseRelease(window.preview.viewport(), Qt.MouseButton.LeftButton, pos=at(window, centre[0], centre[1] + height / 3))
    moved = glyphs.moved["headline"]
    assert abs(moved[1] * height - (top + height / 3)) <= 3 and abs(moved[0] * width - left) <= 3
    (control,) = glyphs.control(spec, width, height, tmp_path)
    drawn = np.asarray(Image.open(control.image).convert("L"))
    new_box = tuple(round(f * s) for f, s in zip(moved, (width, height, width, height)))
    assert drawn[new_box[1]:new_box[3], new_box[0]:new_box[2]].any()  # the glyphs are where the box is now
    assert not drawn[top:bottom, left:right].any()  # and no longer where it was
    render = render_glyphs(spec, width, height, load_font(LATIN), LATIN.name, glyphs.moved)
    assert _text_in(render, new_box)
    # the canvas shows the glyph map at the new place
    shown = window.preview.image
    assert shown.size().width() == width and shown.pixelColor(0, 0).red() == 0

    # arrow keys nudge, Shift ten pixels; Ctrl+Z undoes them one by one, then the drag
    qtbot.keyClick(window.preview, Qt.Key.Key_Right)
    qtbot.keyClick(window.preview, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    after = glyphs.moved["headline"]
    assert round((after[0] - moved[0]) * width) == 1 and round((after[1] - moved[1]) * height) == 10
    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert glyphs.moved["headline"] == moved
    qtbot.keyClick(window.preview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "headline" not in glyphs.moved  # back at the layout's place

    # the corner handle resizes
    corner = at(window, right - 1, bottom - 1)
    qtbot.mousePress(window.preview.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    qtbot.mouseMove(window.preview.viewport(), at(window, right - 1 - width / 4, bottom - 1))
    qtbot.mouseRelease(window.preview.viewport(), Qt.MouseButton.LeftButton, pos=at(window, right - 1 - width / 4, bottom - 1))
    resized = glyphs.moved["headline"]
    assert abs(resized[0] * width - left) <= 1 and abs(resized[2] * width - (right - width / 4)) <= 3
    # another layout: its own boxes, the moved ones are forgotten
    layouts = window.poster.layout_box
    layouts.setCurrentIndex((layouts.currentIndex() + 1) % layouts.count())
    assert glyphs.moved == {} and editor.boxes == layout_boxes(layouts.currentData())


def test_fix_the_text_with_glyph_control_draws_the_words_into_the_selection(qtbot, window):
    """"Fix the text" with the poster panel's glyph control on: the request carries a glyph control
    image with the chosen text's edges inside the selected rectangle and nothing outside it."""
    from tests.test_edit_ui import _make_poster
    from tests.test_ui_control import LATIN

    if not LATIN.is_file():
        import pytest

        pytest.skip("no DejaVu Sans on this machine")
    record = _make_poster(qtbot, window, 'A poster, headline "GRAND OPENING"', 7,
                          dict(headline="GRAND OPENING", subtitle="today only", language="en"))
    glyphs = window.poster.glyphs
    glyphs.enabled.setChecked(True)
    glyphs.font_box.insertItem(0, LATIN.name, str(LATIN))
    glyphs.font_box.setCurrentIndex(0)
    window.gallery.select_only(window.gallery.model.index(0))
    window.gallery.commands["edit"].trigger()
    edit, panel = window.edit, window.edit.panel
    assert edit.record.id == record.id
    panel.text_role.setCurrentIndex(0)  # the headline
    panel.set_mode("inpaint")
    edit._pick_tool("rectangle")
    drag(qtbot, window, [(40, 100), (216, 140)])
    request = edit.fix_text_request()
    (control,) = request.controls
    assert control.kind == "glyph" and control.strength == glyphs.strength.value()
    edges = np.asarray(Image.open(control.image).convert("L"))
    assert edges.shape == (256, 256)
    inside = edges[100:141, 40:217]
    assert inside.any()
    outside = edges.copy()
    outside[100:141, 40:217] = 0
    assert not outside.any()
    glyphs.enabled.setChecked(False)
    assert edit.fix_text_request().controls == ()


def test_moved_text_boxes_are_saved_in_the_png_and_use_parameters_puts_them_back(qtbot, window, tmp_path):
    """Issue 23: the boxes a user moved travel in the request (the PNG's zimage JSON), and "Use
    parameters" on that image restores them, so the same glyph image is made again and the boxes
    can be moved on from where they were left."""
    from tests.test_edit_ui import at
    from tests.test_ui_control import LATIN

    from zimage_desktop.history.metadata import read_png_metadata, write_png
    from zimage_desktop.history.store import HistoryStore
    from zimage_desktop.poster.glyphs import MOVED_BOXES_KEY, layout_boxes

    if not LATIN.is_file():
        import pytest

        pytest.skip("no DejaVu Sans on this machine")
    poster, glyphs = window.poster, window.poster.glyphs
    poster.headline.setText("SALE")
    glyphs.enabled.setChecked(True)
    glyphs.font_box.insertItem(0, LATIN.name, str(LATIN))
    glyphs.font_box.setCurrentIndex(0)
    spec, width, height = poster.page()
    glyphs.boxes_button.setChecked(True)
    window.preview.set_zoom(None)
    window.preview.show_image(window.preview.image)
    left, top, right, bottom = (round(f * s) for f, s in zip(layout_boxes(spec.layout)["headline"],
                                                              (width, height, width, height)))
    centre = ((left + right) / 2, (top + bottom) / 2)
    qtbot.mousePress(window.preview.viewport(), Qt.MouseButton.LeftButton, pos=at(window, *centre))
    qtbot.mouseMove(window.preview.viewport(), at(window, centre[0], centre[1] + height / 3))
    qtbot.mouseRelease(window.preview.viewport(), Qt.MouseButton.LeftButton,
                       pos=at(window, centre[0], centre[1] + height / 3))
    moved = dict(glyphs.moved)
    assert set(moved) == {"headline"}
    request = poster.request(seed=7, count=1)
    assert request.extra[MOVED_BOXES_KEY] == {"headline": list(moved["headline"])}
    (control,) = request.controls

    # the image as saved, read back from its metadata, recorded in a history
    png = write_png(tmp_path / "poster.png", Image.new("RGB", (width, height)), request, {})
    recalled = read_png_metadata(png)
    assert recalled.source == "zimage"
    store = HistoryStore(tmp_path / "history.db")
    record = store.get(store.add(recalled.request, png))
    store.close()

    # the user moves on: another layout forgets the boxes, the glyph control goes off
    layouts = poster.layout_box
    layouts.setCurrentIndex((layouts.currentIndex() + 1) % layouts.count())
    glyphs.enabled.setChecked(False)
    assert glyphs.moved == {}

    window.use_record(record)
    assert poster.layout_box.currentData() == spec.layout and glyphs.enabled.isChecked()
    assert glyphs.moved == moved  # where the user left them, not the layout's place
    glyphs.boxes_button.setChecked(True)
    assert glyphs.editor.boxes["headline"] == moved["headline"]
    (again,) = poster.request(seed=7, count=1).controls
    assert again.image_sha256 == control.image_sha256  # the very glyph image of the saved poster

    # a request without moved boxes (or with a damaged entry) leaves the layout's boxes
    extra = dict(request.extra, **{MOVED_BOXES_KEY: {"headline": [0.5, 0.9, 0.2, "x"]}})
    glyphs.apply(request.controls, extra)
    assert glyphs.moved == {}
