"""The mask editor: a layer over the canvas (``PreviewView``) on which the user paints where the picture
may change — brush and eraser with a size (``[`` / ``]``), rectangles, invert, clear — shown as a red
overlay that can be hidden; every stroke is one step of a ``QUndoStack`` (Ctrl+Z / Ctrl+Shift+Z).

The mask is an 8-bit grey image of the source's size, white = may change (what the engine and
ComfyUI read). The view keeps zooming (Ctrl+wheel) and panning: the middle button, or the left one
with Space held, pans while a tool is active.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from .preview_view import PreviewView

BRUSH, ERASER, RECTANGLE = "brush", "eraser", "rectangle"
TOOLS = (BRUSH, ERASER, RECTANGLE)
MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 2, 1024, 64
SIZE_STEP = 1.25  # one press of [ or ] (as in Krita and Photoshop: a ratio, so small and big brushes both move)
UNDO_LIMIT = 100
OVERLAY = QColor(255, 40, 40)
OVERLAY_OPACITY = 0.45


def empty_mask(size: QSize) -> QImage:
    mask = QImage(size, QImage.Format.Format_Grayscale8)
    mask.fill(0)
    return mask


class _MaskChange(QUndoCommand):
    """One stroke, rectangle, invert or clear: the pixels of ``rect`` before and after."""

    def __init__(self, editor: MaskEditor, rect: QRect, before: QImage, after: QImage, text: str) -> None:
        super().__init__(text)
        self.editor, self.rect, self.before, self.after = editor, rect, before, after
        self._first = True

    def _put(self, pixels: QImage) -> None:
        assert self.editor.mask is not None
        painter = QPainter(self.editor.mask)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(self.rect.topLeft(), pixels)
        painter.end()
        self.editor.mask_changed()

    def redo(self) -> None:
        if self._first:  # already on the mask: the stroke was painted live
            self._first = False
            self.editor.mask_changed()
            return
        self._put(self.after)

    def undo(self) -> None:
        self._put(self.before)


class MaskEditor(QObject):
    changed = Signal()  # the mask, the tool or the size changed
    size_changed = Signal(int)

    def __init__(self, view: PreviewView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.mask: QImage | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.tool = BRUSH
        self.size = DEFAULT_SIZE
        self.active = False  # tools act on the canvas (inpaint mode)
        self.overlay_visible = True
        self.overlay_color, self.overlay_opacity = OVERLAY, OVERLAY_OPACITY  # the scribble layer has its own
        self._overlay: tuple[int, QImage] | None = None
        self._stroke_before: QImage | None = None
        self._stroke_rect = QRect()
        self._last: QPointF | None = None
        self._rect_start: QPointF | None = None
        self._rect_now: QPointF | None = None
        self._hover: QPointF | None = None
        self._pan: QPoint | None = None
        self._space = False
        view.overlays.append(self.paint)
        view.viewport().installEventFilter(self)
        view.viewport().setMouseTracking(True)

    # -- the mask ---------------------------------------------------------------------------

    def start(self, size: QSize) -> None:
        """A new, empty mask for an image of ``size``; the undo history starts again."""
        self.mask = empty_mask(size)
        self.undo_stack.clear()
        self.mask_changed()

    def is_empty(self) -> bool:
        return self.mask is None or self.bounds().isEmpty()

    def bounds(self) -> QRect:
        """The smallest rectangle holding every painted pixel (empty when nothing is painted)."""
        if self.mask is None:
            return QRect()
        rows = self.mask.height()
        left, top, right, bottom = self.mask.width(), rows, -1, -1
        for y in range(rows):
            line = self.mask.constScanLine(y).tobytes()[: self.mask.width()]  # type: ignore[attr-defined]
            if line.strip(b"\x00"):
                first = len(line) - len(line.lstrip(b"\x00"))
                last = len(line.rstrip(b"\x00")) - 1
                left, right = min(left, first), max(right, last)
                top, bottom = min(top, y), y
        return QRect() if right < 0 else QRect(QPoint(left, top), QPoint(right, bottom))

    def mask_changed(self) -> None:
        self._overlay = None
        self.view.label.update()
        self.changed.emit()

    def _whole_change(self, text: str, change) -> None:
        if self.mask is None:
            return
        before = self.mask.copy()
        change(self.mask)
        self.undo_stack.push(_MaskChange(self, self.mask.rect(), before, self.mask.copy(), text))

    def invert(self) -> None:
        self._whole_change(self.tr("Invert the mask"), lambda m: m.invertPixels())

    def clear(self) -> None:
        self._whole_change(self.tr("Clear the mask"), lambda m: m.fill(0))

    def fill_rect(self, rect: QRect, value: int = 255) -> None:
        """Paint a rectangle (image pixels) as one undo step; ``value`` 0 erases it."""
        if self.mask is None:
            return
        rect = rect.normalized().intersected(self.mask.rect())
        if rect.isEmpty():
            return
        before = self.mask.copy(rect)
        painter = QPainter(self.mask)
        painter.fillRect(rect, QColor(value, value, value))
        painter.end()
        self.undo_stack.push(_MaskChange(self, rect, before, self.mask.copy(rect), self.tr("Rectangle")))

    # -- tool and size ----------------------------------------------------------------------

    def set_tool(self, tool: str) -> None:
        self.tool = tool
        self.changed.emit()

    def set_size(self, size: int) -> None:
        size = max(MIN_SIZE, min(MAX_SIZE, int(size)))
        if size != self.size:
            self.size = size
            self.view.label.update()
            self.size_changed.emit(size)

    def bigger(self) -> None:
        self.set_size(max(self.size + 1, round(self.size * SIZE_STEP)))

    def smaller(self) -> None:
        self.set_size(min(self.size - 1, round(self.size / SIZE_STEP)))

    def set_overlay_visible(self, on: bool) -> None:
        self.overlay_visible = on
        self.view.label.update()

    # -- mapping between the view and the image -----------------------------------------------

    def _shown(self) -> bool:
        """The tools act only while the canvas shows the image the mask belongs to."""
        image = self.view.image
        return self.active and self.mask is not None and image is not None and image.size() == self.mask.size()

    def image_point(self, viewport_pos: QPointF) -> QPointF:
        rect = self.view.label.image_rect()
        local = QPointF(self.view.label.mapFrom(self.view.viewport(), viewport_pos.toPoint()))
        scale = rect.width() / max(1, self.mask.width() if self.mask is not None else 1)
        return (local - rect.topLeft()) / max(scale, 1e-6)

    # -- painting -----------------------------------------------------------------------------

    def _paint_segment(self, a: QPointF, b: QPointF) -> None:
        assert self.mask is not None
        value = 0 if self.tool == ERASER else 255
        painter = QPainter(self.mask)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # a mask is on or off; feather does the rest
        painter.setPen(QPen(QColor(value, value, value), self.size, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        if a == b:
            painter.setBrush(QColor(value, value, value))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(a, self.size / 2, self.size / 2)
        else:
            painter.drawLine(a, b)
        painter.end()
        r = self.size // 2 + 2
        dirty = QRectF(a, b).normalized().adjusted(-r, -r, r, r).toAlignedRect()
        self._stroke_rect = self._stroke_rect.united(dirty)
        self.mask_changed()

    def _end_stroke(self) -> None:
        assert self.mask is not None and self._stroke_before is not None
        rect = self._stroke_rect.intersected(self.mask.rect())
        if not rect.isEmpty():
            text = self.tr("Erase") if self.tool == ERASER else self.tr("Brush stroke")
            self.undo_stack.push(_MaskChange(self, rect, self._stroke_before.copy(rect), self.mask.copy(rect), text))
        self._stroke_before, self._last, self._stroke_rect = None, None, QRect()

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        """The overlay: the mask in translucent red, the rectangle being drawn, the brush outline."""
        if not self._shown():
            return
        assert self.mask is not None
        if self.overlay_visible:
            key = self.mask.cacheKey()
            if self._overlay is None or self._overlay[0] != key:
                tinted = QImage(self.mask.size(), QImage.Format.Format_ARGB32)
                tinted.fill(self.overlay_color)
                tinted.setAlphaChannel(self.mask)
                self._overlay = key, tinted
            painter.setOpacity(self.overlay_opacity)
            painter.drawImage(rect, self._overlay[1])
            painter.setOpacity(1.0)
        scale = rect.width() / self.mask.width()
        painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
        if self._rect_start is not None and self._rect_now is not None:
            painter.drawRect(QRectF(rect.topLeft() + self._rect_start * scale, rect.topLeft() + self._rect_now * scale))
        elif self._hover is not None and self.tool != RECTANGLE:
            painter.drawEllipse(rect.topLeft() + self._hover * scale, self.size * scale / 2, self.size * scale / 2)

    # -- mouse --------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and getattr(event, "key", lambda: 0)() == Qt.Key.Key_Space:
            self._space = kind == QEvent.Type.KeyPress
            return False
        if kind == QEvent.Type.Leave:
            self._hover = None
            self.view.label.update()
            return False
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease,
                        QEvent.Type.MouseButtonDblClick) or not self._shown():
            return False
        pos = event.position()  # type: ignore[attr-defined]
        button = event.button()  # type: ignore[attr-defined]
        if kind == QEvent.Type.MouseButtonPress:
            if isinstance(watched, QWidget):
                self.view.setFocus(Qt.FocusReason.MouseFocusReason)  # Ctrl+Z now undoes strokes, not deletes
            if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
                self._pan = pos.toPoint()
                return True
            if button != Qt.MouseButton.LeftButton:
                return False
            point = self.image_point(pos)
            if self.tool == RECTANGLE:
                self._rect_start = self._rect_now = point
                self.view.label.update()
            else:
                assert self.mask is not None
                self._stroke_before = self.mask.copy()
                self._stroke_rect = QRect()
                self._last = point
                self._paint_segment(point, point)
            return True
        if kind == QEvent.Type.MouseMove:
            if self._pan is not None:
                delta = pos.toPoint() - self._pan
                self._pan = pos.toPoint()
                for bar, d in ((self.view.horizontalScrollBar(), delta.x()), (self.view.verticalScrollBar(), delta.y())):
                    bar.setValue(bar.value() - d)
                return True
            point = self.image_point(pos)
            self._hover = point
            if self._rect_start is not None:
                self._rect_now = point
                self.view.label.update()
            elif self._last is not None:
                self._paint_segment(self._last, point)
                self._last = point
            else:
                self.view.label.update()  # the brush outline follows the pointer
            return True
        if kind == QEvent.Type.MouseButtonRelease:
            if self._pan is not None:
                self._pan = None
                return True
            if self._rect_start is not None:
                start, end = self._rect_start, self.image_point(pos)
                self._rect_start = self._rect_now = None
                erase = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)  # type: ignore[attr-defined]
                self.fill_rect(QRectF(start, end).toAlignedRect(), 0 if erase else 255)
                return True
            if self._last is not None:
                self._end_stroke()
                return True
            return False
        return True  # double-click: no zoom toggle while painting
