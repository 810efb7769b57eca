"""The history gallery: thumbnails paged from SQLite, live search, favourites, re-generation.

The model never loads all rows: ``fetchMore`` pulls pages as the view scrolls. Thumbnails are read
on a thread pool into a bounded LRU cache; a row without one shows a placeholder until it arrives.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QListView, QPushButton, QVBoxLayout, QWidget,
)

from ..history import operations
from ..history.store import HistoryRecord, HistoryStore

PAGE = 200
ICON = 128


class _Signals(QObject):
    loaded = Signal(int, QImage)


def _load_thumb(record: HistoryRecord, signals: _Signals) -> None:
    """Runs on a pool thread: QImage (unlike QPixmap) may be made off the GUI thread. A missing
    thumbnail is made again from the image."""
    image = QImage(record.thumb_path) if record.thumb_path else QImage()
    if image.isNull():
        image = QImage(record.path)
        if not image.isNull() and record.thumb_path:
            small = image.scaled(256, 256, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            Path(record.thumb_path).parent.mkdir(parents=True, exist_ok=True)
            small.save(record.thumb_path)  # JPEG, from the .jpg name
    if not image.isNull():
        image = image.scaled(ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    signals.loaded.emit(record.id, image)


class GalleryModel(QAbstractListModel):
    RecordRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, store: HistoryStore, cache_size: int = 600) -> None:
        super().__init__()
        self.store = store
        self.query, self.favourites = "", False
        self.since: float | None = None
        self.shape = ""
        self.rows: list[HistoryRecord] = []
        self.row_of: dict[int, int] = {}  # history id -> row, for thumbnails arriving later
        self.total = 0
        self.fetched = 0
        self.cache: OrderedDict[int, QPixmap] = OrderedDict()
        self.cache_size = cache_size
        self.pending: set[int] = set()
        self.closed = False
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="thumbnails")
        self.signals = _Signals()
        self.signals.loaded.connect(self._thumb_loaded)
        self.placeholder = QPixmap(ICON, ICON)
        self.placeholder.fill(QColor("#888"))
        self.reload()

    def reload(self, query: str | None = None, favourites: bool | None = None, since: float | None | bool = False,
               shape: str | None = None) -> None:
        self.beginResetModel()
        if query is not None:
            self.query = query
        if favourites is not None:
            self.favourites = favourites
        if since is not False:
            self.since = since  # type: ignore[assignment]
        if shape is not None:
            self.shape = shape
        filters = (self.query, self.favourites, self.since, self.shape)
        self.total = self.store.count(*filters)
        self.rows = self.store.page(0, PAGE, *filters)
        self.fetched = len(self.rows) + len(self.store.last_skipped)  # rows read, damaged ones included
        self.row_of = {record.id: row for row, record in enumerate(self.rows)}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self.fetched < self.total

    def fetchMore(self, parent=QModelIndex()) -> None:
        more = self.store.page(self.fetched, PAGE, self.query, self.favourites, self.since, self.shape)
        self.fetched += len(more) + len(self.store.last_skipped)
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.row_of.update((record.id, len(self.rows) + i) for i, record in enumerate(more))
            self.rows.extend(more)
            self.endInsertRows()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        record = self.rows[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumb(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            r = record.request
            return f"{r.prompt}\n{r.width}×{r.height} · seed {r.seed} · #{record.id}"
        if role == Qt.ItemDataRole.DisplayRole:
            return record.prompt.replace("\n", " ")[:24]
        if role == self.RecordRole:
            return record
        return None

    def _thumb(self, record: HistoryRecord) -> QPixmap:
        pixmap = self.cache.get(record.id)
        if pixmap is not None:
            self.cache.move_to_end(record.id)
            return pixmap
        if record.id not in self.pending and not self.closed:
            self.pending.add(record.id)
            self.pool.submit(_load_thumb, record, self.signals)
        return self.placeholder

    def _thumb_loaded(self, record_id: int, image: QImage) -> None:
        self.pending.discard(record_id)
        self.cache[record_id] = QPixmap.fromImage(image) if not image.isNull() else self.placeholder
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        row = self.row_of.get(record_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class GalleryView(QWidget):
    use_parameters = Signal(object)  # HistoryRecord
    rerun = Signal(object, bool)  # HistoryRecord, new seed?
    status = Signal(str)

    def __init__(self, store: HistoryStore, trash_dir: Path, parent=None, paths=None) -> None:
        super().__init__(parent)
        self.store = store
        self.paths = paths  # config.Paths, for thumbnails of imported images
        self.trash_dir = trash_dir
        self.undo_stack: list[operations.Trashed] = []
        self.model = GalleryModel(store)
        self.search = QLineEdit()
        self.search.setObjectName("gallerySearch")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.fav_only = QCheckBox()
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
        self.view = QListView()
        self.view.setObjectName("galleryView")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setIconSize(QSize(ICON, ICON))
        self.view.setUniformItemSizes(True)
        self.view.setGridSize(QSize(ICON + 24, ICON + 40))
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(100)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setModel(self.model)
        self.view.doubleClicked.connect(lambda index: self.open_viewer())
        self.buttons = {name: QPushButton() for name in
                        ("view", "compare", "use", "rerun", "vary", "favourite", "copy", "export", "import", "delete",
                         "undo", "folder")}
        self.buttons["compare"].clicked.connect(self.compare_selected)
        self.buttons["copy"].clicked.connect(self.copy_selected)
        self.buttons["import"].clicked.connect(lambda: self.import_folder())
        self.buttons["view"].clicked.connect(self.open_viewer)
        self.buttons["export"].clicked.connect(self.export_selected)
        self.buttons["use"].clicked.connect(lambda: self._each(self.use_parameters.emit, first_only=True))
        self.buttons["rerun"].clicked.connect(lambda: self._each(lambda r: self.rerun.emit(r, False)))
        self.buttons["vary"].clicked.connect(lambda: self._each(lambda r: self.rerun.emit(r, True)))
        self.buttons["favourite"].clicked.connect(self.toggle_favourite)
        self.buttons["delete"].clicked.connect(self.delete_selected)
        self.buttons["undo"].clicked.connect(self.undo_delete)
        self.buttons["folder"].clicked.connect(self._open_folder)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.date_filter)
        top.addWidget(self.shape_filter)
        top.addWidget(self.fav_only)
        actions = QHBoxLayout()
        for b in self.buttons.values():
            actions.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(actions)
        self.retranslate()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search prompts (中文 or English)…"))
        self.fav_only.setText(self.tr("Favourites"))
        for i, text in enumerate((self.tr("Any time"), self.tr("Today"), self.tr("Last 7 days"), self.tr("Last 30 days"))):
            self.date_filter.setItemText(i, text)
        for i, text in enumerate((self.tr("Any shape"), self.tr("Square"), self.tr("Landscape"), self.tr("Portrait"))):
            self.shape_filter.setItemText(i, text)
        for key, text in (("view", self.tr("View")), ("compare", self.tr("Compare two")), ("export", self.tr("Export…")),
                          ("copy", self.tr("Copy")), ("import", self.tr("Import…")), ("use", self.tr("Use parameters")),
                          ("rerun", self.tr("Re-run exactly")),
                          ("vary", self.tr("Vary (new seed)")), ("favourite", self.tr("★ Favourite")),
                          ("delete", self.tr("Delete")), ("undo", self.tr("Undo delete")),
                          ("folder", self.tr("Open folder"))):
            self.buttons[key].setText(text)

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

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
        for record in self.selected():
            self.store.set_favourite(record.id, not record.favourite)
        self.model.reload()

    def delete_selected(self) -> None:
        """The image goes to a trash folder inside the data folder; Undo brings row and file back."""
        records = self.selected()
        self.undo_stack += operations.trash(self.store, records, self.trash_dir)
        self.model.reload()
        self.status.emit(self.tr("Deleted %n image(s); Undo brings them back.", "", len(records)))

    def undo_delete(self) -> None:
        if not self.undo_stack:
            return
        operations.restore(self.store, self.undo_stack.pop())
        self.model.reload()

    def open_viewer(self) -> None:
        from .viewer import ImageViewer

        index = self.view.currentIndex()
        if index.isValid():
            self.viewer = ImageViewer(self, index.row(), self)
            self.viewer.show()

    def compare_selected(self) -> None:
        """Two selected images side by side (e.g. poster variants), with their seeds."""
        from PySide6.QtWidgets import QDialog, QGridLayout, QLabel

        from .preview_view import PreviewView

        records = self.selected()
        if len(records) != 2:
            self.status.emit(self.tr("Select two images to compare."))
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
        self.status.emit(self.tr("Exported %n image(s).", "", len(out)))
        return out

    def copy_selected(self) -> None:
        from PySide6.QtGui import QGuiApplication

        records = self.selected()
        if records:
            QGuiApplication.clipboard().setImage(QImage(records[0].path))

    def import_folder(self, folder: str = "", paths=None) -> int:
        """Add a folder of PNGs (this app, A1111/Forge, ComfyUI) to the history, where they are."""
        from PySide6.QtWidgets import QFileDialog

        from ..history.saving import import_images

        folder = folder or QFileDialog.getExistingDirectory(self, self.tr("Import images from folder"))
        if not folder or paths is None and self.paths is None:
            return 0
        added, skipped = import_images(Path(folder), paths or self.paths, self.store)
        self.model.reload()
        self.status.emit(self.tr("Imported %1 images; skipped %2 without usable parameters.")
                         .replace("%1", str(len(added))).replace("%2", str(len(skipped))))
        return len(added)

    def shutdown(self) -> None:
        """Stop thumbnail loading (call before the window goes away)."""
        self.model.closed = True
        self.model.pool.shutdown(wait=True, cancel_futures=True)

    def _open_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        records = self.selected()
        if records:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(records[0].path).parent)))
