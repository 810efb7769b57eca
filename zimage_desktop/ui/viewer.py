"""A large view of one history image with every parameter and its lineage; next/previous, and the
gallery's actions on the image shown (each with its key)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPlainTextEdit, QPushButton, QToolBar, QVBoxLayout

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
        body = QHBoxLayout()
        body.addWidget(self.image, 3)
        body.addLayout(side, 1)
        self.toolbar = QToolBar()
        self.toolbar.setObjectName("viewerToolbar")
        self.commands = self._build_commands()
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addLayout(body, 1)
        self.retranslate()  # also shows the row

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

    def edited_text(self, r) -> str:
        """For an edited image: the mode, its strength and the entry it was made from (lineage)."""
        mode = getattr(r, "mode", "txt2img")
        if mode == "txt2img":
            return ""
        names = {"img2img": self.tr("image to image"), "inpaint": self.tr("inpaint"), "outpaint": self.tr("outpaint"),
                 "upscale": self.tr("upscale")}
        text = self.tr("%1, strength %2").replace("%1", names.get(mode, mode)).replace("%2", f"{r.strength:g}")
        if mode == "upscale":
            text += f" · ×{r.upscale:g}"
        if getattr(r, "source_entry", None) is not None:
            text += "  " + self.tr("from #%1").replace("%1", str(r.source_entry))
        return text

    def _build_commands(self) -> dict[str, QAction]:
        gallery = self.gallery.commands
        actions = (
            ("use", "U", self.use_parameters), ("rerun", "R", gallery["rerun"].trigger),
            ("vary", "Shift+R", gallery["vary"].trigger), ("favourite", "F", self.toggle_favourite),
            ("copy", QKeySequence.StandardKey.Copy, gallery["copy"].trigger),
            ("save", QKeySequence.StandardKey.Save, lambda: self.save_as()),
            ("folder", None, gallery["folder"].trigger), ("delete", QKeySequence.StandardKey.Delete, self.delete),
        )
        commands = {}
        for name, key, slot in actions:
            action = QAction(self)
            action.setObjectName(f"viewer_{name}")
            if key is not None:
                action.setShortcut(QKeySequence(key))
            # the gallery's selection is the image shown (show_row keeps it so): its actions apply
            action.triggered.connect(lambda _=False, slot=slot: self._on_shown(slot))
            self.toolbar.addAction(action)
            commands[name] = action
        commands["favourite"].setCheckable(True)
        return commands

    def retranslate(self) -> None:
        self.prev_button.setText(self.tr("◀ Newer  (←)"))
        self.next_button.setText(self.tr("Older  (→) ▶"))
        texts = {"use": self.tr("Use parameters"), "rerun": self.tr("Re-run exactly"), "vary": self.tr("Vary (new seed)"),
                 "favourite": self.tr("★ Favourite"), "copy": self.tr("Copy image"), "save": self.tr("Save as…"),
                 "folder": self.tr("Open folder"), "delete": self.tr("Delete")}
        for name, text in texts.items():
            key = self.commands[name].shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            self.commands[name].setText(text)  # the key in the tooltip: with it, the bar did not fit 980 px
            self.commands[name].setToolTip(f"{text}  ({key})" if key else text)
        self.show_row(self.row)  # the field names are translated too

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def shown(self):
        return self.gallery.model.rows[self.row]

    def _on_shown(self, slot) -> None:
        self.gallery.select_only(self.gallery.model.index(self.row))
        slot()

    def use_parameters(self) -> None:
        self.gallery.use_parameters.emit(self.shown())
        self.close()  # the prompt editor, filled in, is what the user wants to see next

    def toggle_favourite(self) -> None:
        self.gallery.toggle_favourite()
        self._show_near()  # with the favourites filter on, the image may have left the gallery

    def delete(self) -> None:
        self.gallery.delete_selected()
        self._show_near()

    def _show_near(self) -> None:
        """After the gallery lost the image shown: the next older one now has its row."""
        if self.gallery.model.rowCount() == 0:
            self.close()
        else:
            self.show_row(min(self.row, self.gallery.model.rowCount() - 1))

    def save_as(self, name: str = "") -> str:
        """A copy of the PNG, its metadata included."""
        from .file_dialogs import ask_save_name

        source = Path(self.shown().path)
        name = name or ask_save_name(self, source.name)
        if name:
            Path(name).write_bytes(source.read_bytes())
        return name

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
        edited = self.edited_text(r)
        if edited:
            fields.insert(0, (self.tr("Edited"), edited))
        if record.timings:
            fields.append((self.tr("Time"), self.timings_text(record.timings)))
        colon = self.tr(": ")
        lines = [f"#{record.id}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.created))}", "", r.prompt, ""]
        lines += [name + colon + value for name, value in fields]
        self.details.setPlainText("\n".join(lines))
        self.setWindowTitle(r.prompt[:60])
        self.gallery.view.setCurrentIndex(model.index(row))
        self.commands["favourite"].setChecked(record.favourite)
