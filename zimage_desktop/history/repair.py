"""Self-healing history: a quick integrity check on open, and a rebuild from the images.

Every PNG this app writes carries its full request (the ``zimage`` chunk; A1111's ``parameters``
for images from other tools), so a damaged database loses nothing that matters: a fresh database is
built *beside* it (``history.sqlite3.rebuilding``) from the images, thumbnails are made again, and
the favourites, tags and lineage that can still be read from the damaged file are carried over by
image path; only when the new file is complete is the old one copied aside (kept, with its WAL) and
the new one renamed into place. One odd image is a note, never the end of the repair. The repair
holds SQLite's exclusive lock on the old database throughout and refuses while another process has
it open; its own lock is an OS file lock, so a repair killed at any point can be run again at once.
The user is told once: the repair itself is what happens once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Paths
from ..errors import UserFacingError
from ..messages import clause, msg
from ..errors_os import BUSY, describe_os_error, describe_sqlite_error
from ..fsutil import atomic_open
from .store import THUMB_SIZE, HistoryDamaged, HistoryError, HistoryStore

log = logging.getLogger(__name__)


@dataclass
class RepairReport:
    kept_at: Path | None  # where the damaged database now lies (None: there was none)
    problem: str
    restored: int = 0
    salvaged_rows: int = 0  # rows still readable in the damaged file (favourites, lineage, outside images)
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why it gave no row

    def message(self) -> str:
        if self.kept_at:
            return msg("repair.rebuilt_kept", "The history database was damaged ({problem}) and was rebuilt from {count} "
                       "images; the damaged file was kept at {kept}.", problem=self.problem, count=self.restored,
                       kept=self.kept_at)
        return msg("repair.rebuilt", "The history database was damaged ({problem}) and was rebuilt from {count} images.",
                   problem=self.problem, count=self.restored)


def _read_only_uri(db_path: Path) -> str:
    # as_uri escapes '?', '#' and spaces that a plain "file:" prefix would let SQLite misread
    return Path(db_path).resolve().as_uri() + "?mode=ro"


def quick_check(db_path: Path) -> str | None:
    """None when SQLite finds the file sound; otherwise a few words on what is wrong."""
    if not Path(db_path).exists():
        return None
    try:
        conn = sqlite3.connect(_read_only_uri(db_path), uri=True, timeout=5)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
        if [str(r[0]) for r in rows] == ["ok"]:
            return None
        log.warning("history quick_check: %s", " | ".join(str(r[0]) for r in rows))
        return msg("repair.damaged_pages", "SQLite found damaged pages")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # another process is writing: not damage
        return describe_sqlite_error(exc)
    except sqlite3.DatabaseError as exc:
        return describe_sqlite_error(exc)
    finally:
        conn.close()


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (a read-only disk or folder cannot hold WAL files,
    and must not be taken for a damaged history)."""
    import tempfile

    if not folder.is_dir():
        return True  # made on first write; a failure then is the store's to describe
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def open_history(paths: Paths) -> tuple[HistoryStore, RepairReport | None]:
    """Open the history, repairing it first when it is damaged (read-only as it is, when the data
    folder cannot be written)."""
    if paths.history_db.is_file() and not _writable(paths.data):
        return HistoryStore(paths.history_db, read_only=True), None
    problem = quick_check(paths.history_db)
    if problem is None:
        try:
            return HistoryStore(paths.history_db), None
        except HistoryDamaged:
            problem = msg("sqlite.damaged", "the database is damaged")
    report = repair_history(paths, problem)
    return HistoryStore(paths.history_db), report


def _salvage(conn: sqlite3.Connection) -> list[tuple[int, str, int, str, int | None]]:
    """(id, path, favourite, tags, parent_id) of every row the damaged file still yields."""
    rows: list[tuple[int, str, int, str, int | None]] = []
    try:
        cursor = conn.execute("SELECT id, path, favourite, tags, parent_id FROM images ORDER BY id")
        while True:
            try:
                row = cursor.fetchone()
            except sqlite3.DatabaseError:
                break
            if row is None:
                break
            with contextlib.suppress(TypeError, ValueError):
                if isinstance(row[1], str):
                    parent = row[4] if isinstance(row[4], int) else None
                    rows.append((int(row[0]), row[1], int(row[2] or 0), str(row[3] or ""), parent))
    except sqlite3.DatabaseError:
        pass
    return rows


def _kept_name(db_path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    n = 2
    while kept.exists():
        kept = db_path.with_name(f"{db_path.name}.damaged-{stamp}-{n}")
        n += 1
    return kept


def _copy_durably(source: Path, target: Path) -> None:
    """A complete copy or none: written to a temporary name, flushed, then renamed."""
    with atomic_open(target, "wb") as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


def _keep_copy(db_path: Path) -> Path | None:
    """The damaged database (with its WAL, which belongs to it) copied aside as it is now."""
    if not db_path.exists():
        return None
    kept = _kept_name(db_path)
    wal = Path(str(db_path) + "-wal")
    if wal.exists() and wal.stat().st_size:
        _copy_durably(wal, Path(str(kept) + "-wal"))
    _copy_durably(db_path, kept)  # last: a kept main file means its WAL was copied before it
    return kept


def _take_over(db_path: Path) -> sqlite3.Connection | None:
    """An exclusive hold on the database for the whole repair, or a refusal while another window or
    command has it open: moving a database aside under a writer loses what it writes afterwards."""
    if not db_path.exists():
        return None
    conn = sqlite3.connect(str(db_path), timeout=0.2, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if describe_sqlite_error(exc) == BUSY:
            raise HistoryError(msg("repair.history_in_use", "The history is open in another window or command; close it "
                                   "and run the repair again.")) from None
        return None  # not even a lock can be taken on it: nothing can be writing to it either
    except sqlite3.DatabaseError:
        conn.close()
        return None  # so damaged that SQLite cannot begin on it: nobody else can write to it either


def _release(guard: sqlite3.Connection | None, db_path: Path) -> None:
    """Fold the old WAL into the old file and leave WAL mode while still holding it, so no stale WAL
    can lie beside the new database (SQLite would apply it to the wrong file)."""
    if guard is None:
        return
    with contextlib.suppress(sqlite3.Error):
        guard.execute("COMMIT")
    with contextlib.suppress(sqlite3.Error):
        guard.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with contextlib.suppress(sqlite3.Error):
        guard.execute("PRAGMA journal_mode=DELETE")
    guard.close()


def _thumbnail(png: Path, target: Path) -> Path | None:
    from PIL import Image

    try:
        with Image.open(png) as img:
            img.draft("RGB", (THUMB_SIZE, THUMB_SIZE))
            thumb = img.convert("RGB")
            thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
            with atomic_open(target, "wb") as fh:  # derived data: replacing a stale one is right
                thumb.save(fh, format="JPEG", quality=85)
        return target
    except Exception:  # noqa: BLE001 - a thumbnail is derived data: any failure leaves none, never ends the repair
        return None


def repair_history(paths: Paths, problem: str = msg("repair.requested", "repair requested")) -> RepairReport:
    """Rebuild the database from the images' metadata beside the old one, then swap it in.

    Safe to kill at any point: the old database stays in place, untouched, until the new one is
    complete; the swap is one rename; the repair lock is the operating system's, so it goes with the
    process and a repair can start again at once. Refused while another process has the database open.
    """
    from filelock import FileLock, Timeout

    from .metadata import read_png_metadata

    db = paths.history_db
    try:
        paths.data.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(db) + ".repairing", timeout=0)
        lock.acquire()
    except Timeout:
        raise HistoryError(msg("repair.another_window_command_repairing", "Another window or command is repairing the "
                               "history right now; try again in a minute.")) from None
    except OSError as exc:
        raise HistoryError(msg("repair.cannot_lock", "The history in {folder} cannot be repaired: {reason}.",
                               folder=paths.data, reason=describe_os_error(exc))) from None
    try:
        return _repair_locked(paths, problem, read_png_metadata)
    finally:
        lock.release()


def _repair_locked(paths: Paths, problem: str, read_png_metadata) -> RepairReport:
    db = paths.history_db
    building = db.with_name(db.name + ".rebuilding")
    try:
        for leftover in (building, Path(str(building) + "-wal"), Path(str(building) + "-journal")):
            leftover.unlink(missing_ok=True)  # a repair that was killed: start again from the images
    except OSError as exc:
        raise HistoryError(msg("repair.leftover", "The history cannot be repaired: {path} is in the way ({reason}).",
                               path=leftover, reason=describe_os_error(exc))) from None
    guard = _take_over(db)
    try:
        salvaged = _salvage(guard) if guard is not None else []
        try:
            kept = _keep_copy(db)
        except OSError as exc:
            raise HistoryError(msg("repair.damaged_history_database_could", "The damaged history database {history_db} "
                                   "could not be moved aside ({reason}).",
                                   history_db=db, reason=describe_os_error(exc))) from None
        report = RepairReport(kept, clause(problem), salvaged_rows=len(salvaged))
        store = HistoryStore(building)
        try:
            _rebuild(store, paths, salvaged, report, read_png_metadata)
            with store.transaction():
                pass
            store.conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to rename into place
        finally:
            store.close()
        with open(building, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        if guard is not None:
            guard.close()
        building.unlink(missing_ok=True)
        raise
    _release(guard, db)
    for side in ("-wal", "-shm", "-journal"):
        Path(str(db) + side).unlink(missing_ok=True)  # empty now; what they held is in the kept copy
    os.replace(building, db)
    log.warning(report.message())
    return report


def _rebuild(store: HistoryStore, paths: Paths, salvaged, report: RepairReport, read_png_metadata) -> None:
    by_path = {str(Path(p)): (old_id, fav, tags, parent) for old_id, p, fav, tags, parent in salvaged}
    candidates = sorted(paths.images.rglob("*.png")) if paths.images.is_dir() else []
    inside = {str(p.resolve()) for p in candidates}
    # images saved with --out elsewhere are known only from the damaged file
    candidates += [Path(p) for p in by_path if p not in inside and Path(p).is_file()]
    new_ids: dict[int, int] = {}
    pending_parents: list[tuple[int, int]] = []
    entries = []
    for png in candidates:
        try:
            found = read_png_metadata(png)
            created = png.stat().st_mtime
        except (UserFacingError, OSError) as exc:
            report.skipped[str(png)] = exc.message if isinstance(exc, UserFacingError) else describe_os_error(exc)
            continue
        except Exception as exc:  # one odd file is a note, never the end of the repair
            log.exception("repair: reading %s failed", png)
            report.skipped[str(png)] = msg("repair.file_unreadable", "its metadata could not be read ({kind})",
                                           kind=type(exc).__name__)
            continue
        if found.request is None:
            report.skipped[str(png)] = msg("saving.no_parameters", "no generation parameters")
            continue
        entries.append((created, png, found))
    for created, png, found in sorted(entries, key=lambda e: (e[0], str(e[1]))):
        resolved = png.resolve()
        rel_folder = png.parent.name
        thumb = _thumbnail(png, paths.thumbnails / rel_folder / (png.stem + ".jpg"))
        model = dict(found.model)
        if found.source != "zimage":
            model.setdefault("imported_from", found.source)
        try:
            new_id = store.add(found.request, resolved, model, {}, thumb, created=created)
        except (ValueError, TypeError, OverflowError) as exc:  # a request SQLite or JSON cannot hold
            report.skipped[str(png)] = msg("repair.file_unreadable", "its metadata could not be read ({kind})",
                                           kind=type(exc).__name__)
            continue
        report.restored += 1
        old = by_path.get(str(resolved))
        if old is not None:
            old_id, fav, tags, parent = old
            new_ids[old_id] = new_id
            if fav or tags:
                with store.transaction() as conn:
                    conn.execute("UPDATE images SET favourite=?, tags=? WHERE id=?", (fav, tags, new_id))
            if parent is not None:
                pending_parents.append((new_id, parent))
    with store.transaction() as conn:
        for new_id, old_parent in pending_parents:
            if old_parent in new_ids:
                conn.execute("UPDATE images SET parent_id=? WHERE id=?", (new_ids[old_parent], new_id))

