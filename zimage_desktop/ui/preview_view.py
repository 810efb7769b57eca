"""The image area: the live preview scaled to fit, or the final image, at fit or 100%."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy


class PreviewView(QScrollArea):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("previewView")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.image: QImage | None = None
        self.placeholder = ""  # shown while there is no image; every render puts it back
        self.actual_size = False
        self.setMinimumSize(320, 320)

    def show_image(self, image: QImage | None) -> None:
        self.image = image
        self._render()

    def set_actual_size(self, on: bool) -> None:
        self.actual_size = on
        self.setWidgetResizable(not on)
        self._render()

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        if self.image is None:
            self.label.setText(text)

    def _render(self) -> None:
        if self.image is None:
            # setPixmap(QPixmap()) would clear the label's text too: a resize wiped the placeholder
            self.label.setText(self.placeholder)
            return
        pixmap = QPixmap.fromImage(self.image)
        if self.actual_size:
            self.label.setPixmap(pixmap)
            self.label.resize(pixmap.size())
            return
        target = self.viewport().size()
        # Small previews (1/8 of the image) are scaled smoothly up to the view.
        self.label.setPixmap(pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self.actual_size:
            self._render()
