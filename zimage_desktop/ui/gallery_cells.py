"""How the gallery draws and lays out its cells: a thumbnail, a caption elided to the cell's width,
and small buttons over the thumbnail under the mouse; one row (a strip) when the pane is short, a
wrapping grid when it is tall.

Every size comes from the font: a Chinese caption (drawn with a fallback font taller than the Latin
one) must never be cut, and the strip's minimum height is exactly one cell plus its scroll bar.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QModelIndex, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen, QTextLayout, QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip,
)

from .gallery_model import ICON, GalleryModel

PAD = 6
GAP = 8  # between cells, so a highlighted cell stands apart from its neighbours
CAPTION_LINES = 2
BUTTON = 26
# the hover buttons, left to right over the thumbnail's top-right corner
OVERLAY = ("favourite", "rerun", "delete")
GOLD = QColor("#f5c518")


def line_height(font: QFont) -> int:
    """Height of a caption line with CJK text in it: the fallback font a Chinese prompt is drawn
    with can be taller than ``QFontMetrics(font).lineSpacing()`` says."""
    layout = QTextLayout("Ág国字", font)
    layout.beginLayout()
    line = layout.createLine()
    layout.endLayout()
    return max(QFontMetrics(font).lineSpacing(), math.ceil(line.height()))


def caption_lines(text: str, font: QFont, width: int, max_lines: int = CAPTION_LINES) -> list[str]:
    """``text`` wrapped to ``width`` (at spaces, or anywhere in Chinese), the last line elided."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    lines: list[str] = []
    position = 0
    while len(lines) < max_lines - 1:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append(text[line.textStart():line.textStart() + line.textLength()].rstrip())
        position = line.textStart() + line.textLength()
    layout.endLayout()
    rest = text[position:].strip()
    if rest:
        lines.append(QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return lines


def _star(center: QPointF, radius: float) -> QPainterPath:
    path = QPainterPath()
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        point = QPointF(center.x() + r * math.cos(angle), center.y() + r * math.sin(angle))
        if i == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    path.closeSubpath()
    return path


class GalleryDelegate(QStyledItemDelegate):
    """Paints the cells and turns clicks on a hover button into ``overlay_clicked(index, name)``."""

    overlay_clicked = Signal(QModelIndex, str)

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view
        self.tips: dict[str, str] = {}
        self.hovered: tuple[int, str] | None = None  # (row, button) under the mouse

    def cell_size(self) -> QSize:
        return QSize(ICON + 2 * PAD, PAD + ICON + PAD + CAPTION_LINES * line_height(self.view.font()) + PAD)

    def sizeHint(self, option, index) -> QSize:
        return self.cell_size()

    @staticmethod
    def thumb_rect(cell: QRect) -> QRect:
        return QRect(cell.x() + (cell.width() - ICON) // 2, cell.y() + PAD, ICON, ICON)

    def overlay_rects(self, cell: QRect) -> dict[str, QRect]:
        thumb = self.thumb_rect(cell)
        right = thumb.right() - 3
        return {name: QRect(right - (len(OVERLAY) - i) * (BUTTON + 2) + 2, thumb.top() + 3, BUTTON, BUTTON)
                for i, name in enumerate(OVERLAY)}

    def button_at(self, cell: QRect, pos) -> str | None:
        return next((name for name, rect in self.overlay_rects(cell).items() if rect.contains(pos)), None)

    def paint(self, painter: QPainter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:  # the whole cell, thumbnail included (the style would mark only the text)
            colour = QColor(opt.palette.color(QPalette.ColorRole.Highlight))
            if not selected:
                colour.setAlpha(45)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        thumb = self.thumb_rect(option.rect)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.deviceIndependentSize().toSize().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb.center())
            painter.drawPixmap(target, pixmap)
        painter.setPen(opt.palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        painter.setFont(opt.font)
        height = line_height(opt.font)
        top = thumb.bottom() + 1 + PAD
        text_width = option.rect.width() - 2 * PAD
        for i, line in enumerate(caption_lines(index.data(Qt.ItemDataRole.DisplayRole) or "", opt.font, text_width)):
            painter.drawText(QRect(option.rect.x() + PAD, top + i * height, text_width, height),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter), line)
        record = index.data(GalleryModel.RecordRole)
        favourite = bool(record is not None and record.favourite)
        if hovered:
            self._paint_overlay(painter, option.rect, index.row(), favourite)
        elif favourite:  # the mark stays when the mouse has left
            painter.setPen(QPen(QColor(0, 0, 0, 160), 1))
            painter.setBrush(GOLD)
            painter.drawPath(_star(QPointF(thumb.left() + 14, thumb.top() + 14), 10))
        painter.restore()

    def _paint_overlay(self, painter: QPainter, cell: QRect, row: int, favourite: bool) -> None:
        white = QColor("white")
        for name, rect in self.overlay_rects(cell).items():
            hot = self.hovered == (row, name)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 210 if hot else 150))
            painter.drawRoundedRect(QRectF(rect), 5, 5)
            c = QRectF(rect).center()
            pen = QPen(white, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            if name == "favourite":
                painter.setPen(QPen(GOLD if favourite else white, 1.5))
                painter.setBrush(GOLD if favourite else Qt.BrushStyle.NoBrush)
                painter.drawPath(_star(c, 8.5))
            elif name == "rerun":  # a circular arrow
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawArc(QRectF(c.x() - 6, c.y() - 6, 12, 12), 90 * 16, 270 * 16)
                painter.setBrush(white)
                head = QPainterPath(QPointF(c.x() + 1, c.y() - 10))
                head.lineTo(QPointF(c.x() + 5, c.y() - 6))
                head.lineTo(QPointF(c.x() + 1, c.y() - 2))
                head.closeSubpath()
                painter.drawPath(head)
            else:  # a bin
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawLine(QPointF(c.x() - 7, c.y() - 5), QPointF(c.x() + 7, c.y() - 5))
                painter.drawLine(QPointF(c.x() - 2, c.y() - 8), QPointF(c.x() + 2, c.y() - 8))
                painter.drawRoundedRect(QRectF(c.x() - 5, c.y() - 5, 10, 13), 1.5, 1.5)

    def editorEvent(self, event, model, option, index) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseMove:
            button = self.button_at(option.rect, event.position().toPoint())
            hovered = (index.row(), button) if button else None
            if hovered != self.hovered:
                self.hovered = hovered
                self.view.viewport().update(option.rect)
            return False
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
            if event.button() != Qt.MouseButton.LeftButton:
                return False
            button = self.button_at(option.rect, event.position().toPoint())
            if button is None:
                return False
            if kind == QEvent.Type.MouseButtonRelease:
                self.overlay_clicked.emit(index, button)
            return True
        return super().editorEvent(event, model, option, index)

    def helpEvent(self, event, view, option, index) -> bool:
        button = self.button_at(option.rect, event.pos())
        if button is not None and button in self.tips:
            QToolTip.showText(event.globalPos(), self.tips[button], view)
            return True
        return super().helpEvent(event, view, option, index)


class ThumbnailListView(QListView):
    """The list of cells: a one-row strip while only one row fits, a wrapping grid otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(100)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        self._grid: bool | None = None
        self.cells = GalleryDelegate(self)
        self.setItemDelegate(self.cells)
        self.fit_metrics()

    def fit_metrics(self) -> None:
        """Grid and minimum height from the font (again after a font or language change)."""
        cell = self.cells.cell_size()
        self.setGridSize(cell + QSize(GAP, GAP))
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        self.setMinimumHeight(self.gridSize().height() + scroll_bar + 2 * self.frameWidth() + GAP)
        self.fit_flow()

    def fit_flow(self) -> None:
        grid = self.height() >= self.minimumHeight() + self.gridSize().height()  # room for a second row
        if grid is self._grid:
            return
        self._grid = grid
        off, needed = Qt.ScrollBarPolicy.ScrollBarAlwaysOff, Qt.ScrollBarPolicy.ScrollBarAsNeeded
        self.setHorizontalScrollBarPolicy(off if grid else needed)
        self.setVerticalScrollBarPolicy(needed if grid else off)
        self.setWrapping(grid)

    def is_strip(self) -> bool:
        return not self.isWrapping()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_flow()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit_metrics()

    def mouseDoubleClickEvent(self, event) -> None:
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        button = self.cells.button_at(self.visualRect(index), pos) if index.isValid() else None
        if button is not None:  # a quick second click on a button is a second click, not "open the image"
            self.cells.overlay_clicked.emit(index, button)
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event) -> None:
        # In the strip the wheel scrolls along it: most mice have no horizontal wheel.
        delta = event.angleDelta()
        if self.is_strip() and abs(delta.y()) > abs(delta.x()):
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta.y() * self.gridSize().width() // 120)  # a cell a notch
            event.accept()
            return
        super().wheelEvent(event)
