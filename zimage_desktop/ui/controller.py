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
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Signal

from ..engine.request import GenerationRequest


@dataclass(frozen=True)
class Job:
    id: int
    request: GenerationRequest
    parent_id: int | None = None  # history id this re-runs or varies (lineage)
    avoid: frozenset[str] = frozenset()  # engines that lack a file it needs (a LoRA on a server)


@dataclass(frozen=True)
class EnhanceJob:
    """Rewrite ``idea`` with the prompt enhancer (the worker owns the text encoder it runs on)."""

    id: int
    idea: str
    seed: int
    max_new_tokens: int = 300


RELOAD = "reload"  # next_work's answer when the model must be (re)loaded first
LOCAL_ENGINE = "local"


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
        # Engines (ui/remote_worker.py): rank by the user's order; who waits for work now; a
        # cancel "epoch" that every running remote job watches (Cancel stops them all).
        self._ranks: dict[str, int] = {LOCAL_ENGINE: 0}
        self._waiting: set[str] = set()
        self._cancel_epoch = 0
        self._running: dict[int, str] = {}  # job id → the engine running it
        self._cancelled_jobs: set[int] = set()  # running jobs whose own Cancel was pressed

    # -- the window's side ---------------------------------------------------------------

    def submit(self, request: GenerationRequest, parent_id: int | None = None) -> int:
        with self._cond:
            job = Job(next(self._ids), request, parent_id)
            self._queue.append(job)
            self._cond.notify_all()
        self._announce()
        return job.id

    def enhance(self, idea: str, seed: int, max_new_tokens: int = 300) -> int:
        """Ask for a rewrite of ``idea``; it runs before the next queued image (a newer request
        replaces one that has not started)."""
        with self._cond:
            job = self._enhance = EnhanceJob(next(self._ids), idea, seed, max_new_tokens)
            self._cond.notify_all()
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
            self._cancel_epoch += 1

    def cancel_job(self, job_id: int) -> None:
        """Stop one running job (the others go on); a waiting one is simply removed."""
        with self._cond:
            engine = self._running.get(job_id)
            if engine is None:
                self._queue = deque(j for j in self._queue if j.id != job_id)
            elif engine == LOCAL_ENGINE:
                self._cancel_current = True
            else:
                self._cancelled_jobs.add(job_id)
        self._announce()

    def running_jobs(self) -> dict[int, str]:
        """{job id: engine} of the jobs that run now."""
        with self._cond:
            return dict(self._running)

    def cancel_all(self) -> None:
        with self._cond:
            self._queue.clear()
            self._enhance = None
            self._cancel_current = True
            self._cancel_epoch += 1
        self._announce()

    def request_reload(self) -> None:
        """Load the model again (settings or model files changed) before the next job."""
        with self._cond:
            self._reload = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cancel_current = True
            self._cond.notify_all()
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
            self._waiting.add(LOCAL_ENGINE)
            self._finished(LOCAL_ENGINE)
            while not self._stopping and not self._reload and self._enhance is None and not (
                    self._queue and self._turn_of(LOCAL_ENGINE)):
                self._cond.wait()
            self._waiting.discard(LOCAL_ENGINE)
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
            self._running[job.id] = LOCAL_ENGINE
        self._announce()
        return job

    def is_cancelled(self) -> bool:
        return self._cancel_current or self._stopping

    # -- engines (this computer and ComfyUI servers) -----------------------------------------

    def set_engine_order(self, ranks: dict[str, int]) -> None:
        """{engine name: place in the user's order}; "local" is this computer (absent: it takes no jobs)."""
        with self._cond:
            self._ranks = dict(ranks)
            self._cond.notify_all()

    def _turn_of(self, engine: str) -> bool:
        """The job goes to the first engine in the user's order among those waiting for work (and
        not among those that lack a file the job needs)."""
        if engine not in self._ranks or not self._queue:
            return False
        candidates = (self._waiting & set(self._ranks)) - self._queue[0].avoid
        return bool(candidates) and min(candidates, key=lambda n: self._ranks[n]) == engine

    def _finished(self, engine: str) -> None:
        """``engine`` asks for work: the job it ran is over."""
        for job_id in [j for j, e in self._running.items() if e == engine]:
            del self._running[job_id]
            self._cancelled_jobs.discard(job_id)

    def next_job_for(self, engine: str) -> tuple[Job, int] | None:
        """Block until ``engine`` should take the next job: (job, cancel epoch), or None when stopping."""
        with self._cond:
            self._waiting.add(engine)
            self._finished(engine)
            self._cond.notify_all()
            while not self._stopping and engine in self._ranks and not (self._queue and self._turn_of(engine)):
                self._cond.wait(timeout=1.0)
            self._waiting.discard(engine)
            if self._stopping or engine not in self._ranks:  # closing, or the engine was removed
                return None
            job = self._queue.popleft()
            self._running[job.id] = engine
            epoch = self._cancel_epoch
        self._announce()
        return job, epoch

    def leave(self, engine: str) -> None:
        """``engine`` takes no work for now (a server that sits out after a fault)."""
        with self._cond:
            self._waiting.discard(engine)
            self._finished(engine)

    def give_back(self, job: Job) -> None:
        """A job an engine could not finish goes first in the queue (its remaining seeds)."""
        with self._cond:
            self._running.pop(job.id, None)
            self._queue.appendleft(job)
            self._cond.notify_all()
        self._announce()

    def give_elsewhere(self, job: Job, engine: str) -> bool:
        """``engine`` lacks a file ``job`` needs: it goes first in the queue for the other engines;
        False (and not queued) when every engine in the user's order lacks it."""
        with self._cond:
            self._running.pop(job.id, None)
            job = replace(job, avoid=job.avoid | {engine})
            if set(self._ranks) <= job.avoid:
                return False
            self._queue.appendleft(job)
            self._cond.notify_all()
        self._announce()
        return True

    def job_cancelled(self, epoch: int, job_id: int | None = None) -> bool:
        return self._stopping or self._cancel_epoch != epoch or job_id in self._cancelled_jobs

    def take_preview_slot(self) -> bool:
        """True (once) when the window has shown the last preview and can take another."""
        if self._preview_free.is_set():
            self._preview_free.clear()
            return True
        return False
