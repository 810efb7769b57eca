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
