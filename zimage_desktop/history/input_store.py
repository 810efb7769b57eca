"""The one store for what a user gave an image: edit sources, masks and control images (the user's file and
the preprocessed control image), kept content-addressed in ``<data>/history/inputs/<sha256>.<ext>``.

One file serves every entry made from the same bytes; rows name it by sha256 (never by a path read back
from metadata); it leaves with the last entry that uses it (``HistoryStore.input_hashes`` says which are
used; the gallery's trash sets the others aside so undo brings them back). Files are written to a temporary
name in the folder and renamed into place, so a killed process never leaves a half-written input under a
name ``find`` would return.

Older versions kept these in three folders: ``<data>/edit-inputs/`` (edit sources and masks, by sha256 of
the bytes as given), the window's scratch ``<data>/edit_inputs/`` (PNGs by sha256) and control images already
here. ``migrate_inputs`` moves the first two in (one rename per file: a kill leaves each file in the old or the
new folder, and the next open finishes); history rows name inputs by sha256, so no row changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

from ..errors import BadInputError
from ..messages import msg

SUBFOLDER = ("history", "inputs")
TRASH_NAME = "inputs"  # the folder inside the trash where unused inputs are set aside
OLD_FOLDERS = ("edit-inputs", "edit_inputs")
SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
NAME = re.compile(r"([0-9a-f]{64})\.[a-z]+")
SHA = re.compile(r"[0-9a-f]{64}")
UNUSED_KEPT_S = 24 * 3600  # an input no entry uses, kept this long for a job still queued or running


def inputs_folder(data_dir: Path) -> Path:
    return Path(data_dir).joinpath(*SUBFOLDER)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise BadInputError(msg("edit_inputs.unreadable", "The image {path} cannot be read ({reason}).", path=str(path),
                                reason=exc.strerror or exc)) from None
    return digest.hexdigest()


def find(sha: str | None, data_dir: Path) -> Path | None:
    """The kept file with this content address, if the store has it."""
    return find_in(sha, inputs_folder(data_dir))


def find_in(sha: str | None, folder: Path) -> Path | None:
    if not SHA.fullmatch(sha or "") or not folder.is_dir():
        return None
    for candidate in sorted(folder.glob(f"{sha}.*")):
        if candidate.is_file() and NAME.fullmatch(candidate.name):
            return candidate
    return None


def _touch(path: Path) -> None:
    """A kept file is in use from now on (the day's grace of ``forget_unused`` starts again)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _write(folder: Path, name: str, write) -> Path:
    """``write(fh)`` into a temporary file of ``folder``, then renamed to ``name`` (same content, so
    replacing a copy another process just wrote is harmless)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return folder / name


def keep_file(path: Path, data_dir: Path) -> tuple[str, Path]:
    """(sha256, stored path) of the file's bytes as given (so "re-run exactly" reads the same pixels)."""
    path = Path(path)
    sha = file_sha256(path)
    existing = find(sha, data_dir)
    if existing is not None:
        _touch(existing)
        return sha, existing
    suffix = path.suffix.lower() if path.suffix.lower() in SUFFIXES else ".img"
    try:
        with open(path, "rb") as src:
            return sha, _write(inputs_folder(data_dir), sha + suffix, lambda dst: shutil.copyfileobj(src, dst))
    except OSError as exc:
        raise BadInputError(msg("edit_inputs.unreadable", "The image {path} cannot be read ({reason}).", path=str(path),
                                reason=exc.strerror or exc)) from None


def keep_png_bytes(data: bytes, data_dir: Path) -> tuple[str, Path]:
    """(sha256, stored path) of an encoded PNG."""
    sha = hashlib.sha256(data).hexdigest()
    existing = find(sha, data_dir)
    if existing is not None:
        _touch(existing)
        return sha, existing
    return sha, _write(inputs_folder(data_dir), f"{sha}.png", lambda fh: fh.write(data))


def keep_image(image: Image.Image, data_dir: Path) -> tuple[str, Path]:
    """(sha256, stored path) of ``image`` saved as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return keep_png_bytes(buffer.getvalue(), data_dir)


def unused_inputs(data_dir: Path, used: set[str]) -> list[Path]:
    """Kept files whose sha256 is not in ``used``."""
    folder = inputs_folder(data_dir)
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir()) if (m := NAME.fullmatch(p.name)) and m.group(1) not in used]


def forget_unused(data_dir: Path, used: set[str], max_age_s: float = UNUSED_KEPT_S) -> list[Path]:
    """Delete inputs no entry uses that were last kept more than ``max_age_s`` ago (an edit that was
    never finished, a cancelled job); returns what went."""
    now, gone = time.time(), []
    for path in unused_inputs(data_dir, used):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > max_age_s:
                path.unlink()
                gone.append(path)
    return gone


def migrate_inputs(data_dir: Path) -> int:
    """Move the inputs of the older folders into the store; returns how many files moved. A file whose
    content is already stored is dropped from the old folder; a name that is not ``<sha256>.<ext>`` is left
    where it is (nothing is deleted that the store does not hold)."""
    moved = 0
    for old_name in OLD_FOLDERS:
        old = Path(data_dir) / old_name
        if not old.is_dir():
            continue
        for path in sorted(old.iterdir()):
            match = NAME.fullmatch(path.name)
            if match is None or not path.is_file():
                if path.name.endswith((".part", ".tmp")):  # a write the old code never finished
                    with contextlib.suppress(OSError):
                        path.unlink()
                continue
            try:
                if file_sha256(path) != match.group(1):
                    continue  # not what its name says: keep it aside, untouched
            except BadInputError:
                continue
            with contextlib.suppress(FileNotFoundError):  # another process moved it first
                if find(match.group(1), data_dir) is not None:
                    path.unlink()
                else:
                    folder = inputs_folder(data_dir)
                    folder.mkdir(parents=True, exist_ok=True)
                    os.replace(path, folder / path.name)
                    moved += 1
        with contextlib.suppress(OSError):
            old.rmdir()  # only when empty
    return moved


def hashes_in_row(request_text: str, model_text: str) -> set[str]:
    """The inputs one history row uses, from its stored request and model JSON."""
    found: set[str] = set()
    try:
        request, model = json.loads(request_text), json.loads(model_text)
    except ValueError:
        return found
    if isinstance(request, dict):
        found.update(v for k in ("source_sha256", "mask_sha256") if isinstance(v := request.get(k), str))
        for control in request.get("controls") or ():
            if isinstance(control, dict) and isinstance(sha := control.get("image_sha256"), str):
                found.add(sha)
    for control in (model.get("controls") or ()) if isinstance(model, dict) else ():
        if isinstance(control, dict) and isinstance(name := control.get("prepared"), str):
            found.add(name.split(".", 1)[0])
    return found
