"""A large view of one history image with every parameter and its lineage; next/previous."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout

from .preview_view import PreviewView


class ImageViewer(QDialog):
    def __init__(self, gallery, row: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.gallery, self.row = gallery, row
        self.resize(1200, 800)
        self.image = PreviewView()
        self.details = QPlainTextEdit()
        self.details.setObjectName("viewerDetails")
        self.details.setReadOnly(True)
        self.prev_button, self.next_button = QPushButton(), QPushButton()
        self.prev_button.clicked.connect(lambda: self.show_row(self.row - 1))
        self.next_button.clicked.connect(lambda: self.show_row(self.row + 1))
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: self.show_row(self.row - 1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: self.show_row(self.row + 1))
        side = QVBoxLayout()
        side.addWidget(self.details, 1)
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)
        side.addLayout(nav)
        layout = QHBoxLayout(self)
        layout.addWidget(self.image, 3)
        layout.addLayout(side, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.prev_button.setText(self.tr("◀ Newer"))
        self.next_button.setText(self.tr("Older ▶"))
        self.show_row(self.row)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def timings_text(self, timings: dict) -> str:
        """The stages' seconds in words ("encode 0.3 s · denoise 12.1 s …"), known stages first."""
        names = {"load_s": self.tr("load"), "encode_s": self.tr("encode"), "denoise_s": self.tr("denoise"),
                 "decode_s": self.tr("decode"), "total_s": self.tr("total")}
        keys = [k for k in names if k in timings] + sorted(k for k in timings if k not in names)
        parts = []
        for key in keys:
            value = timings[key]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parts.append(self.tr("%1 %2 s").replace("%1", names.get(key, key.removesuffix("_s")))
                             .replace("%2", f"{value:.1f}"))
        return " · ".join(parts)

    def show_row(self, row: int) -> None:
        model = self.gallery.model
        if row >= model.rowCount() and model.canFetchMore():
            model.fetchMore()
        if not 0 <= row < model.rowCount():
            return
        self.row = row
        record = model.rows[row]
        self.image.show_image(QImage(record.path))
        r = record.request
        chain = " → ".join(f"#{x.id}" for x in self.gallery.store.lineage(record.id))
        m = record.model
        fields = [  # tr() outside f-strings: lupdate does not look inside them
            (self.tr("Size"), f"{r.width}×{r.height}"), (self.tr("Seed"), str(r.seed)), (self.tr("Steps"), str(r.steps)),
            (self.tr("Sampler"), f"{r.sampler} · {r.scheduler}"),
            (self.tr("Model"), f"{m.get('name', '')} ({m.get('transformer_form', '')}, {m.get('profile', '')})"),
            (self.tr("Lineage"), chain), (self.tr("File"), str(record.path)),
        ]
        if record.timings:
            fields.append((self.tr("Time"), self.timings_text(record.timings)))
        colon = self.tr(": ")
        lines = [f"#{record.id}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.created))}", "", r.prompt, ""]
        lines += [name + colon + value for name, value in fields]
        self.details.setPlainText("\n".join(lines))
        self.setWindowTitle(r.prompt[:60])
        self.gallery.view.setCurrentIndex(model.index(row))
