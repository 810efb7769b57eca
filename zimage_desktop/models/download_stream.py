"""One HTTP request of a download: streaming a file's bytes into its part file with the sha256 computed on the
way, Range resumes, the answers that mean "retry" (_Retry) or "try the next source" (_SourceFailed), and the
checks before a part becomes the file. A base class of models.download.Downloader, split off by responsibility to
keep that module readable; it reads the downloader's settings and shared state (declared below).
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import IO, Callable

import requests
import urllib3

from ..messages import msg
from .catalog import CatalogFile
from .download_events import DiskSpaceError, DownloadCancelled
from .hashing import HashCache
from .http import MAX_REDIRECTS, RedirectRefused
from .sources import scrub, sha256_from_headers
from .throughput import RateLimiter, Sink, Speed

CHUNK = 1024 * 1024
EMIT_INTERVAL = 0.1
class _SourceFailed(Exception):
    """This source cannot deliver this file; try the next one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # a Message, kept so the sentence around it renders in any language


class _Retry(Exception):
    """A passing failure: try the same source again, from where we stopped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OneRequest:
    connect_timeout: float
    stall_timeout: float
    low_speed_bytes: float
    low_speed_s: float
    limiter: RateLimiter
    hash_cache: HashCache
    open_part: Callable[[Path, str], IO[bytes]]
    _cancel: threading.Event
    _running: threading.Event
    _lock: threading.Lock
    _announced: dict[str, str]
    _set_done: int
    _emit_progress: Callable[[CatalogFile, int, int | None, float], None]

    @staticmethod
    def _hash_prefix(part: Path, size: int):
        hasher = hashlib.sha256()
        with open(part, "rb") as fh:
            remaining = size
            while remaining and (chunk := fh.read(min(CHUNK * 8, remaining))):
                hasher.update(chunk)
                remaining -= len(chunk)
        return hasher, size

    def _stream(self, session, url: str, headers: dict, f: CatalogFile, part: Path, offset: int, hasher):
        """One HTTP request; returns (finished, sha256 announced by the server)."""
        # identity: the bytes on the wire are the file's bytes (no gzip), so sizes and offsets agree.
        req_headers = dict(headers, **{"Accept-Encoding": "identity"})
        if offset:
            req_headers["Range"] = f"bytes={offset}-"
        try:
            response = session.get(url, headers=req_headers, stream=True, timeout=(self.connect_timeout, self.stall_timeout))
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retry(type(exc).__name__) from None
        except RedirectRefused as exc:
            raise _SourceFailed(scrub(str(exc))) from None
        except requests.TooManyRedirects:
            raise _SourceFailed(msg("download.more_than_redirects", "more than {MAX_REDIRECTS} redirects",
                                    MAX_REDIRECTS=MAX_REDIRECTS)) from None
        except requests.RequestException as exc:  # a bad URL or redirect target: this source cannot serve it
            raise _SourceFailed(msg("download.request_failed", "the request failed ({error_type}: {exc})",
                                    error_type=type(exc).__name__, exc=scrub(str(exc))[:120])) from None
        with response:
            code = response.status_code
            if code == 416 and offset and f.size == offset:
                with self._lock:
                    return True, f.sha256 or self._announced.get(f.dest) or sha256_from_headers(response.headers)
            if code == 416:
                self._discard(part)
                raise _Retry(msg("download.partial_file_did_match", "the partial file did not match the server's; starting "
                                 "again"))
            if code in (401, 403, 404, 410):
                raise _SourceFailed(msg("download.http", "HTTP {code}", code=code))
            if code == 429 or code >= 500:
                raise _Retry(msg("download.http", "HTTP {code}", code=code))
            if code not in (200, 206):
                raise _SourceFailed(msg("download.unexpected_http", "unexpected HTTP {code}", code=code))
            if code == 200 and offset:  # the server ignored Range: start over
                self._discard(part)
                raise _Retry(msg("download.server_does_resume_starting", "server does not resume; starting again"))
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else None
            if f.size is not None and total is not None and total != f.size:
                raise _SourceFailed(msg("download.server_s_file_bytes", "the server's file is {total:,} bytes, the catalog "
                                        "expects {size:,}",
                                        total=total, size=f.size))
            announced = sha256_from_headers(response.headers)
            if announced and not f.sha256:
                with self._lock:  # remembered for the other sources, which may not announce one
                    self._announced.setdefault(f.dest, announced)
            with self._lock:
                expected_sha = f.sha256 or self._announced.get(f.dest)
            # Never read past the expected size (+1 byte to notice excess), whatever the server claims
            # or leaves out (no Content-Length, chunked): a hostile server cannot fill the disk.
            limit = f.size if f.size is not None else total
            done = offset
            unreported = 0  # bytes not yet added to the set's total (the lock is taken per report)
            last_emit = 0.0
            speed = Speed()
            speed.mark(time.monotonic(), done)
            window_start, window_done = time.monotonic(), done
            try:
                try:
                    with self.open_part(part, "ab") as out, Sink(out, hasher) as sink:
                        # read1 hands over whatever has arrived, so a dropped connection loses no byte
                        # that reached us: the retry resumes exactly where the stream broke.
                        while chunk := response.raw.read1(CHUNK if limit is None else max(1, min(CHUNK, limit + 1 - done))):
                            if self._cancel.is_set():
                                raise DownloadCancelled()
                            if not self._running.is_set():
                                self._running.wait()
                                raise _Retry(msg("download.paused", "paused"))
                            self.limiter.take(len(chunk))
                            sink.put(chunk)
                            done += len(chunk)
                            if limit is not None and done > limit:
                                break
                            unreported += len(chunk)
                            now = time.monotonic()
                            if now - window_start >= self.low_speed_s:
                                if done - window_done < self.low_speed_bytes * (now - window_start):
                                    raise _Retry(msg("download.too_slow", "slower than {floor:,.0f} bytes/s for {seconds:.0f} s",
                                                     floor=self.low_speed_bytes, seconds=now - window_start))
                                window_start, window_done = now, done
                            if now - last_emit >= EMIT_INTERVAL:
                                last_emit = now
                                with self._lock:
                                    self._set_done += unreported
                                unreported = 0
                                self._emit_progress(f, done, f.size or total, speed.mark(now, done))
                finally:
                    with self._lock:
                        self._set_done += unreported
            except (urllib3.exceptions.ReadTimeoutError, requests.Timeout, TimeoutError) as exc:
                raise _Retry(msg("download.stalled", "stalled")) from exc
            except (urllib3.exceptions.HTTPError, requests.RequestException, ConnectionError) as exc:
                raise _Retry(msg("download.connection_dropped", "connection dropped")) from exc
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    self._discard(part)
                    raise DiskSpaceError(msg("download.disk_filled_up_while", "The disk filled up while writing {dest}; the "
                                             "partial file was removed. Free some space and download again.",
                                             dest=f.dest)) from None
                raise
            if limit is not None and done > limit:
                self._discard(part)
                raise _SourceFailed(msg("download.server_sent_more_than", "the server sent more than the expected {limit:,} "
                                        "bytes; the file was deleted",
                                        limit=limit))
            expected_total = f.size or total
            if expected_total is not None and done < expected_total:
                raise _Retry(msg("download.connection_closed_bytes", "connection closed at {done:,} of {expected_total:,} "
                                 "bytes", done=done, expected_total=expected_total))
            return True, expected_sha

    def _finish(self, f: CatalogFile, part: Path, dest: Path, digest: str, expected_sha: str | None, name: str) -> None:
        size = part.stat().st_size
        if f.size is not None and size != f.size:
            self._discard(part)
            raise _SourceFailed(msg("download.size_mismatch_bytes_expected", "size mismatch ({size:,} bytes, expected "
                                    "{expected:,}); the file was deleted",
                                    size=size, expected=f.size))
        if expected_sha and digest != expected_sha:
            self._discard(part)
            raise _SourceFailed(msg("download.checksum_mismatch_sha_expected", "checksum mismatch (sha256 {digest}…, "
                                    "expected {expected_sha}…); the file was deleted",
                                    digest=digest[:12], expected_sha=expected_sha[:12]))
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, dest)
        self.hash_cache.remember(dest, digest)

    def _discard(self, part: Path) -> None:
        """Delete a part file that cannot be used, taking its bytes out of the set's progress."""
        size = part.stat().st_size if part.exists() else 0
        part.unlink(missing_ok=True)
        with self._lock:
            self._set_done -= size
