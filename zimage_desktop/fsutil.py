"""Atomic file writes: nothing half-written is ever visible under the final name, and a new file
never replaces another one."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Write to a temporary file beside ``path``; fsync and rename it into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_exclusive(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Write a new file that never replaces another: the bytes go to a temporary file, which then
    takes ``path`` only if that name is free (a hard link fails on an existing name, atomically),
    else ``stem-2``, ``stem-3`` …. Returns the name it got. Two processes saving the same name in
    the same second both keep their file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        for n in range(1, 10_000):
            candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
            if _claim(tmp, candidate):
                return candidate
        raise FileExistsError(errno.EEXIST, "no free name", str(path))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _claim(tmp: str, candidate: Path) -> bool:
    try:
        os.link(tmp, candidate)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
    # No hard links on this file system (FAT, some network shares): reserve the name with O_EXCL,
    # then move the finished file over the reservation; only an empty file is visible for a moment.
    try:
        os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return False
    os.replace(tmp, candidate)
    return True
