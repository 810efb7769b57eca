"""Source images and masks of edits, in the history's one input store (``input_store``).

``keep_edit_inputs`` copies the files a request names into the store and returns the request naming them
by sha256; one file serves every entry made from it. ``resolve_edit_inputs`` turns a saved request's sha256
back into a file of the store — never a path read from metadata.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..engine.request import GenerationRequest
from .input_store import file_sha256, find, keep_file

__all__ = ["keep_edit_inputs", "resolve_edit_inputs", "name_edit_inputs", "file_sha256"]


def keep_edit_inputs(request: GenerationRequest, data_dir: Path) -> GenerationRequest:
    """``request`` with its source and mask copied into the history's store and named by sha256."""
    if not request.is_edit:
        return request
    changes: dict[str, Any] = {}
    for name in ("source", "mask"):
        path = getattr(request, name)
        if path:
            sha, kept = keep_file(Path(path), data_dir)
            changes[name], changes[name + "_sha256"] = str(kept), sha
    return replace(request, **changes) if changes else request


def resolve_edit_inputs(request: GenerationRequest, data_dir: Path) -> GenerationRequest:
    """A saved request with its source and mask found again in the store (left None where the file is
    gone: the engine then says the source is needed)."""
    if not request.is_edit:
        return request
    changes: dict[str, Any] = {}
    for name in ("source", "mask"):
        sha = getattr(request, name + "_sha256")
        found = find(sha, data_dir) if sha else None
        if found is not None:
            changes[name] = str(found)
    return replace(request, **changes) if changes else request


def name_edit_inputs(request: GenerationRequest) -> GenerationRequest:
    """``request`` with the sha256 of its source and mask filled in, the files left where they are
    (an image made without the history still names its inputs in its metadata)."""
    changes: dict[str, Any] = {}
    for name in ("source", "mask"):
        path = getattr(request, name)
        if path and not getattr(request, name + "_sha256"):
            changes[name + "_sha256"] = file_sha256(Path(path))
    return replace(request, **changes) if changes else request
