"""A scribble drawn on the canvas: the mask editor's layer (brush, eraser, rectangle, ``[``/``]``
sizes, one undo step per stroke) holding white strokes on black, which is exactly what the
"scribble" control kind takes (engine/control_images.scribble). Drawn over the picture the canvas
shows — or over a black page of the output size when it shows none — in blue, so it is not
mistaken for an inpaint mask. Every change is written to one PNG the Control section reads."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Signal, Slot
from PySide6.QtGui import QColor, QImage

from .mask_editor import MaskEditor
from .preview_view import PreviewView

STROKES = QColor(40, 150, 255)
DEFAULT_WIDTH = 12  # a pen, not the mask editor's broad brush


class ScribbleLayer(MaskEditor):
    saved = Signal(str)  # the scribble's PNG after each stroke, undo or redo

    def __init__(self, view: PreviewView, parent: QObject | None = None) -> None:
        super().__init__(view, parent)
        self.overlay_color, self.overlay_opacity = STROKES, 0.9
        self.size = DEFAULT_WIDTH
        self.path = Path(tempfile.mkdtemp(prefix="zimage-scribble-")) / "scribble.png"
        self.undo_stack.indexChanged.connect(self._save)  # a method: disconnected when the layer goes

    def begin(self, output: QSize) -> None:
        """Turn drawing on: over the canvas's picture, else a black page of ``output``; a
        scribble of the same size is kept (drawing can be turned off and on again)."""
        if self.view.image is None or self.view.image.isNull():
            page = QImage(output, QImage.Format.Format_RGB32)
            page.fill(QColor(0, 0, 0))
            self.view.show_image(page)
        image = self.view.image
        assert image is not None
        if self.mask is None or self.mask.size() != image.size():
            self.start(image.size())
        self.active = True
        self.view.label.update()

    def end(self) -> None:
        self.active = False
        self.view.label.update()

    @Slot(int)
    def _save(self, _index: int = 0) -> None:
        if self.mask is not None:
            self.mask.save(str(self.path))
            self.saved.emit(str(self.path))
