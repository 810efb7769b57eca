"""The large image area: a zoom bar over the preview, and compare — the current result against
the previous one or an image chosen in the history, side by side or split by a line the user
drags. The reference image is always on the left, the current one on the right."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from .preview_view import PreviewView

OFF, SIDE_BY_SIDE, SPLIT = "off", "side", "split"
PREVIOUS, HISTORY = "previous", "history"


class CanvasPanel(QWidget):
    status = Signal(object)  # a function that says it in the UI language (StatusLine.say)
    edit_requested = Signal()  # "Edit" on the result shown

    def __init__(self, preview: PreviewView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvasPanel")
        self.preview = preview
        self.other = PreviewView()
        self.other.setObjectName("compareView")
        self.other.hide()
        self.current: QImage | None = None  # the latest finished image
        self.previous: QImage | None = None  # the one before it
        self.chosen: QImage | None = None  # the history image picked to compare with
        self.history_image: Callable[[], QImage | None] = lambda: None  # the window's history selection
        self.fit_button, self.actual_button, self.zoom_out_button, self.zoom_in_button = (
            QToolButton() for _ in range(4))
        for button, name in ((self.fit_button, "fitButton"), (self.actual_button, "actualSizeButton"),
                             (self.zoom_out_button, "zoomOutButton"), (self.zoom_in_button, "zoomInButton")):
            button.setObjectName(name)
            button.setAutoRaise(True)
        self.zoom_out_button.setText("−")
        self.zoom_in_button.setText("+")
        self.fit_button.clicked.connect(lambda: self.preview.set_zoom(None))
        self.actual_button.clicked.connect(lambda: self.preview.set_zoom(1.0))
        self.zoom_out_button.clicked.connect(lambda: self.preview.zoom_by(1 / 1.25))
        self.zoom_in_button.clicked.connect(lambda: self.preview.zoom_by(1.25))
        self.edit_button = QToolButton()
        self.edit_button.setObjectName("canvasEditButton")
        self.edit_button.clicked.connect(self.edit_requested.emit)
        self.zoom_label = QLabel()
        self.zoom_label.setObjectName("zoomLabel")
        self.compare_label = QLabel()
        self.mode = QComboBox()
        self.mode.setObjectName("compareMode")
        for key in (OFF, SIDE_BY_SIDE, SPLIT):
            self.mode.addItem("", key)
        self.source = QComboBox()
        self.source.setObjectName("compareSource")
        for key in (PREVIOUS, HISTORY):
            self.source.addItem("", key)
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setObjectName("compareSplit")
        self.split_slider.setRange(0, 1000)
        self.split_slider.setValue(500)
        self.split_slider.setMaximumWidth(160)
        self.mode.currentIndexChanged.connect(self.refresh)
        self.source.activated.connect(self._source_chosen)  # also when the same entry is picked again
        self.split_slider.valueChanged.connect(lambda v: self.preview.set_split(self.preview.split_image, v / 1000))
        self.preview.split_moved.connect(lambda at: self.split_slider.setValue(round(at * 1000)))
        self.preview.zoom_changed.connect(self._zoom_changed)
        self.other.zoom_changed.connect(lambda: self.preview.set_zoom(self.other.zoom) if self.other.isVisible() else None)
        for mine, theirs in ((self.preview, self.other), (self.other, self.preview)):  # pan together
            mine.horizontalScrollBar().valueChanged.connect(theirs.horizontalScrollBar().setValue)
            mine.verticalScrollBar().valueChanged.connect(theirs.verticalScrollBar().setValue)
        for main, follower in ((self.preview.horizontalScrollBar(), self.other.horizontalScrollBar()),
                               (self.preview.verticalScrollBar(), self.other.verticalScrollBar())):
            # the side that just appeared starts where the user had panned to
            follower.rangeChanged.connect(lambda *_, m=main, f=follower: f.setValue(m.value()))
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        widgets: tuple[QWidget, ...] = (self.fit_button, self.actual_button, self.zoom_out_button, self.zoom_label,
                                         self.zoom_in_button, self.edit_button, self.compare_label, self.mode, self.source,
                                         self.split_slider)
        for i, widget in enumerate(widgets):
            if i == 6:
                bar.addStretch(1)
            bar.addWidget(widget)
        views = QHBoxLayout()
        views.setContentsMargins(0, 0, 0, 0)
        views.addWidget(self.other, 1)
        views.addWidget(self.preview, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(views, 1)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.fit_button.setText(self.tr("Fit"))
        self.fit_button.setToolTip(self.tr("Fit the image to the view (Ctrl+0)"))
        self.actual_button.setText("100 %")
        self.actual_button.setToolTip(self.tr("Actual size (Ctrl+1); Ctrl+wheel zooms, dragging pans"))
        self.edit_button.setText(self.tr("Edit"))
        self.edit_button.setToolTip(self.tr("Edit this image: change part of it, extend it, upscale it"))
        self.compare_label.setText(self.tr("Compare:"))
        for i, text in enumerate((self.tr("Off"), self.tr("Side by side"), self.tr("Split"))):
            self.mode.setItemText(i, text)
        for i, text in enumerate((self.tr("with the previous result"), self.tr("with the selected history image"))):
            self.source.setItemText(i, text)
        self.split_slider.setToolTip(self.tr("Where the line between the two images is (or drag the line)"))
        self._zoom_changed()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def set_result(self, image: QImage | None) -> None:
        """A finished image: it becomes the current one, and the last one becomes the previous."""
        if self.current is not None and image is not self.current:
            self.previous = self.current
        self.current = image
        self.preview.nominal = None
        self.preview.show_image(image)
        self.refresh()

    def job_started(self, width: int, height: int) -> None:
        """The previews that follow stand for a ``width`` × ``height`` image."""
        self.preview.nominal = QSize(width, height)

    def compare_with_history(self) -> None:
        """Compare the current image with the one selected in the history (split, unless a mode is on)."""
        self.source.setCurrentIndex(self.source.findData(HISTORY))
        self._source_chosen()
        if self.mode.currentData() == OFF:
            self.mode.setCurrentIndex(self.mode.findData(SPLIT))

    def reference(self) -> QImage | None:
        return self.previous if self.source.currentData() == PREVIOUS else self.chosen

    def _source_chosen(self) -> None:
        if self.source.currentData() == HISTORY:
            self.chosen = self.history_image()
        self.refresh()

    def refresh(self) -> None:
        mode = self.mode.currentData()
        self.source.setVisible(mode != OFF)
        self.split_slider.setVisible(mode == SPLIT)
        reference = self.reference() if mode != OFF else None
        if mode != OFF and reference is None:
            previous = self.source.currentData() == PREVIOUS
            self.status.emit(lambda: self.tr("Nothing to compare with yet: finish a second image, or select one in the "
                                             "history.") if previous else
                             self.tr("Select an image in the history to compare with."))
        self.preview.set_split(reference if mode == SPLIT else None, self.split_slider.value() / 1000)
        side = mode == SIDE_BY_SIDE and reference is not None
        if side:  # the zoom first: a fitted view that appears or changes image would reset the user's
            self.other.set_zoom(self.preview.zoom)
            self.other.show_image(reference)
        self.other.setVisible(side)

    def _zoom_changed(self) -> None:
        if self.other.isVisible() and self.other.zoom != self.preview.zoom:
            self.other.set_zoom(self.preview.zoom)
        self.zoom_label.setText(f"{self.preview.scale() * 100:.0f} %")
