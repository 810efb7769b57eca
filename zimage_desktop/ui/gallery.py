"""The history gallery: a strip or grid of thumbnails with live search and filters, and every action
on the selected images in three places — buttons over the thumbnail under the mouse, the context
menu (and the toolbar's "More" menu, the same actions), and keys (Enter view, Del delete,
F favourite, Ctrl+C copy, R re-run, Shift+R vary, E edit, Ctrl+Z undo delete).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QMenu, QToolButton, QVBoxLayout, QWidget

from ..history import operations
from ..history.store import HistoryRecord, HistoryStore
from .gallery_cells import ThumbnailListView
from .gallery_model import GalleryModel

# what each action is called in ``GalleryView.commands``, and its keys
KEYS: dict[str, tuple[QKeySequence | QKeySequence.StandardKey | str, ...]] = {
    "view": (QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)),
    "use": (),
    "rerun": ("R",),
    "vary": ("Shift+R",),
    "edit": ("E",),
    "favourite": ("F",),
    "copy": (QKeySequence.StandardKey.Copy,),
    "export": (),
    "compare": (),
    "canvas": (),
    "folder": (),
    "delete": (QKeySequence.StandardKey.Delete,),
    "undo": (QKeySequence.StandardKey.Undo,),
}
# separators in the context menu come before these
GROUP_STARTS = ("favourite", "delete")
NEEDS_SELECTION = ("view", "use", "rerun", "vary", "edit", "favourite", "copy", "export", "canvas", "folder", "delete")


class GalleryView(QWidget):
    use_parameters = Signal(object)  # HistoryRecord
    rerun = Signal(object, bool)  # HistoryRecord, new seed?
    edit = Signal(object)  # HistoryRecord: open it on the canvas for editing
    compare_on_canvas = Signal()  # the selected image against the canvas's current one
    status = Signal(object)  # a function that says it in the UI language (StatusLine.say)

    def __init__(self, store: HistoryStore, trash_dir: Path, parent=None, paths=None) -> None:
        super().__init__(parent)
        self.store = store
        self.paths = paths  # config.Paths, for thumbnails of imported images
        self.trash_dir = trash_dir
        # the sha256 of inputs queued jobs still need (the window sets it): a delete never takes them
        self.inputs_in_use: Callable[[], set[str]] = set
        self.undo_stack: list[list[operations.Trashed]] = []  # one entry per delete, however many images
        self.model = GalleryModel(store)
        self.search = QLineEdit()
        self.search.setObjectName("gallerySearch")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.fav_only = QToolButton()
        self.fav_only.setObjectName("galleryFavouritesOnly")
        self.fav_only.setCheckable(True)
        self.fav_only.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.fav_only.toggled.connect(lambda _: self._apply_search())
        self.date_filter, self.shape_filter = QComboBox(), QComboBox()
        self.date_filter.setObjectName("galleryDateFilter")
        self.shape_filter.setObjectName("galleryShapeFilter")
        for days in (0, 1, 7, 30):
            self.date_filter.addItem("", days)
        for shape in ("", "square", "landscape", "portrait"):
            self.shape_filter.addItem("", shape)
        self.date_filter.currentIndexChanged.connect(lambda _: self._apply_search())
        self.shape_filter.currentIndexChanged.connect(lambda _: self._apply_search())
        self.view = ThumbnailListView()
        self.view.setObjectName("galleryView")
        self.view.setModel(self.model)
        self.view.doubleClicked.connect(lambda index: self.open_viewer())
        self.view.cells.overlay_clicked.connect(self._overlay_clicked)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.commands = self._build_commands()
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_enabled())
        self.model.modelReset.connect(self._update_enabled)
        self.import_button = QToolButton()
        self.import_button.setObjectName("galleryImportButton")
        self.import_button.clicked.connect(lambda: self.import_folder())
        self.more_button = QToolButton()
        self.more_button.setObjectName("galleryMoreButton")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # the arrow is in the text: the style would draw its own over the last letter
        self.more_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        more = self.menu(self)
        more.addSeparator()
        self.import_action = more.addAction("", lambda: self.import_folder())
        self.more_button.setMenu(more)
        self.context_menu = self.menu(self.view)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        for widget in (self.date_filter, self.shape_filter, self.fav_only, self.import_button, self.more_button):
            top.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        # what an empty gallery has to say: a first run, or a search that matches nothing
        self.empty = QLabel()
        self.empty.setObjectName("galleryEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)  # drawn in the placeholder colour
        layout.addWidget(self.empty, 1)
        for signal in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved):
            signal.connect(self._show_empty)
        self.retranslate()
        self._update_enabled()

    def _build_commands(self) -> dict[str, QAction]:
        slots = {
            "view": self.open_viewer, "compare": self.compare_selected, "canvas": self.compare_on_canvas.emit,
            "copy": self.copy_selected,
            "export": lambda: self.export_selected(), "folder": self._open_folder,
            "use": lambda: self._each(self.use_parameters.emit, first_only=True),
            "rerun": lambda: self._each(lambda r: self.rerun.emit(r, False)),
            "vary": lambda: self._each(lambda r: self.rerun.emit(r, True)),
            "edit": lambda: self._each(self.edit.emit, first_only=True),
            "favourite": self.toggle_favourite, "delete": self.delete_selected, "undo": self.undo_delete,
        }
        commands = {}
        for name, keys in KEYS.items():
            action = QAction(self)
            action.setObjectName(f"gallery_{name}")
            action.setShortcuts([QKeySequence(k) for k in keys])
            # only while the thumbnails have focus: F or R typed into the search box stay letters
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _=False, slot=slots[name]: slot())
            self.view.addAction(action)
            commands[name] = action
        return commands

    def menu(self, parent: QWidget) -> QMenu:
        """Every action on the selection, with its keys (the menu shows them)."""
        menu = QMenu(parent)
        for name, action in self.commands.items():
            if name in GROUP_STARTS:
                menu.addSeparator()
            menu.addAction(action)
        return menu

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search prompts (中文 or English)…"))
        self.fav_only.setText(self.tr("★ Favourites"))
        self.fav_only.setToolTip(self.tr("Show only favourites"))
        self.import_button.setText(self.tr("Import…"))
        self.import_button.setToolTip(self.tr("Add a folder of PNGs (this app, A1111/Forge, ComfyUI) to the history"))
        self.more_button.setText(self.tr("More") + " ▾")
        self.import_action.setText(self.tr("Import…"))
        for i, text in enumerate((self.tr("Any time"), self.tr("Today"), self.tr("Last 7 days"), self.tr("Last 30 days"))):
            self.date_filter.setItemText(i, text)
        for i, text in enumerate((self.tr("Any shape"), self.tr("Square"), self.tr("Landscape"), self.tr("Portrait"))):
            self.shape_filter.setItemText(i, text)
        texts = {"view": self.tr("View"), "compare": self.tr("Compare two"), "export": self.tr("Export…"),
                 "canvas": self.tr("Compare with the image on the canvas"),
                 "copy": self.tr("Copy image"), "use": self.tr("Use parameters"),
                 "rerun": self.tr("Re-run exactly"), "vary": self.tr("Vary (new seed)"),
                 "edit": self.tr("Edit (inpaint, outpaint, upscale…)"),
                 "favourite": self.tr("★ Favourite"), "delete": self.tr("Delete"), "undo": self.tr("Undo delete"),
                 "folder": self.tr("Open folder")}
        for name, text in texts.items():
            self.commands[name].setText(text)
        self.view.cells.tips = {
            "favourite": self.tr("Favourite (F)"), "rerun": self.tr("Re-run exactly (R)"),
            "delete": self.tr("Delete (Del)"),
        }
        self._show_empty()

    def _show_empty(self, *_: object) -> None:
        empty = self.model.rowCount() == 0
        filtered = bool(self.search.text().strip() or self.fav_only.isChecked() or self.date_filter.currentData()
                        or self.shape_filter.currentData())
        if empty and filtered and self.search.text().strip():
            self.empty.setText(self.tr("Nothing matches “%1”. Try other words, or clear the search and the filters.")
                               .replace("%1", self.search.text().strip()))
        elif empty and filtered:
            self.empty.setText(self.tr("No image matches these filters. Set them back to show every image."))
        elif empty:
            self.empty.setText(self.tr("No images yet. Type what you want to see and press Ctrl+Enter: "
                                       "every image you make is kept here, with its prompt and seed."))
        self.view.setVisible(not empty)
        self.empty.setVisible(empty)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _update_enabled(self) -> None:
        count = len(self.view.selectionModel().selectedIndexes())
        for name in NEEDS_SELECTION:
            self.commands[name].setEnabled(count > 0)
        self.commands["compare"].setEnabled(count == 2)
        self.commands["undo"].setEnabled(bool(self.undo_stack))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid() and not self.view.selectionModel().isSelected(index):
            self.select_only(index)  # the menu acts on what was right-clicked
        self.context_menu.popup(self.view.viewport().mapToGlobal(pos))

    def _overlay_clicked(self, index: QModelIndex, name: str) -> None:
        self.select_only(index)  # the button acts on its own image, not the whole selection
        self.commands[name].trigger()

    def select_only(self, index: QModelIndex) -> None:
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _apply_search(self) -> None:
        started = time.perf_counter()
        days = self.date_filter.currentData()
        since = time.time() - days * 86400 if days else None
        self.model.reload(self.search.text().strip(), self.fav_only.isChecked(), since, self.shape_filter.currentData())
        self.last_search_ms = (time.perf_counter() - started) * 1000

    def refresh(self) -> None:
        self.model.reload()

    def _record(self, index) -> HistoryRecord:
        return self.model.data(index, GalleryModel.RecordRole)

    def selected(self) -> list[HistoryRecord]:
        return [self._record(i) for i in sorted(self.view.selectionModel().selectedIndexes(), key=lambda i: i.row())]

    def _each(self, fn, first_only: bool = False) -> None:
        records = self.selected()
        for record in records[:1] if first_only else records:
            fn(record)

    def toggle_favourite(self) -> None:
        records = self.selected()
        for record in records:
            self.store.set_favourite(record.id, not record.favourite)
        if self.model.favourites:  # an image taken out of the favourites leaves this view
            self.model.reload()
            return
        for record in records:
            changed = self.store.get(record.id)
            if changed is not None:
                self.model.update_record(changed)
        self._update_enabled()

    def delete_selected(self) -> None:
        """The image goes to a trash folder inside the data folder; Undo brings row and file back."""
        records = self.selected()
        if not records:
            return
        row = self.view.currentIndex().row()
        self.undo_stack.append(operations.trash(self.store, records, self.trash_dir, self.inputs_in_use()))
        self.model.remove_records({r.id for r in records})
        if self.model.rowCount():  # the next image is selected, so Del can go on
            self.select_only(self.model.index(max(0, min(row, self.model.rowCount() - 1))))
        self._update_enabled()
        self.status.emit(lambda: self.tr("Deleted %n image(s); Undo brings them back.", "", len(records)))

    def undo_delete(self) -> None:
        if not self.undo_stack:
            return
        restored = self.undo_stack.pop()
        for item in restored:
            new_id = operations.restore(self.store, item)
            if item.record.favourite:
                self.store.set_favourite(new_id, True)
        self.model.reload()
        self.status.emit(lambda: self.tr("Restored %n image(s).", "", len(restored)))

    def open_viewer(self) -> None:
        from .viewer import ImageViewer

        index = self.view.currentIndex()
        if index.isValid():
            self.viewer = ImageViewer(self, index.row(), self)
            self.viewer.show()
            self.viewer.activateWindow()  # its keys (←/→, F, Del…) work at once

    def compare_selected(self) -> None:
        """Two selected images side by side (e.g. poster variants), with their seeds."""
        from PySide6.QtWidgets import QDialog, QGridLayout, QLabel

        from .preview_view import PreviewView

        records = self.selected()
        if len(records) != 2:
            self.status.emit(lambda: self.tr("Select two images to compare."))
            return
        dialog = QDialog(self)
        dialog.setObjectName("compareDialog")
        dialog.setWindowTitle(self.tr("Compare"))
        grid = QGridLayout(dialog)
        for column, record in enumerate(records):
            view = PreviewView()
            view.show_image(QImage(record.path))
            grid.addWidget(view, 0, column)
            grid.addWidget(QLabel(f"#{record.id} · seed {record.request.seed}"), 1, column)
        dialog.resize(1200, 700)
        self.compare_dialog = dialog
        dialog.show()

    def export_selected(self, folder: str | None = None) -> list[Path]:
        """Copy the selected PNGs, metadata included, into a folder."""
        from PySide6.QtWidgets import QFileDialog

        records = self.selected()
        if not records:
            return []
        folder = folder or QFileDialog.getExistingDirectory(self, self.tr("Export to folder"))
        if not folder:
            return []
        out = operations.export(records, Path(folder))
        self.status.emit(lambda: self.tr("Exported %n image(s).", "", len(out)))
        return out

    def copy_selected(self) -> None:
        records = self.selected()
        if records:
            QGuiApplication.clipboard().setImage(QImage(records[0].path))
            self.status.emit(lambda: self.tr("Image copied."))

    def import_folder(self, folder: str = "", paths=None) -> int:
        """Add a folder of PNGs (this app, A1111/Forge, ComfyUI) to the history, where they are."""
        from PySide6.QtWidgets import QFileDialog

        from ..history.saving import import_images

        folder = folder or QFileDialog.getExistingDirectory(self, self.tr("Import images from folder"))
        if not folder or paths is None and self.paths is None:
            return 0
        added, skipped = import_images(Path(folder), paths or self.paths, self.store)
        self.model.reload()
        self.status.emit(lambda: self.tr("Imported %1 images; skipped %2 without usable parameters.")
                         .replace("%1", str(len(added))).replace("%2", str(len(skipped))))
        return len(added)

    def shutdown(self) -> None:
        """Stop thumbnail loading (call before the window goes away)."""
        self.model.closed = True
        self.model.pool.shutdown(wait=True, cancel_futures=True)

    def _open_folder(self) -> None:
        from .file_dialogs import reveal_folder

        records = self.selected()
        if records:
            reveal_folder(Path(records[0].path).parent)
