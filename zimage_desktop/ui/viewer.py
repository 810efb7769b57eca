"""A large view of one history image with every parameter and its lineage; next/previous."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt
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
        self.prev_button.setText(self.tr("◀ Newer"))
        self.next_button.setText(self.tr("Older ▶"))
        self.show_row(row)

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
        lines = [
            f"#{record.id}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.created))}",
            "", r.prompt, "",
            f"{self.tr('Size')}: {r.width}×{r.height}", f"{self.tr('Seed')}: {r.seed}", f"{self.tr('Steps')}: {r.steps}",
            f"{self.tr('Sampler')}: {r.sampler} · {r.scheduler}",
            f"{self.tr('Model')}: {record.model.get('name', '')} ({record.model.get('transformer_form', '')}, "
            f"{record.model.get('profile', '')})",
            f"{self.tr('Lineage')}: {chain}", f"{self.tr('File')}: {record.path}",
            "", json.dumps(record.timings, ensure_ascii=False),
        ]
        self.details.setPlainText("\n".join(lines))
        self.setWindowTitle(r.prompt[:60])
        self.gallery.view.setCurrentIndex(model.index(row))
