"""The model manager's first view: one action that downloads the set recommended for this
computer, the folder it goes to, and "Choose files…" for the detailed list (hidden until asked)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

GB = 1e9


class RecommendedSet(QWidget):
    download_requested = Signal()
    details_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recommendedSet")
        self._missing_bytes: int | None = None  # None while the computer is being detected
        self._folder = ""
        self.download = QPushButton()
        self.download.setObjectName("downloadRecommendedButton")
        self.download.clicked.connect(self.download_requested.emit)
        self.destination = QLabel()
        self.destination.setObjectName("destinationLabel")
        self.destination.setWordWrap(True)
        self.choose = QPushButton()
        self.choose.setObjectName("chooseFilesButton")
        self.choose.setCheckable(True)
        self.choose.toggled.connect(self.details_toggled.emit)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.download, 1)
        row.addWidget(self.choose)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.destination)
        self.retranslate()

    def show_state(self, missing_bytes: int | None, folder: str, busy: bool) -> None:
        """``missing_bytes``: what the recommended set still lacks (None: still detecting)."""
        self._missing_bytes, self._folder = missing_bytes, folder
        self.download.setEnabled(missing_bytes is not None and missing_bytes > 0 and not busy)
        self.retranslate()

    def retranslate(self) -> None:
        missing = self._missing_bytes
        if missing is None:
            text = self.tr("Detecting this computer…")
        elif missing > 0:
            text = self.tr("Download the recommended set (%1 GB)").replace("%1", f"{missing / GB:.1f}")
        else:
            text = self.tr("The recommended set is installed")
        self.download.setText(text)
        self.choose.setText(self.tr("Choose files…"))
        self.destination.setText(self.tr("Into the models folder: %1 (change it in Settings)").replace("%1", self._folder))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
