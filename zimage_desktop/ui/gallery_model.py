"""The gallery's model: history rows paged from SQLite, with their thumbnails.

The model never loads all rows: ``fetchMore`` pulls pages as the view scrolls. Thumbnails are read
on a thread pool into a bounded LRU cache; a row without one shows a placeholder until it arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap

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
        if role == Qt.ItemDataRole.DisplayRole:  # whole: the delegate elides it to the cell's width
            return " ".join(record.prompt.split())
        if role == self.RecordRole:
            return record
        return None

    def update_record(self, record: HistoryRecord) -> None:
        """A changed row (say, a favourite) redrawn in place: a reload would lose the scroll
        position and the selection."""
        row = self.row_of.get(record.id)
        if row is not None:
            self.rows[row] = record
            self.dataChanged.emit(self.index(row), self.index(row))

    def remove_records(self, ids: set[int]) -> None:
        """Rows deleted from the store, taken out of the view without a reload (same reason)."""
        for row in sorted((self.row_of[i] for i in ids if i in self.row_of), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.endRemoveRows()
            # later pages are read by offset, which the deleted rows no longer take up
            self.total -= 1
            self.fetched -= 1
        self.row_of = {record.id: row for row, record in enumerate(self.rows)}

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
