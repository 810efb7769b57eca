"""The window's size, position and splitter sizes, kept in the data folder between runs (so
``--data-dir`` keeps them apart, and they never mix with the settings a user edits)."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow, QSplitter

from ..fsutil import atomic_open


def _encode(data: QByteArray) -> str:
    return base64.b64encode(data.data()).decode("ascii")


def _decode(text: object) -> QByteArray | None:
    if not isinstance(text, str):
        return None
    try:
        return QByteArray(base64.b64decode(text, validate=True))
    except ValueError:
        return None


def save_layout(path: Path, window: QMainWindow, splitters: list[QSplitter]) -> None:
    state = {"geometry": _encode(window.saveGeometry())}
    state.update({s.objectName(): _encode(s.saveState()) for s in splitters})
    with contextlib.suppress(OSError):  # an unwritable data folder costs the layout, nothing else
        with atomic_open(path, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=2)


def restore_layout(path: Path, window: QMainWindow, splitters: list[QSplitter]) -> bool:
    """Apply what ``save_layout`` wrote; False (the layout left as built) when there is nothing
    usable. Qt checks each blob itself, so a damaged file only loses the parts that are damaged."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(state, dict):
        return False
    geometry = _decode(state.get("geometry"))
    restored = geometry is not None and window.restoreGeometry(geometry)
    for splitter in splitters:
        data = _decode(state.get(splitter.objectName()))
        if data is not None:
            restored = splitter.restoreState(data) or restored
    return restored
