"""The image history: SQLite in the data folder (WAL, versioned schema, full-text search).

One row per image with everything needed to find it and make it again: the full request, seed,
size, model files and hashes, plan, timings, favourite flag, tags and parent (lineage). Images
and thumbnails are written atomically before their row commits, so a crash leaves either nothing
or a complete image with its row. Prompts are searched with FTS5's trigram tokenizer (works for
Chinese); terms shorter than three characters, or SQLite builds without trigram, use LIKE.
The schema and its migrations are in ``schema``, the record read back in ``records``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from ..engine.request import GenerationRequest
from ..errors import UserFacingError
from ..messages import msg
from ..errors_os import BUSY, describe_os_error, describe_sqlite_error
from .records import HistoryRecord, sql_seed
from .schema import FTS_SQL, MIGRATIONS, SCHEMA_VERSION  # noqa: F401  (re-exported: tests name MIGRATIONS here)

OPEN_RETRY_S = 10.0

log = logging.getLogger(__name__)

THUMB_SIZE = 256


class HistoryError(UserFacingError):
    pass


class HistoryDamaged(HistoryError):
    """SQLite says the database file is damaged; ``history.repair`` can rebuild it."""


SHAPES = {"square": "width = height", "landscape": "width > height", "portrait": "width < height"}
COLUMNS = "id, created, request_json, model_json, timings_json, path, thumb_path, favourite, tags, parent_id"


class HistoryStore:
    """Thread-safe (one connection guarded by a lock; SQLite itself serialises writers)."""

    def __init__(self, db_path: Path, read_only: bool = False) -> None:
        """``read_only``: a history on a read-only disk or folder, opened as it is (no WAL files can
        be made there): everything can be read, nothing written."""
        self.db_path = Path(db_path)
        self.read_only = read_only
        try:
            if read_only:
                uri = self.db_path.resolve().as_uri() + "?mode=ro&immutable=1"
                self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            else:
                self.db_path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(str(self.db_path), check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            reason = describe_sqlite_error(exc) if isinstance(exc, sqlite3.Error) else describe_os_error(exc)
            raise HistoryError(msg("store.history_database_cannot_opened", "The history database {db_path} cannot be "
                                   "opened: {reason}.",
                                   db_path=self.db_path, reason=reason)) from None
        self._lock = threading.RLock()
        self.last_skipped: list[int] = []  # ids of rows the last read skipped (damaged JSON)
        deadline = time.monotonic() + OPEN_RETRY_S
        while True:
            try:
                self._set_up()
                break
            except sqlite3.OperationalError as exc:
                # Switching a brand-new file to WAL, or creating its tables, while another process
                # does the same can answer "locked" at once, without waiting on busy_timeout. Every
                # step is idempotent, so try again for a while.
                if describe_sqlite_error(exc) == BUSY and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                self.conn.close()
                raise self._error(exc, "opened") from None
            except sqlite3.Error as exc:
                self.conn.close()
                raise self._error(exc, "opened") from None

    def _set_up(self) -> None:
        if self.read_only:
            self._migrate_check()
            self.fts = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name='images_fts'").fetchone() is not None
            return
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self.fts = self._enable_fts()
        self._migrate_inputs()

    def _migrate_inputs(self) -> None:
        """Inputs kept by older versions in ``<data>/edit-inputs`` and ``<data>/edit_inputs`` move into the
        one store beside this database (rows name them by sha256, so no row changes)."""
        from .input_store import migrate_inputs

        try:
            moved = migrate_inputs(self.db_path.parent)
        except OSError as exc:  # a read-only or full folder: the old files stay readable where they are
            log.warning("could not move old edit inputs into the history's store: %s", exc)
            return
        if moved:
            log.info("moved %d edit inputs into %s", moved, self.db_path.parent)

    def _error(self, exc: sqlite3.Error, doing: str) -> HistoryError:
        reason = describe_sqlite_error(exc)
        kind = HistoryDamaged if isinstance(exc, sqlite3.DatabaseError) and reason == "the database is damaged" \
            else HistoryError
        failure = {"opened": msg("store.not_opened", "could not be opened"), "read": msg("store.not_read", "could not be read"),
                   "written": msg("store.not_written", "could not be written")}[doing]
        if kind is HistoryDamaged:
            return kind(msg("store.damaged", "The history database {db} {failure}: {reason}. Run `zimage-desktop history "
                            "repair` to rebuild it from the images.", db=self.db_path, failure=failure, reason=reason))
        return kind(msg("store.failed", "The history database {db} {failure}: {reason}.", db=self.db_path, failure=failure,
                        reason=reason))

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise self._error(exc, "read") from None

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc, "written") from None
            try:
                yield self.conn
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):  # a failed statement may have ended it already
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc, "written") from None
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise self._error(exc, "written") from None

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate_check(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise HistoryError(msg("store.history_database_was_made", "The history database was made by a newer version of "
                                   "the app (schema {version}).", version=version))
        if self.read_only and version < SCHEMA_VERSION:
            raise HistoryError(msg("store.read_only_old", "The history database {db} is on a read-only disk and needs an "
                                   "upgrade first; open it once where it can be written.", db=self.db_path))

    def _migrate(self) -> None:
        self._migrate_check()
        version = self.version
        for target in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                # Re-read under the write lock: another process opening the same new database
                # may have run this step between our first read and now.
                if self.version > target:
                    continue
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={target + 1}")

    def _enable_fts(self) -> bool:
        try:
            with self.transaction() as conn:
                existed = conn.execute("SELECT 1 FROM sqlite_master WHERE name='images_fts'").fetchone()
                for statement in FTS_SQL:
                    conn.execute(statement)
                if not existed:
                    conn.execute("INSERT INTO images_fts(images_fts) VALUES ('rebuild')")
            return True
        except sqlite3.OperationalError:  # no FTS5 or no trigram tokenizer in this SQLite build
            return False

    # -- writing ----------------------------------------------------------------------------

    def add(self, request: GenerationRequest, path: Path, model: dict | None = None, timings: dict | None = None,
            thumb_path: Path | None = None, parent_id: int | None = None, created: float | None = None) -> int:
        """Record an image already written to ``path`` (commit after the file exists)."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO images (created, prompt, request_json, seed, width, height, model_json, timings_json, "
                "path, thumb_path, parent_id, profile) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (created or time.time(), request.search_text, request.to_json(), sql_seed(request.seed),
                 request.width, request.height,
                 json.dumps(model or {}, ensure_ascii=False), json.dumps(timings or {}), str(path),
                 str(thumb_path or ""), parent_id, (model or {}).get("profile", "")),
            )
            return int(cur.lastrowid or 0)

    def set_favourite(self, image_id: int, on: bool) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE images SET favourite=? WHERE id=?", (int(on), image_id))

    def delete(self, image_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM images WHERE id=?", (image_id,))

    # -- reading ----------------------------------------------------------------------------

    def _record(self, row) -> HistoryRecord:
        from .edit_inputs import resolve_edit_inputs

        image_id, created, req, model, timings, path, thumb, fav, tags, parent = row
        # An edit's source and mask are found by their sha256 in the history's own folder.
        request = resolve_edit_inputs(GenerationRequest.from_json(req), self.db_path.parent)
        return HistoryRecord(image_id, created, request, json.loads(model), json.loads(timings),
                             path, thumb, bool(fav), tuple(t for t in tags.split(",") if t), parent)

    def _records(self, rows) -> list[HistoryRecord]:
        """Rows whose stored JSON no longer parses are skipped (their ids in ``last_skipped``):
        one damaged row must not hide all the others."""
        records, skipped = [], []
        for row in rows:
            try:
                records.append(self._record(row))
            except (ValueError, TypeError, KeyError, AttributeError, UserFacingError):
                skipped.append(int(row[0]))
                log.warning("history row %s has damaged parameters and was skipped", row[0])
        self.last_skipped = skipped
        return records

    def get(self, image_id: int) -> HistoryRecord | None:
        with self._reading() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM images WHERE id=?", (image_id,)).fetchone()
        records = self._records([row] if row else [])
        if self.last_skipped:
            raise HistoryError(msg("store.image_history_damaged_parameters", "Image {image_id} in the history has damaged "
                                   "parameters and cannot be shown.",
                                   image_id=image_id))
        return records[0] if records else None

    def count(self, query: str = "", favourites: bool = False, since: float | None = None, shape: str = "") -> int:
        where, params = self._where(query, favourites, since, shape)
        with self._reading() as conn:
            return int(conn.execute(f"SELECT count(*) FROM images {where}", params).fetchone()[0])

    def page(self, offset: int = 0, limit: int = 100, query: str = "", favourites: bool = False,
             since: float | None = None, shape: str = "") -> list[HistoryRecord]:
        """Newest first; never loads more than ``limit`` rows. ``since`` is a time (created after),
        ``shape`` one of "square", "landscape", "portrait"."""
        where, params = self._where(query, favourites, since, shape)
        with self._reading() as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM images {where} ORDER BY created DESC, id DESC "
                                "LIMIT ? OFFSET ?", (*params, limit, offset)).fetchall()
        return self._records(rows)

    def search(self, query: str, limit: int = 100) -> list[HistoryRecord]:
        return self.page(0, limit, query)

    def _where(self, query: str, favourites: bool, since: float | None = None, shape: str = "") -> tuple[str, tuple]:
        clauses: list[str] = []
        params: list[Any] = []
        for term in query.split():
            if self.fts and len(term) >= 3:
                clauses.append("id IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
                params.append('"' + term.replace('"', '""') + '"')
            else:
                clauses.append("prompt LIKE ? ESCAPE '\\'")
                params.append("%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if favourites:
            clauses.append("favourite = 1")
        if since is not None:
            clauses.append("created >= ?")
            params.append(since)
        if shape in SHAPES:
            clauses.append(SHAPES[shape])
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def lineage(self, image_id: int) -> list[HistoryRecord]:
        """This image and its ancestors, oldest first."""
        chain: list[HistoryRecord] = []
        seen: set[int] = set()
        current: int | None = image_id
        while current is not None and current not in seen:
            seen.add(current)
            try:
                record = self.get(current)
            except HistoryError:  # a damaged ancestor ends the chain, it does not hide it
                break
            if record is None:
                break
            chain.append(record)
            current = record.parent_id
        return chain[::-1]

    def input_hashes(self) -> set[str]:
        """The sha256 of every input a row uses: an edit's source and mask, a control's image and the
        preprocessed control image (``model["controls"][i]["prepared"]``, a stored file name)."""
        from .input_store import hashes_in_row

        # every request names "source_sha256": null; only rows with a hash written out are read
        found: set[str] = set()
        with self._reading() as conn:
            rows = conn.execute("SELECT request_json, model_json FROM images WHERE request_json LIKE '%sha256\": \"%' "
                                "OR model_json LIKE '%prepared%'").fetchall()
        for request_text, model_text in rows:
            found.update(hashes_in_row(request_text, model_text))
        return found

    def image_paths(self) -> dict[int, Path]:
        """Every row's image file, without parsing the rows."""
        with self._reading() as conn:
            return {i: Path(p) for i, p in conn.execute("SELECT id, path FROM images")}

    def reconcile(self, images_dir: Path) -> tuple[list[int], list[Path]]:
        """(rows whose image file is gone, image files with no row) — reported, never deleted."""
        rows = self.image_paths()
        known = {p.resolve() for p in rows.values()}
        missing = [i for i, p in rows.items() if not p.exists()]
        folder = Path(images_dir)
        orphans = sorted(p for p in folder.rglob("*.png") if p.resolve() not in known) if folder.is_dir() else []
        return missing, orphans
