"""The poster's text boxes over the canvas: the glyph control's boxes (poster/glyphs.py, role →
fractions of the picture) drawn as labelled frames that the mouse moves (drag inside) and resizes
(drag the bottom-right handle); the arrow keys nudge the selected box by a pixel (Shift: ten);
every move is one step of a ``QUndoStack`` (Ctrl+Z / Ctrl+Shift+Z while the canvas has focus).
``changed`` carries the boxes; the glyph control renders its map from them."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QPainter, QPen, QUndoCommand, QUndoStack

from .preview_view import PreviewView

Box = tuple[float, float, float, float]
HANDLE = 10  # screen pixels of the resize handle
MIN_SIDE = 8  # image pixels
FRAME = QColor(255, 200, 0)


class _BoxesChange(QUndoCommand):
    def __init__(self, editor: GlyphBoxEditor, before: dict[str, Box], after: dict[str, Box], text: str) -> None:
        super().__init__(text)
        self.editor, self.before, self.after = editor, before, after

    def redo(self) -> None:
        self.editor.set_boxes(self.after)

    def undo(self) -> None:
        self.editor.set_boxes(self.before)


class GlyphBoxEditor(QObject):
    changed = Signal(dict)  # role → box (fractions)

    def __init__(self, view: PreviewView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.boxes: dict[str, Box] = {}
        self.selected: str | None = None
        self.active = False
        self.undo_stack = QUndoStack(self)
        self._drag: tuple[str, str, QPointF, dict[str, Box]] | None = None  # (role, "move"|"resize", start, before)
        view.overlays.append(self.paint)
        view.viewport().installEventFilter(self)
        view.installEventFilter(self)

    def set_boxes(self, boxes: dict[str, Box]) -> None:
        self.boxes = dict(boxes)
        self.view.label.update()
        self.changed.emit(dict(self.boxes))

    def start(self, boxes: dict[str, Box]) -> None:
        """New boxes (a new layout): the undo history starts again."""
        self.undo_stack.clear()
        self.selected = next(iter(boxes), None)
        self.set_boxes(boxes)

    # -- geometry ------------------------------------------------------------------------------

    def _size(self) -> tuple[int, int]:
        image = self.view.image
        return (image.width(), image.height()) if image is not None else (1, 1)

    def pixel_rect(self, role: str) -> QRectF:
        w, h = self._size()
        left, top, right, bottom = self.boxes[role]
        return QRectF(QPointF(left * w, top * h), QPointF(right * w, bottom * h))

    def _image_point(self, viewport_pos: QPointF) -> tuple[QPointF, float]:
        rect = self.view.label.image_rect()
        local = QPointF(self.view.label.mapFrom(self.view.viewport(), viewport_pos.toPoint()))
        scale = max(rect.width() / max(1, self._size()[0]), 1e-6)
        return (local - rect.topLeft()) / scale, scale

    def _moved(self, role: str, dx: float, dy: float, resize: bool, base: dict[str, Box]) -> dict[str, Box]:
        """``base`` with ``role`` moved (or its bottom-right corner moved) by image pixels, kept inside."""
        w, h = self._size()
        left, top, right, bottom = (v * s for v, s in zip(base[role], (w, h, w, h)))
        if resize:
            right = min(w, max(left + MIN_SIDE, right + dx))
            bottom = min(h, max(top + MIN_SIDE, bottom + dy))
        else:
            dx = min(max(dx, -left), w - right)
            dy = min(max(dy, -top), h - bottom)
            left, right, top, bottom = left + dx, right + dx, top + dy, bottom + dy
        return dict(base, **{role: (left / w, top / h, right / w, bottom / h)})

    def nudge(self, dx: int, dy: int) -> None:
        if self.selected is None or self.selected not in self.boxes:
            return
        before = dict(self.boxes)
        self.undo_stack.push(_BoxesChange(self, before, self._moved(self.selected, dx, dy, False, before),
                                          self.tr("Move a text box")))

    # -- drawing -------------------------------------------------------------------------------

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        if not self.active or self.view.image is None:
            return
        scale = rect.width() / self._size()[0]
        for role in self.boxes:
            box = self.pixel_rect(role)
            shown = QRectF(rect.topLeft() + box.topLeft() * scale, box.size() * scale)
            painter.setPen(QPen(FRAME, 2 if role == self.selected else 1,
                                Qt.PenStyle.SolidLine if role == self.selected else Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(shown)
            painter.drawText(shown.topLeft() + QPointF(3, 12), role)
            if role == self.selected:
                painter.fillRect(QRectF(shown.bottomRight() - QPointF(HANDLE, HANDLE), shown.bottomRight()), FRAME)

    # -- mouse and keys ------------------------------------------------------------------------

    def _hit(self, point: QPointF, scale: float) -> tuple[str, str] | None:
        """(role, "resize" | "move") under an image point; the selected box wins where boxes overlap."""
        order = ([self.selected] if self.selected in self.boxes else []) + [r for r in self.boxes if r != self.selected]
        for role in order:
            box = self.pixel_rect(role)
            corner = box.bottomRight()
            if abs(point.x() - corner.x()) * scale <= HANDLE and abs(point.y() - corner.y()) * scale <= HANDLE:
                return role, "resize"
            if box.contains(point):
                return role, "move"
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.active or self.view.image is None:
            return False
        kind = event.type()
        if watched is self.view and kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return self._key(event, kind)  # type: ignore[arg-type]
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            point, scale = self._image_point(event.position())  # type: ignore[attr-defined]
            hit = self._hit(point, scale)
            if hit is None:
                return False
            self.view.setFocus(Qt.FocusReason.MouseFocusReason)
            self.selected = hit[0]
            self._drag = (hit[0], hit[1], point, dict(self.boxes))
            self.view.label.update()
            return True
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            role, how, start, before = self._drag
            point, _ = self._image_point(event.position())  # type: ignore[attr-defined]
            delta = point - start
            self.set_boxes(self._moved(role, delta.x(), delta.y(), how == "resize", before))
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            role, how, _, before = self._drag
            self._drag = None
            if before != self.boxes:
                text = self.tr("Resize a text box") if how == "resize" else self.tr("Move a text box")
                self.undo_stack.push(_BoxesChange(self, before, dict(self.boxes), text))
            return True
        return False

    def _key(self, event: QKeyEvent, kind: QEvent.Type) -> bool:
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        undo, redo = event.matches(QKeySequence.StandardKey.Undo), event.matches(QKeySequence.StandardKey.Redo)
        redo = redo or (event.key() == Qt.Key.Key_Z and event.modifiers() == (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if not (undo or redo or event.key() in arrows):
            return False
        if kind == QEvent.Type.ShortcutOverride:  # these keys are ours, not the canvas's shortcuts
            event.accept()
            return True
        if undo:
            self.undo_stack.undo()
        elif redo:
            self.undo_stack.redo()
        else:
            step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            dx, dy = arrows[Qt.Key(event.key())]
            self.nudge(dx * step, dy * step)
        return True
