"""Outpainting on the canvas: the source inside a larger frame whose four edges the user drags, or one
click on a target format (the poster formats: 3:4 → 16:9, 21:9, 1:1 …) that computes the sides to add.

The canvas shows the frame as one image (new area chequered grey, the source in place), so zoom and
pan work as for any picture. Results stay within the model's sizes: every total is a multiple of 16
and at most ``MAX_SIDE``; a source too big for the target format is shown (and sent) scaled down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from ..engine.request import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE
from .preview_view import PreviewView

_GRAB = 12  # how near an edge (px on screen) a press grabs it
LEFT, TOP, RIGHT, BOTTOM = range(4)


@dataclass(frozen=True)
class Frame:
    """The source (``width`` × ``height`` after ``scale``) and the pixels added on each side."""

    width: int
    height: int
    sides: tuple[int, int, int, int] = (0, 0, 0, 0)
    scale: float = 1.0

    @property
    def result(self) -> tuple[int, int]:
        left, top, right, bottom = self.sides
        return self.width + left + right, self.height + top + bottom


def _ceil16(value: float) -> int:
    return int(math.ceil(value / SIZE_MULTIPLE - 1e-9)) * SIZE_MULTIPLE


def _split(extra: int) -> tuple[int, int]:
    return extra // 2, extra - extra // 2


def frame_for_ratio(width: int, height: int, ratio_w: int, ratio_h: int) -> Frame:
    """The frame that turns a ``width`` × ``height`` source into a ``ratio_w``:``ratio_h`` picture, the source
    centred and kept at full size unless the result would exceed ``MAX_SIDE`` (then it is scaled down)."""
    target = ratio_w / ratio_h
    out_w, out_h = (height * target, float(height)) if width / height < target else (float(width), width / target)
    scale = min(1.0, MAX_SIDE / out_w, MAX_SIDE / out_h)
    src_w, src_h = max(1, round(width * scale)), max(1, round(height * scale))
    res_w = min(MAX_SIDE, max(MIN_SIDE, src_w, _ceil16(out_w * scale)))
    res_h = min(MAX_SIDE, max(MIN_SIDE, src_h, _ceil16(out_h * scale)))
    left, right = _split(res_w - src_w)
    top, bottom = _split(res_h - src_h)
    return Frame(src_w, src_h, (left, top, right, bottom), scale)


def snap_side(frame: Frame, side: int, value: float) -> Frame:
    """``frame`` with ``side`` set near ``value``: the total along that axis a multiple of 16 within the
    model's sizes, the side not below 0."""
    sides = list(frame.sides)
    source = frame.width if side in (LEFT, RIGHT) else frame.height
    other = sides[(side + 2) % 4]
    total = round((source + other + max(0.0, value)) / SIZE_MULTIPLE) * SIZE_MULTIPLE
    total = min(MAX_SIDE - MAX_SIDE % SIZE_MULTIPLE, total)
    while total - source - other < 0:
        total += SIZE_MULTIPLE
    sides[side] = total - source - other
    return Frame(frame.width, frame.height, (sides[0], sides[1], sides[2], sides[3]), frame.scale)


def framed_image(source: QImage, frame: Frame) -> QImage:
    """What the canvas shows: the new area chequered, the (scaled) source in place."""
    width, height = frame.result
    out = QImage(width, height, QImage.Format.Format_RGB32)
    out.fill(QColor(128, 128, 128))
    painter = QPainter(out)
    tile = 32
    for y in range(0, height, tile):
        for x in range((y // tile) % 2 * tile, width, 2 * tile):
            painter.fillRect(x, y, tile, tile, QColor(150, 150, 150))
    shown = source if source.size().width() == frame.width else source.scaled(
        frame.width, frame.height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    painter.drawImage(frame.sides[LEFT], frame.sides[TOP], shown)
    painter.end()
    return out


class OutpaintFrame(QObject):
    """The frame's handles on the canvas; ``changed`` after every drag step or format click."""

    changed = Signal()

    def __init__(self, view: PreviewView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.source: QImage | None = None
        self.frame = Frame(0, 0)
        self.active = False
        self.shown: QImage | None = None  # the framed image on the canvas
        self._drag: tuple[int, QPointF, int, float] | None = None  # side, press position, start value, scale
        view.overlays.append(self.paint)
        view.viewport().installEventFilter(self)

    def start(self, source: QImage) -> None:
        self.source = source
        self.set_frame(Frame(source.width(), source.height()))

    def set_frame(self, frame: Frame) -> None:
        assert self.source is not None
        self.frame = frame
        self.shown = framed_image(self.source, frame)
        if self.active:
            self.view.show_image(self.shown)
        self.changed.emit()

    def to_ratio(self, ratio_w: int, ratio_h: int) -> None:
        if self.source is not None:
            self.set_frame(frame_for_ratio(self.source.width(), self.source.height(), ratio_w, ratio_h))

    def set_side(self, side: int, value: int) -> None:
        if self.source is not None:
            self.set_frame(snap_side(self.frame, side, value))

    def scaled_source(self) -> QImage:
        """The source as it goes into the request (scaled down when the format needed it)."""
        assert self.source is not None
        if self.frame.width == self.source.width() and self.frame.height == self.source.height():
            return self.source
        return self.source.scaled(self.frame.width, self.frame.height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)

    def _visible(self) -> bool:
        return self.active and self.shown is not None and self.view.image is self.shown

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        if not self._visible():
            return
        scale = rect.width() / self.frame.result[0]
        left, top, _, _ = self.frame.sides
        inner = QRectF(rect.left() + left * scale, rect.top() + top * scale, self.frame.width * scale,
                       self.frame.height * scale)
        painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
        painter.drawRect(inner)
        painter.setPen(QPen(QColor(0, 0, 0), 1))
        painter.setBrush(QColor(255, 255, 255))
        for point in (QPointF(rect.left(), rect.center().y()), QPointF(rect.center().x(), rect.top()),
                      QPointF(rect.right(), rect.center().y()), QPointF(rect.center().x(), rect.bottom())):
            painter.drawRect(QRectF(point.x() - 5, point.y() - 5, 10, 10))

    def _edge_at(self, pos: QPointF) -> int | None:
        rect = self.view.label.image_rect()
        local = QPointF(self.view.label.mapFrom(self.view.viewport(), pos.toPoint()))
        inside_y = rect.top() - _GRAB <= local.y() <= rect.bottom() + _GRAB
        inside_x = rect.left() - _GRAB <= local.x() <= rect.right() + _GRAB
        distances = {LEFT: abs(local.x() - rect.left()) if inside_y else 1e9,
                     RIGHT: abs(local.x() - rect.right()) if inside_y else 1e9,
                     TOP: abs(local.y() - rect.top()) if inside_x else 1e9,
                     BOTTOM: abs(local.y() - rect.bottom()) if inside_x else 1e9}
        side = min(distances, key=lambda s: distances[s])
        return side if distances[side] <= _GRAB else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if not self._visible() or kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                                               QEvent.Type.MouseButtonRelease):
            return False
        pos = event.position()  # type: ignore[attr-defined]
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            side = self._edge_at(pos)
            if side is None:
                return False  # a press inside pans, as on any picture
            self._drag = side, pos, self.frame.sides[side], self.view.scale()
            return True
        if self._drag is None:
            if kind == QEvent.Type.MouseMove and not event.buttons():  # type: ignore[attr-defined]
                side = self._edge_at(pos)
                cursor = (Qt.CursorShape.SizeHorCursor if side in (LEFT, RIGHT) else Qt.CursorShape.SizeVerCursor
                          if side is not None else Qt.CursorShape.ArrowCursor)
                self.view.viewport().setCursor(cursor)
            return False
        side, start, value, scale = self._drag
        delta = pos - start
        moved = (delta.x() if side in (LEFT, RIGHT) else delta.y()) / max(scale, 1e-6)
        self.set_side(side, round(value + (-moved if side in (LEFT, TOP) else moved)))
        if kind == QEvent.Type.MouseButtonRelease:
            self._drag = None
        return True
