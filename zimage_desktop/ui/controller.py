"""The queue of generation jobs and the preview gate, shared by the window and the worker thread.

The window (prompt tab, poster panel, history re-runs) submits, reorders and cancels jobs here;
the worker thread takes them one at a time with ``next_work``. Previews are "latest wins": the
worker attaches a preview to a step only when the window has shown the previous one, so a slow
window drops previews instead of falling behind.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..engine.request import GenerationRequest


@dataclass(frozen=True)
class Job:
    id: int
    request: GenerationRequest
    parent_id: int | None = None  # history id this re-runs or varies (lineage)


@dataclass(frozen=True)
class EnhanceJob:
    """Rewrite ``idea`` with the prompt enhancer (the worker owns the text encoder it runs on)."""

    id: int
    idea: str
    seed: int
    max_new_tokens: int = 300


RELOAD = "reload"  # next_work's answer when the model must be (re)loaded first


class GenerationController(QObject):
    queue_changed = Signal(tuple)  # tuple[Job, ...]: the waiting jobs, in order
    stopping = Signal()  # stop() was called: the worker winds down

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._ids = itertools.count(1)
        self._cancel_current = False
        self._stopping = False
        self._reload = False
        self._enhance: EnhanceJob | None = None  # at most one waits; it goes before queued images
        self._running_enhance: int | None = None
        self._preview_free = threading.Event()
        self._preview_free.set()

    # -- the window's side ---------------------------------------------------------------

    def submit(self, request: GenerationRequest, parent_id: int | None = None) -> int:
        with self._cond:
            job = Job(next(self._ids), request, parent_id)
            self._queue.append(job)
            self._cond.notify()
        self._announce()
        return job.id

    def enhance(self, idea: str, seed: int, max_new_tokens: int = 300) -> int:
        """Ask for a rewrite of ``idea``; it runs before the next queued image (a newer request
        replaces one that has not started)."""
        with self._cond:
            job = self._enhance = EnhanceJob(next(self._ids), idea, seed, max_new_tokens)
            self._cond.notify()
        return job.id

    def cancel_enhance(self) -> None:
        """Drop a waiting rewrite, or stop one that runs; never touches an image job."""
        with self._cond:
            self._enhance = None
            if self._running_enhance is not None:
                self._cancel_current = True

    def remove(self, job_id: int) -> None:
        with self._cond:
            self._queue = deque(j for j in self._queue if j.id != job_id)
        self._announce()

    def move(self, job_id: int, delta: int) -> None:
        with self._cond:
            jobs = list(self._queue)
            i = next((k for k, j in enumerate(jobs) if j.id == job_id), None)
            if i is not None and 0 <= i + delta < len(jobs):
                jobs[i], jobs[i + delta] = jobs[i + delta], jobs[i]
                self._queue = deque(jobs)
        self._announce()

    def cancel_current(self) -> None:
        with self._cond:
            self._cancel_current = True

    def cancel_all(self) -> None:
        with self._cond:
            self._queue.clear()
            self._enhance = None
            self._cancel_current = True
        self._announce()

    def request_reload(self) -> None:
        """Load the model again (settings or model files changed) before the next job."""
        with self._cond:
            self._reload = True
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cancel_current = True
            self._cond.notify()
        self.stopping.emit()

    def preview_shown(self) -> None:
        self._preview_free.set()

    def queued(self) -> tuple[Job, ...]:
        with self._cond:
            return tuple(self._queue)

    def _announce(self) -> None:
        self.queue_changed.emit(self.queued())

    # -- the worker thread's side ------------------------------------------------------------

    def next_work(self) -> Job | EnhanceJob | str | None:
        """Block until there is work: RELOAD, an EnhanceJob, the next Job, or None when stopping."""
        with self._cond:
            while not self._queue and not self._stopping and not self._reload and self._enhance is None:
                self._cond.wait()
            if self._stopping:
                return None
            self._cancel_current = False
            self._running_enhance = None
            if self._reload:
                self._reload = False
                return RELOAD
            if self._enhance is not None:
                enhance, self._enhance = self._enhance, None
                self._running_enhance = enhance.id
                return enhance
            job = self._queue.popleft()
        self._announce()
        return job

    def is_cancelled(self) -> bool:
        return self._cancel_current or self._stopping

    def take_preview_slot(self) -> bool:
        """True (once) when the window has shown the last preview and can take another."""
        if self._preview_free.is_set():
            self._preview_free.clear()
            return True
        return False
