"""Resumable, verified, atomic downloads with progress, pause and cancel.

Each file streams into ``<dest>.part``; the sha256 is computed while the bytes arrive (a resumed
file hashes its existing prefix once, then continues), and the part is renamed into place only
after size and hash match. A dropped connection or a stall (no byte for ``stall_timeout``) is
retried from the byte where it stopped with an HTTP Range request, with bounded, growing pauses;
a source that keeps failing (timeouts, 5xx, DNS, 404) hands over to the next one. Before any file
starts, each source is probed once (models.reachability): unreachable ones are left out, and when
none can be reached the set fails at once with one message instead of a retry storm. Several
files download at once, sharing one optional bandwidth limit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Callable


from ..errors import UserFacingError
from ..messages import joined, msg
from .catalog import CatalogFile, SourceLocation, safe_dest
from .download_events import (  # noqa: F401  (re-exported: callers import them from here)
    DISK_MARGIN, DiskSpaceError, DownloadCancelled, DownloadError, DownloadEvent, DownloadReport, SourcesUnreachable,
    free_bytes,
)
from .hashing import HashCache
from .http import ScopedSession
from .reachability import measure_sources
from .sources import (
    HF_ADDRESS, MODELSCOPE_ADDRESS,
    SourceConfig, file_url, host_of, rank_sources, request_headers, token_refusal, validate_endpoint,
)
from .part_lock import claim_part
from .throughput import RateLimiter
from .download_stream import OneRequest, _Retry, _SourceFailed

log = logging.getLogger(__name__)

class Downloader(OneRequest):
    """Download catalog files into ``models_dir``. ``open_part`` opens part files (a test may
    pass one that fails like a full disk)."""

    def __init__(self, models_dir: Path, sources: SourceConfig | None = None, *, concurrency: int = 2,
                 stall_timeout: float = 30.0, connect_timeout: float = 15.0, retries: int = 5,
                 backoff: float = 1.0, rate_limit: float | None = None, disk_margin: int = DISK_MARGIN,
                 probe_timeout: float = 5.0, low_speed_bytes: float = 1024.0, low_speed_s: float = 60.0,
                 hash_cache: HashCache | None = None, open_part: Callable[[Path, str], IO[bytes]] | None = None) -> None:
        self.models_dir = Path(models_dir)
        self.sources = sources or SourceConfig()
        self._hinted = self.sources.order  # with sources.auto, the hint; each probe ranks the sources again
        self.concurrency = max(1, concurrency)
        self.stall_timeout = stall_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self.limiter = RateLimiter(rate_limit)
        self.disk_margin = disk_margin
        self.probe_timeout = probe_timeout
        # Like curl's --speed-limit/--speed-time: a server trickling a byte every few seconds never
        # trips the stall timeout, so slower than this over this long is a retry (then a failure).
        self.low_speed_bytes = low_speed_bytes if not rate_limit else min(low_speed_bytes, rate_limit / 4)
        self.low_speed_s = low_speed_s
        self._unreachable: set[str] = set()  # source kinds the probe could not reach, for this run
        self.hash_cache = hash_cache or HashCache()
        self.open_part = open_part or (lambda path, mode: open(path, mode))
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()  # cleared while paused
        self._lock = threading.Lock()
        self._set_done = 0
        self._set_total = 0
        self._set_started = 0.0
        self._set_start_done = 0
        self._announced: dict[str, str] = {}  # sha256 a server sent for a file the catalog has none for
        self._withheld_told: set[str] = set()  # hosts the "token withheld" notice was given for
        self._on_event: Callable[[DownloadEvent], None] = lambda e: None

    # -- control (any thread) ---------------------------------------------------------------

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # -- paths ---------------------------------------------------------------------------

    def dest_path(self, dest: str) -> Path:
        """The absolute path for a catalog dest, refusing anything that escapes the folder."""
        rel = safe_dest(dest)
        root = self.models_dir.resolve()
        path = root
        for part in Path(rel).parts:
            path = path / part
            if path.is_symlink() and path != root / rel:
                raise DownloadError(msg("download.refusing_download_symbolic_link", "Refusing to download {dest}: {path} is "
                                        "a symbolic link.",
                                        dest=dest, path=path))
        if not path.resolve().is_relative_to(root) and not path.is_symlink():
            raise DownloadError(msg("download.refusing_download_would_land", "Refusing to download {dest}: it would land "
                                    "outside {root}.", dest=dest, root=root))
        return path

    def is_complete(self, f: CatalogFile, verify: bool = False) -> bool:
        path = self.dest_path(f.dest)
        if not path.is_file() or (f.size is not None and path.stat().st_size != f.size):
            return False
        return not (verify and f.sha256) or self.hash_cache.sha256(path) == f.sha256

    # -- downloading ----------------------------------------------------------------------

    def download(self, files: list[CatalogFile], on_event: Callable[[DownloadEvent], None] | None = None) -> DownloadReport:
        self._on_event = on_event or (lambda e: None)
        self._cancel.clear()
        validate_endpoint(self.sources.hf_endpoint, HF_ADDRESS)
        validate_endpoint(self.sources.modelscope_endpoint, MODELSCOPE_ADDRESS)
        report = DownloadReport()
        todo = []
        for f in files:
            try:
                complete = self.is_complete(f)
            except DownloadError as exc:  # an unsafe destination: refuse this file, not the set
                report.failed[f.dest] = exc.message
                self._emit(DownloadEvent("file_failed", f.dest, message=exc.message))
                continue
            if complete:
                report.skipped.append(f.dest)
                self._emit(DownloadEvent("file_skipped", f.dest, f.size or 0, f.size,
                                         message=msg("download.already_present", "already present")))
            else:
                todo.append(f)
        self._check_space(todo)
        self._probe(todo, report)
        self._set_total = sum(f.expected_size for f in todo)
        self._set_done = sum(self._part_size(f) for f in todo)
        self._set_started = time.monotonic()
        self._set_start_done = self._set_done
        with ThreadPoolExecutor(self.concurrency) as pool:
            results = {f.dest: pool.submit(self._fetch, f, report) for f in todo}
        for dest, future in results.items():
            error = future.exception()
            if error is None:
                report.downloaded.append(dest)
            elif isinstance(error, (DownloadCancelled, DiskSpaceError)):  # these stop the whole set
                raise error
            elif isinstance(error, UserFacingError):
                report.failed[dest] = error.message
            else:  # a bug hit one file: the others still count, and the log keeps the traceback
                log.error("downloading %s failed", dest, exc_info=error)
                report.failed[dest] = msg("download.file_bug", "{dest} could not be downloaded ({error_type}: {error}).",
                                          dest=dest, error_type=type(error).__name__, error=error)
        return report

    def _part_size(self, f: CatalogFile) -> int:
        part = self._part(self.dest_path(f.dest))
        return part.stat().st_size if part.exists() else 0

    @staticmethod
    def _part(dest: Path) -> Path:
        return dest.with_name(dest.name + ".part")

    def _check_space(self, files: list[CatalogFile]) -> None:
        needed = sum(max(0, f.expected_size - self._part_size(f)) for f in files)
        if not needed:
            return
        free = free_bytes(self.models_dir)
        if needed + self.disk_margin > free:
            raise DiskSpaceError(
                msg("download.enough_disk_space_download", "Not enough disk space in {models_dir}: the download needs "
                    "{needed:.1f} GB (+{margin:.1f} GB margin) but {free:.1f} GB are free.",
                    models_dir=self.models_dir, needed=needed / 1e9, margin=self.disk_margin / 1e9, free=free / 1e9)
            )

    def _order(self, f: CatalogFile) -> list[str]:
        """The sources to try for a file, preferred first, those known to be unreachable left out."""
        order = [k for k in self.sources.order if f.source(k)] + [s.kind for s in f.sources if s.kind not in self.sources.order]
        return [k for k in order if k not in self._unreachable]

    def _probe(self, todo: list[CatalogFile], report: DownloadReport) -> None:
        """Leave out the sources that cannot be reached; fail the set at once when none can."""
        self._unreachable = set()
        urls: dict[str, str] = {}
        for f in todo:
            for kind in self._order(f):
                loc = f.source(kind)
                if kind not in urls and loc is not None:
                    urls[kind] = file_url(loc, self.sources)
        if not urls:
            return
        self._emit(DownloadEvent("checking", "", message=msg("download.checking",
                                                                   "Checking the connection to the download sources…")))
        measured = measure_sources(urls, self.probe_timeout)
        reasons = {kind: why for kind, (_, why) in measured.items() if why}
        if len(reasons) == len(urls):
            raise SourcesUnreachable({self.sources.name(kind): why for kind, why in reasons.items()})
        self._unreachable = set(reasons)
        if self.sources.auto:  # the source that answers fastest first; the language/region hint breaks near ties
            answered = {kind: seconds for kind, (seconds, why) in measured.items() if not why}
            ranked = rank_sources(self._hinted, answered)
            self.sources = replace(self.sources, order=ranked + tuple(k for k in self._hinted if k not in ranked))
            first = ranked[0]
            message = msg("download.source_chosen", "Downloading from {source}: it answered fastest ({ms} ms).",
                          source=self.sources.name(first), ms=f"{answered[first] * 1000:.0f}")
            report.messages.append(message)
            self._emit(DownloadEvent("notice", "", source=self.sources.name(first), message=message))
        for kind, why in reasons.items():
            message = msg("download.source_skipped", "{source} cannot be reached ({reason}); using the other sources.",
                          source=self.sources.name(kind), reason=why)
            report.messages.append(message)
            log.warning(message)
            self._emit(DownloadEvent("notice", "", source=self.sources.name(kind), message=message))

    def _fetch(self, f: CatalogFile, report: DownloadReport) -> None:
        def waiting() -> None:
            self._emit(DownloadEvent("notice", f.dest, message=msg(
                "download.waiting_for_other", "{dest} is being downloaded by another window or command; waiting for it.",
                dest=f.dest)))

        try:
            with claim_part(self.models_dir, f.dest, self._cancel.is_set, waiting):
                if self.is_complete(f):  # the other download finished it
                    self._emit(DownloadEvent("file_done", f.dest, f.size or 0, f.size))
                    return
                self._fetch_claimed(f, report)
        except InterruptedError:
            raise DownloadCancelled() from None

    def _fetch_claimed(self, f: CatalogFile, report: DownloadReport) -> None:
        dest = self.dest_path(f.dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        errors: list[str] = []
        order = self._order(f)
        for i, kind in enumerate(order):
            loc = f.source(kind)
            assert loc is not None
            name = self.sources.name(kind)
            try:
                self._fetch_from(f, loc, dest, name, report)
                self._emit(DownloadEvent("file_done", f.dest, f.size or dest.stat().st_size, f.size, source=name))
                return
            except OSError as exc:  # not a full disk (that stops the set): this file cannot be written
                message = msg("download.cannot_written", "{dest} cannot be written in {parent} ({reason}).",
                              dest=f.dest, parent=dest.parent, reason=exc.strerror or exc)
                self._emit(DownloadEvent("file_failed", f.dest, message=message))
                raise DownloadError(message) from None
            except _SourceFailed as exc:
                errors.append(msg("download.source_reason", "{source}: {reason}", source=name, reason=exc.reason))
                nxt = self.sources.name(order[i + 1]) if i + 1 < len(order) else None
                message = (msg("download.source_failed_next", "{dest} from {source} failed ({reason}); trying {next}.",
                               dest=f.dest, source=name, reason=exc.reason, next=nxt) if nxt else
                           msg("download.source_failed", "{dest} from {source} failed ({reason}).", dest=f.dest, source=name,
                               reason=exc.reason))
                report.messages.append(message)
                log.warning(message)
                if nxt:  # the last source's failure is told once, in the file's "file_failed"
                    self._emit(DownloadEvent("source_failed", f.dest, source=name, message=message))
        message = msg("download.file_failed", "{dest} could not be downloaded — {errors}", dest=f.dest,
                      errors=joined(errors, "; ") if errors else msg("download.no_reachable_source",
                                                                     "no reachable source has it."))
        self._emit(DownloadEvent("file_failed", f.dest, message=message))
        raise DownloadError(message)

    def _fetch_from(self, f: CatalogFile, loc: SourceLocation, dest: Path, name: str, report: DownloadReport) -> None:
        url = file_url(loc, self.sources)
        headers = request_headers(loc, self.sources, url)
        self._tell_if_withheld(url, loc.kind, report)
        part = self._part(dest)
        hasher, hashed = hashlib.sha256(), 0
        attempt = 0
        with ScopedSession(self.sources, loc.kind) as session:
            while True:
                if self._cancel.is_set():
                    raise DownloadCancelled()
                offset = part.stat().st_size if part.exists() else 0
                if hashed != offset:  # resuming a part from an earlier run: hash its prefix once
                    hasher, hashed = self._hash_prefix(part, offset)
                try:
                    finished, expected_sha = self._stream(session, url, headers, f, part, offset, hasher)
                except _Retry as exc:
                    hashed = part.stat().st_size if part.exists() else 0
                    if hashed == 0:
                        hasher = hashlib.sha256()
                    attempt += 1
                    if attempt > self.retries:
                        raise _SourceFailed(msg("download.gave_up_after_retries", "gave up after {retries} retries ({exc})",
                                                retries=self.retries, exc=exc.reason)) from None
                    log.info("retrying %s from %s in %.1fs: %s", f.dest, name, self.backoff * 2 ** (attempt - 1), exc)
                    if self._cancel.wait(self.backoff * 2 ** (attempt - 1)):
                        raise DownloadCancelled() from None
                    continue
                hashed = part.stat().st_size if part.exists() else 0
                if finished:
                    self._finish(f, part, dest, hasher.hexdigest(), expected_sha, name)
                    return

    def _tell_if_withheld(self, url: str, kind: str, report: DownloadReport) -> None:
        why = token_refusal(url, kind, self.sources) if self.sources.hf_token and kind == "hf" else None
        host = host_of(url)
        with self._lock:
            if why is None or host in self._withheld_told:
                return
            self._withheld_told.add(host)
        message = msg("download.hugging_face_token_was", "The Hugging Face token was not sent to {host}: {why}.",
                      host=host, why=why)
        report.messages.append(message)
        log.warning(message)
        self._emit(DownloadEvent("notice", "", source=host, message=message))

    # -- events ---------------------------------------------------------------------------

    def _emit_progress(self, f: CatalogFile, done: int, total: int | None, speed: float) -> None:
        with self._lock:
            set_done, set_total = self._set_done, self._set_total
            elapsed = max(1e-6, time.monotonic() - self._set_started)
            set_speed = (set_done - self._set_start_done) / elapsed
        eta = (total - done) / speed if total and speed > 0 else None
        set_eta = (set_total - set_done) / set_speed if set_total and set_speed > 0 else None
        self._emit(DownloadEvent("progress", f.dest, done, total, speed, eta, set_done, set_total, set_speed, set_eta))

    def _emit(self, event: DownloadEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # a broken progress display must not break the download
            log.exception("download progress callback failed")
