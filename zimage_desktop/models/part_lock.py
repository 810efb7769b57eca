"""One writer per ``.part`` file, across threads, windows and commands.

Two downloads of the same file at once (the window and a command, say) would append to one
``.part`` and both fail. Each download first takes an OS file lock named after the file
(``<models>/.downloading/<dest>.lock``: ``filelock``, which goes with a killed process). A second
download of the same file waits for the first, saying so once, and then finds it complete.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

POLL_S = 0.2


def lock_path(models_dir: Path, dest: str) -> Path:
    readable = "".join(c if c.isalnum() or c in "-_." else "_" for c in dest)[-80:]
    return Path(models_dir) / ".downloading" / f"{readable}-{hashlib.sha1(dest.encode()).hexdigest()[:10]}.lock"


@contextlib.contextmanager
def claim_part(models_dir: Path, dest: str, cancelled: Callable[[], bool], on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold the file's download lock; waits (``on_wait`` once) while another download has it.
    Raises ``InterruptedError`` when ``cancelled`` turns true while waiting."""
    path = lock_path(models_dir, dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    told = False
    while True:
        try:
            lock.acquire(timeout=0 if not told else POLL_S)
            break
        except Timeout:
            if cancelled():
                raise InterruptedError from None
            if not told:
                told = True
                on_wait()
    try:
        yield
    finally:
        lock.release()
