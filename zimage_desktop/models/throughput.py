"""The plumbing of a transfer: a shared bandwidth limit, a writer/hasher thread, a speed meter."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import IO


class RateLimiter:
    """A token bucket shared by all download threads (None: unlimited)."""

    def __init__(self, bytes_per_s: float | None) -> None:
        self.rate = bytes_per_s
        # Bursts of at most a tenth of a second's worth keep the average honest over short spans.
        self.capacity = max(64 * 1024.0, (bytes_per_s or 0.0) / 10)
        self._lock = threading.Lock()
        self._allowance = self.capacity
        self._last = time.monotonic()

    def take(self, n: int) -> None:
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            self._allowance = min(self.capacity, self._allowance + (now - self._last) * self.rate)
            self._last = now
            self._allowance -= n
            wait = -self._allowance / self.rate if self._allowance < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


class Sink:
    """Writes and hashes chunks on a second thread while the first keeps reading the socket
    (file writes, sha256 and socket reads all release the GIL), so hashing costs no wall time."""

    def __init__(self, out: IO[bytes], hasher) -> None:
        self.out, self.hasher = out, hasher
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.out.write(chunk)
                    self.hasher.update(chunk)
                except BaseException as exc:  # handed to the reading thread
                    self.error = exc

    def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def __enter__(self) -> "Sink":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error


class Speed:
    """Bytes per second over the last few seconds, from (time, total bytes) marks taken when
    progress is reported — nothing per chunk."""

    def __init__(self, window: float = 3.0) -> None:
        self.window = window
        self.marks: deque[tuple[float, int]] = deque()

    def mark(self, now: float, total: int) -> float:
        self.marks.append((now, total))
        while len(self.marks) > 2 and now - self.marks[0][0] > self.window:
            self.marks.popleft()
        t0, b0 = self.marks[0]
        return (total - b0) / (now - t0) if now > t0 else 0.0
