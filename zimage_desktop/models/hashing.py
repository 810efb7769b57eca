"""sha256 of model files, cached by (path, size, mtime) so big files are hashed once."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from ..fsutil import atomic_open

CHUNK = 8 * 1024 * 1024

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """A JSON file mapping path → {size, mtime_ns, sha256}; None keeps it in memory only."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file
        self._lock = threading.Lock()
        self._entries: dict[str, dict] = {}
        if file is not None and file.is_file():
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self._entries = {k: v for k, v in data.items() if isinstance(v, dict)}
            except (OSError, ValueError):
                self._entries = {}  # a damaged cache only costs a re-hash

    def sha256(self, path: Path) -> str:
        path = Path(path).resolve()
        stat = path.stat()
        key = str(path)
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
                return str(entry["sha256"])
        digest = sha256_file(path)
        self.remember(path, digest)
        return digest

    def cached(self, path: Path) -> str | None:
        """The hash recorded for this file while its size and mtime are unchanged; never hashes."""
        path = Path(path).resolve()
        try:
            stat = path.stat()
        except OSError:
            return None
        with self._lock:
            entry = self._entries.get(str(path))
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return str(entry["sha256"])
        return None

    def remember(self, path: Path, digest: str) -> None:
        """Record a hash computed elsewhere (e.g. while downloading)."""
        path = Path(path).resolve()
        stat = path.stat()
        with self._lock:
            self._entries[str(path)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
            if self.file is not None:
                try:
                    with atomic_open(self.file, "w", encoding="utf-8") as fh:
                        json.dump(self._entries, fh, indent=1)
                except OSError as exc:  # a read-only data folder: the cache only saves a re-hash
                    log.info("the hash cache %s cannot be written (%s); kept in memory", self.file, exc)
                    self.file = None
