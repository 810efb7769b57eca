"""Operating-system, SQLite and network failures in a few plain words (English and 简体中文).

The stores and the downloader wrap these into one-sentence ``UserFacingError`` messages, so a
full or read-only disk never reaches the user as "unexpected OSError".
"""

from __future__ import annotations

import errno
import sqlite3

_OS_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "磁盘已满"),
    errno.EDQUOT: ("the disk quota is used up", "磁盘配额已用完"),
    errno.EROFS: ("the disk is read-only", "磁盘是只读的"),
    errno.EACCES: ("permission denied", "没有权限"),
    errno.EPERM: ("permission denied", "没有权限"),
    errno.ENOTDIR: ("part of the path is a file, not a folder", "路径中有一部分是文件而不是文件夹"),
    errno.EISDIR: ("it is a folder", "这是一个文件夹"),
    errno.ENOENT: ("the folder does not exist", "文件夹不存在"),
    errno.ENAMETOOLONG: ("the name is too long", "名称太长"),
    errno.EIO: ("the disk reported an input/output error", "磁盘读写出错"),
    errno.EMFILE: ("too many files are open", "打开的文件太多"),
}


def describe_os_error(exc: OSError, language: str = "en") -> str:
    """A few words for why a file operation failed, without the errno number."""
    known = _OS_REASONS.get(exc.errno or -1)
    if known:
        return known[1] if language.startswith("zh") else known[0]
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def describe_sqlite_error(exc: sqlite3.Error, language: str = "en") -> str:
    text = str(exc).lower()
    zh = language.startswith("zh")
    if "full" in text:
        return "磁盘已满" if zh else "the disk is full"
    if "readonly" in text or "read-only" in text:
        return "数据库是只读的" if zh else "the database is read-only"
    if "locked" in text or "busy" in text:
        return "数据库正被另一个程序使用" if zh else "another program is using the database"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return "数据库已损坏" if zh else "the database is damaged"
    if "unable to open" in text:
        return "数据库无法打开" if zh else "the database cannot be opened"
    return str(exc).rstrip(".")


def describe_failure(exc: OSError | sqlite3.Error) -> str:
    """One sentence for an OS or SQLite error that reached the top of a command."""
    if isinstance(exc, sqlite3.Error):
        return f"The history database failed: {describe_sqlite_error(exc)}."
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return f"A file could not be used{where}: {describe_os_error(exc)}."
