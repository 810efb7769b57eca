"""The image area: the live preview or the final image, fitted to the view or zoomed (Ctrl+wheel
around the pointer, 100 %, double-click) and panned by dragging; in split compare, another image
is shown left of a line that the user drags."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy

MIN_ZOOM, MAX_ZOOM = 0.05, 16.0
_GRAB = 8  # how near the split line (px) a press moves the line instead of panning


class _Canvas(QLabel):
    """The placeholder text as a label; an image is painted, never turned into a scaled pixmap
    of the zoomed size (16× a 2048² image would not fit in memory)."""

    def __init__(self, view: PreviewView) -> None:
        super().__init__()
        self.view = view
        self._scaled: tuple[tuple[int, int, int], QPixmap] | None = None

    def image_rect(self) -> QRectF:
        image = self.view.image
        if image is None:
            return QRectF()
        scale, size = self.view.scale(), self.view.shown_size()
        w, h = size.width() * scale, size.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _draw(self, painter: QPainter, image: QImage, rect: QRectF) -> None:
        if rect.width() > image.width():  # enlarged: paint through the transform, only what is exposed
            painter.drawImage(rect, image)
            return
        key = (image.cacheKey(), round(rect.width()), round(rect.height()))
        if self._scaled is None or self._scaled[0] != key:
            self._scaled = key, QPixmap.fromImage(image.scaled(
                key[1], key[2], Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation))
        painter.drawPixmap(rect.topLeft(), self._scaled[1])

    def paintEvent(self, event) -> None:
        view = self.view
        if view.image is None:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        # previews (1/8 of the image) are enlarged smoothly; pixels show from 200 % on, as in any viewer
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, view.zoom is None or view.scale() < 2)
        rect = self.image_rect()
        self._draw(painter, view.image, rect)
        for overlay in view.overlays:  # e.g. the mask editor's mask, brush outline and outpaint handles
            painter.save()
            overlay(painter, rect)
            painter.restore()
        other = view.split_image
        if other is None:
            return
        x = rect.left() + rect.width() * view.split
        painter.save()
        painter.setClipRect(QRectF(rect.left(), rect.top(), x - rect.left(), rect.height()))
        painter.drawImage(rect, other)  # drawn into the same rectangle, so both stay aligned
        painter.restore()
        painter.setPen(QPen(self.palette().highlight().color(), 2))
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))


class PreviewView(QScrollArea):
    zoom_changed = Signal()  # the scale shown changed: fit, 100 %, a wheel step
    split_moved = Signal(float)  # the user dragged the split line (0 … 1 across the image)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("previewView")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = _Canvas(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.image: QImage | None = None
        self.placeholder = ""  # shown while there is no image; every render puts it back
        self.actual_size = False
        self.zoom: float | None = None  # None: fit the view
        # the size a live preview (1/8 of the image) stands for: zoom and 100 % refer to the image
        self.nominal: QSize | None = None
        self.split_image: QImage | None = None  # shown left of the split line
        self.split = 0.5
        self._drag: QPoint | None = None
        self._dragging_split = False
        # painted over the image, in the image's rectangle on the label: f(painter, rect)
        self.overlays: list[Callable[[QPainter, QRectF], None]] = []
        self.setMinimumSize(320, 320)

    def show_image(self, image: QImage | None) -> None:
        self.image = image
        self._render()
        if self.zoom is None:
            self.zoom_changed.emit()  # another size, another fitted scale

    def set_actual_size(self, on: bool) -> None:
        self.set_zoom(1.0 if on else None)

    def shown_size(self) -> QSize:
        image = self.image.size() if self.image is not None else QSize()
        return self.nominal if self.nominal is not None and not self.nominal.isEmpty() else image

    def scale(self) -> float:
        """The scale the image is shown at (the fitted one when fitting)."""
        size = self.shown_size()
        if self.image is None or size.isEmpty():
            return 1.0
        if self.zoom is not None:
            return self.zoom
        view = self.viewport().size()
        return min(view.width() / size.width(), view.height() / size.height())

    def set_zoom(self, zoom: float | None, anchor: QPoint | None = None) -> None:
        """Zoom to ``zoom`` (None: fit), keeping the image point under ``anchor`` (a viewport
        position; the centre by default) where it is."""
        if zoom is not None:
            zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        if zoom == self.zoom:
            return
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        rect, old = self.label.image_rect(), self.scale()
        point = (QPointF(self.label.mapFrom(self.viewport(), anchor)) - rect.topLeft()) / old
        self.zoom = zoom
        self.actual_size = zoom == 1.0
        self.setWidgetResizable(zoom is None)
        self._render()
        if zoom is not None and self.image is not None:
            target = self.label.image_rect().topLeft() + point * zoom
            self.horizontalScrollBar().setValue(round(target.x() - anchor.x()))
            self.verticalScrollBar().setValue(round(target.y() - anchor.y()))
        self.zoom_changed.emit()

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        self.set_zoom(self.scale() * factor, anchor)

    def set_split(self, image: QImage | None, position: float | None = None) -> None:
        """Show ``image`` left of the split line (None: no split)."""
        self.split_image = image
        if position is not None:
            self.split = min(1.0, max(0.0, position))
        self.label.update()

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        if self.image is None:
            self.label.setText(text)

    def _render(self) -> None:
        if self.image is None:
            # setPixmap(QPixmap()) would clear the label's text too: a resize wiped the placeholder
            self.label.setText(self.placeholder)
            return
        if self.zoom is not None:
            size = self.shown_size()
            self.label.resize(QSize(round(size.width() * self.zoom), round(size.height() * self.zoom)))
        self.label.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.zoom is None:
            self._render()
            self.zoom_changed.emit()  # the fitted scale follows the view

    # -- zoom and pan with the mouse -------------------------------------------------------

    def wheelEvent(self, event) -> None:
        if self.image is not None and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.zoom_by(1.25 ** steps, event.position().toPoint())
            event.accept()
            return
        super().wheelEvent(event)

    def _split_x(self) -> float | None:
        if self.split_image is None or self.image is None:
            return None
        rect = self.label.image_rect()
        return self.label.mapTo(self.viewport(), QPoint(round(rect.left() + rect.width() * self.split), 0)).x()

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.image is None:
            super().mousePressEvent(event)
            return
        x = self._split_x()
        self._dragging_split = x is not None and abs(event.position().x() - x) <= _GRAB
        self._drag = event.position().toPoint()
        if not self._dragging_split:
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None:
            super().mouseMoveEvent(event)
            return
        pos = event.position().toPoint()
        if self._dragging_split:
            rect = self.label.image_rect()
            local = self.label.mapFrom(self.viewport(), pos).x()
            self.set_split(self.split_image, (local - rect.left()) / max(1.0, rect.width()))
            self.split_moved.emit(self.split)
        else:
            delta = pos - self._drag
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        self._drag = pos
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is None:
            super().mouseReleaseEvent(event)
            return
        self._drag = None
        self._dragging_split = False
        self.viewport().unsetCursor()
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        if self.image is not None:  # the usual viewer toggle: fitted ↔ 100 % at the pointer
            self.set_zoom(None if self.zoom is not None else 1.0, event.position().toPoint())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)
