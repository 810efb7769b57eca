"""Operating-system, SQLite and network failures in a few plain words (messages with an id).

The stores and the downloader wrap these into one-sentence ``UserFacingError`` messages, so a
full or read-only disk never reaches the user as "unexpected OSError".
"""

from __future__ import annotations

import errno
import sqlite3

from .messages import Message, msg

_OS_REASONS: dict[int, Message] = {
    errno.ENOSPC: msg("os.disk_full", "the disk is full"),
    errno.EDQUOT: msg("os.quota", "the disk quota is used up"),
    errno.EROFS: msg("os.read_only", "the disk is read-only"),
    errno.EACCES: msg("os.permission", "permission denied"),
    errno.EPERM: msg("os.permission", "permission denied"),
    errno.ENOTDIR: msg("os.not_a_folder", "part of the path is a file, not a folder"),
    errno.EISDIR: msg("os.is_a_folder", "it is a folder"),
    errno.ENOENT: msg("os.no_folder", "the folder does not exist"),
    errno.ENAMETOOLONG: msg("os.name_too_long", "the name is too long"),
    errno.EIO: msg("os.io_error", "the disk reported an input/output error"),
    errno.EMFILE: msg("os.too_many_open", "too many files are open"),
}


def describe_os_error(exc: OSError) -> str:
    """A few words for why a file operation failed, without the errno number (the OS's own
    words, untranslated, where the reason is not one of the common ones)."""
    known = _OS_REASONS.get(exc.errno or -1)
    if known:
        return known
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def describe_sqlite_error(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text:
        return msg("os.disk_full", "the disk is full")
    if "readonly" in text or "read-only" in text:
        return msg("sqlite.read_only", "the database is read-only")
    if "locked" in text or "busy" in text:
        return BUSY
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return msg("sqlite.damaged", "the database is damaged")
    if "unable to open" in text:
        return msg("sqlite.cannot_open", "the database cannot be opened")
    return str(exc).rstrip(".")


BUSY: Message = msg("sqlite.busy", "another program is using the database")


def describe_failure(exc: OSError | sqlite3.Error) -> str:
    """One sentence for an OS or SQLite error that reached the top of a command."""
    if isinstance(exc, sqlite3.Error):
        return msg("os.history_failed", "The history database failed: {reason}.", reason=describe_sqlite_error(exc))
    if getattr(exc, "filename", None):
        return msg("os.file_failed_at", "A file could not be used ({file}): {reason}.", file=exc.filename,
                   reason=describe_os_error(exc))
    return msg("os.file_failed", "A file could not be used: {reason}.", reason=describe_os_error(exc))
