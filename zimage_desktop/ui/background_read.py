"""Reading a user's file off the GUI thread: a large or slow file must not freeze the window."""

from __future__ import annotations

import threading
from typing import Any, Callable

from ..errors import UserFacingError


def read_in_background(name: str, path: str, reader: Callable[[str], Any], done) -> None:
    """Call ``reader(path)`` on a daemon thread, then emit ``done(path, result)`` — the result, or the
    UserFacingError that explains why the file could not be read. ``done`` is a Qt signal, so the slot
    runs on the GUI thread; a window closed meanwhile is not an error."""

    def run() -> None:
        try:
            result: object = reader(path)
        except UserFacingError as exc:
            result = exc
        try:
            done.emit(path, result)
        except RuntimeError:  # the window was closed meanwhile
            pass

    threading.Thread(target=run, name=name, daemon=True).start()
