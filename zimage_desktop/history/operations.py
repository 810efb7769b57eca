"""What the gallery does to the history, without Qt: delete to a trash folder and undo, export.

The widgets only choose the records and show the result; the files and rows change here, so the
command line (or a test) can do the same and nothing depends on a window being open.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Collection, Iterable

from ..engine.request import GenerationRequest
from ..fsutil import write_exclusive
from .input_store import TRASH_NAME, find_in, forget_unused, hashes_in_row, inputs_folder, unused_inputs
from .store import HistoryRecord, HistoryStore


@dataclass(frozen=True)
class Trashed:
    """A deleted image: its row as it was, where its file went, and where it came from."""

    record: HistoryRecord
    trashed: Path
    original: Path | None  # None when the file was already gone


def trash(store: HistoryStore, records: list[HistoryRecord], trash_dir: Path,
          in_use: Collection[str] = ()) -> list[Trashed]:
    """Move the images into ``trash_dir`` (inside the data folder) and remove their rows. ``in_use``: the
    sha256 of inputs that jobs still waiting in the queue need (they stay in the store)."""
    trash_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for record in records:
        source = Path(record.path)
        trashed = trash_dir / f"{record.id}-{source.name}"
        if source.exists():
            shutil.move(str(source), trashed)
        store.delete(record.id)
        done.append(Trashed(record, trashed, source if trashed.exists() else None))
    _set_aside_unused_inputs(store, trash_dir, set(in_use))
    return done


def _set_aside_unused_inputs(store: HistoryStore, trash_dir: Path, in_use: set[str]) -> None:
    """Sources, masks and control images no row uses any more leave with the last entry that used them (into the
    trash, so that undo can bring them back)."""
    aside = trash_dir / TRASH_NAME
    for path in unused_inputs(store.db_path.parent, store.input_hashes() | in_use):
        aside.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), aside / path.name)


def inputs_of(requests: Iterable[GenerationRequest]) -> set[str]:
    """The sha256 of the stored inputs these (queued) requests name."""
    found: set[str] = set()
    for request in requests:
        found |= hashes_in_row(request.to_json(), "{}")
    return found


def forget_unused_inputs(store: HistoryStore) -> list[Path]:
    """Delete the inputs no row uses that were last kept over a day ago (edits never finished); the window
    does it once when it opens."""
    data = store.db_path.parent
    if not unused_inputs(data, set()):
        return []  # an empty store: no need to read the rows
    return forget_unused(data, store.input_hashes())


def restore(store: HistoryStore, item: Trashed) -> int:
    """Undo one ``trash``: the file back where it was, the row back (with a new id)."""
    record = item.record
    for sha in hashes_in_row(record.request.to_json(), json.dumps(record.model)):
        kept = find_in(sha, item.trashed.parent / TRASH_NAME)
        if kept is not None:
            home = inputs_folder(store.db_path.parent)
            home.mkdir(parents=True, exist_ok=True)
            shutil.move(str(kept), home / kept.name)
    if item.original is not None and item.trashed.exists():
        item.original.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(item.trashed), item.original)
    return store.add(record.request, Path(record.path), record.model, record.timings,
                     Path(record.thumb_path) if record.thumb_path else None, record.parent_id, record.created)


def export(records: list[HistoryRecord], folder: Path) -> list[Path]:
    """Copy the PNGs, metadata included, into ``folder``; a name already there is never replaced
    (the copy gets -2, -3, …)."""
    out = []
    for record in records:
        source = Path(record.path)
        if source.exists():
            with open(source, "rb") as src:
                def copy(dst: IO[bytes], src: IO[bytes] = src) -> None:
                    shutil.copyfileobj(src, dst)

                out.append(write_exclusive(Path(folder) / source.name, copy))
    return out
