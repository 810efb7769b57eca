"""Self-healing history: a quick integrity check on open, and a rebuild from the images.

Every PNG this app writes carries its full request (the ``zimage`` chunk; A1111's ``parameters``
for images from other tools), so a damaged database loses nothing that matters: it is moved aside
(kept, with its WAL), a fresh one is filled from the images, thumbnails are made again, and the
favourites, tags and lineage that can still be read from the damaged file are carried over by
image path. The user is told once: the repair itself is what happens once.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Paths
from ..errors import UserFacingError
from ..messages import clause, msg
from ..errors_os import describe_os_error, describe_sqlite_error
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


def open_history(paths: Paths) -> tuple[HistoryStore, RepairReport | None]:
    """Open the history, repairing it first when it is damaged."""
    problem = quick_check(paths.history_db)
    if problem is None:
        try:
            return HistoryStore(paths.history_db), None
        except HistoryDamaged:
            problem = msg("sqlite.damaged", "the database is damaged")
    report = repair_history(paths, problem)
    return HistoryStore(paths.history_db), report


def _salvage(db_path: Path) -> list[tuple[int, str, int, str, int | None]]:
    """(id, path, favourite, tags, parent_id) of every row the damaged file still yields."""
    rows: list[tuple[int, str, int, str, int | None]] = []
    try:
        conn = sqlite3.connect(_read_only_uri(db_path), uri=True)
    except sqlite3.Error:
        return rows
    try:
        cursor = conn.execute("SELECT id, path, favourite, tags, parent_id FROM images ORDER BY id")
        while True:
            try:
                row = cursor.fetchone()
            except sqlite3.DatabaseError:
                break
            if row is None:
                break
            if isinstance(row[1], str):
                rows.append((int(row[0]), row[1], int(row[2] or 0), str(row[3] or ""), row[4]))
    except sqlite3.DatabaseError:
        pass
    finally:
        conn.close()
    return rows


def _move_aside(db_path: Path) -> Path | None:
    if not db_path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    n = 2
    while kept.exists():
        kept = db_path.with_name(f"{db_path.name}.damaged-{stamp}-{n}")
        n += 1
    for suffix in ("-wal", "-shm"):  # the WAL belongs to the file it was written for
        side = Path(str(db_path) + suffix)
        if side.exists():
            os.replace(side, Path(str(kept) + suffix))
    os.replace(db_path, kept)
    return kept


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
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def repair_history(paths: Paths, problem: str = msg("repair.requested", "repair requested")) -> RepairReport:
    """Move the database aside and rebuild it from the images' metadata."""
    from .metadata import read_png_metadata

    lock = paths.history_db.with_name(paths.history_db.name + ".repairing")
    paths.data.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if time.time() - lock.stat().st_mtime < 600:
            raise HistoryError(msg("repair.another_window_command_repairing", "Another window or command is repairing the "
                                   "history right now; try again in a minute.")) from None
        lock.unlink(missing_ok=True)  # left by a repair that was killed
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        salvaged = _salvage(paths.history_db) if paths.history_db.exists() else []
        try:
            kept = _move_aside(paths.history_db)
        except OSError as exc:
            raise HistoryError(msg("repair.damaged_history_database_could", "The damaged history database {history_db} "
                                   "could not be moved aside ({reason}).",
                                   history_db=paths.history_db, reason=exc.strerror or exc)) from None
        report = RepairReport(kept, clause(problem), salvaged_rows=len(salvaged))
        store = HistoryStore(paths.history_db)
        try:
            _rebuild(store, paths, salvaged, report, read_png_metadata)
        finally:
            store.close()
    finally:
        lock.unlink(missing_ok=True)
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
        new_id = store.add(found.request, resolved, model, {}, thumb, created=created)
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

