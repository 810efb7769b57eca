"""Source images and masks of edits, kept content-addressed in the history folder.

``keep_edit_inputs`` copies the files a request names into ``<data>/edit-inputs/<sha256>.<ext>``
(the bytes as given, so "re-run exactly" reads the same pixels) and returns the request naming
them by sha256; one file serves every entry made from it. ``resolve_edit_inputs`` turns a saved
request's sha256 back into a file inside that folder — never a path read from metadata.
``unused_inputs`` lists the files no history row names any more (removed with the last entry
that used them; the gallery's trash moves them aside so undo brings them back).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..engine.request import GenerationRequest
from ..errors import BadInputError
from ..fsutil import write_exclusive
from ..messages import msg

FOLDER_NAME = "edit-inputs"
SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
_NAME = re.compile(r"([0-9a-f]{64})\.[a-z]+")


def inputs_folder(data_dir: Path) -> Path:
    return Path(data_dir) / FOLDER_NAME


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


def _keep(path: Path, folder: Path) -> tuple[str, Path]:
    sha = file_sha256(path)
    existing = find(sha, folder)
    if existing is not None:
        return sha, existing
    suffix = path.suffix.lower() if path.suffix.lower() in SUFFIXES else ".img"
    target = folder / f"{sha}{suffix}"
    with open(path, "rb") as src:
        kept = write_exclusive(target, lambda dst: shutil.copyfileobj(src, dst))
    return sha, kept


def find(sha: str, folder: Path) -> Path | None:
    """The kept file with this content address, if the folder has it."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha or "") or not folder.is_dir():
        return None
    for candidate in sorted(folder.glob(f"{sha}.*")):
        if candidate.is_file() and _NAME.fullmatch(candidate.name):
            return candidate
    return None


def keep_edit_inputs(request: GenerationRequest, data_dir: Path) -> GenerationRequest:
    """``request`` with its source and mask copied into the history folder and named by sha256."""
    if not request.is_edit:
        return request
    folder = inputs_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    changes: dict[str, Any] = {}
    for name in ("source", "mask"):
        path = getattr(request, name)
        if path:
            sha, kept = _keep(Path(path), folder)
            changes[name], changes[name + "_sha256"] = str(kept), sha
    return replace(request, **changes) if changes else request


def resolve_edit_inputs(request: GenerationRequest, data_dir: Path) -> GenerationRequest:
    """A saved request with its source and mask found again in the history folder (left None
    where the file is gone: the engine then says the source is needed)."""
    if not request.is_edit:
        return request
    folder = inputs_folder(data_dir)
    changes: dict[str, Any] = {}
    for name in ("source", "mask"):
        sha = getattr(request, name + "_sha256")
        found = find(sha, folder) if sha else None
        if found is not None:
            changes[name] = str(found)
    return replace(request, **changes) if changes else request


def unused_inputs(data_dir: Path, used: set[str]) -> list[Path]:
    """Kept files whose sha256 is not in ``used``."""
    folder = inputs_folder(data_dir)
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir()) if (m := _NAME.fullmatch(p.name)) and m.group(1) not in used]


def name_edit_inputs(request: GenerationRequest) -> GenerationRequest:
    """``request`` with the sha256 of its source and mask filled in, the files left where they are
    (an image made without the history still names its inputs in its metadata)."""
    changes: dict[str, Any] = {}
    for name in ("source", "mask"):
        path = getattr(request, name)
        if path and not getattr(request, name + "_sha256"):
            changes[name + "_sha256"] = file_sha256(Path(path))
    return replace(request, **changes) if changes else request
