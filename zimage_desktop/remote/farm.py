"""Jobs go where there is room: one thread per engine (this computer's Generator and any number of
ComfyUI servers), one shared queue, no Qt.

An idle engine takes the next job; when several are idle the job goes to the first in the user's
order among those with the shortest server queue (a server busy with someone else's work comes
after an idle one). A server that dies, restarts, stalls or answers nonsense gives its job back:
it goes to the front of the queue with the seeds that have no image yet, and runs elsewhere (or on
the same server once it is back) with the same seeds, so the pictures are the same; the server
sits out ``backoff_s`` before it takes work again. An image is handed to ``on_image`` (which saves
it) exactly once: a seed that has an image is never run again. Cancel removes a waiting job or
stops a running one (``/interrupt`` or out of the server's queue).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..engine.request import GeneratedImage, GenerationRequest, GenerationResult, StepEvent
from ..errors import UserFacingError
from ..messages import msg
from .http import RemoteError
from .job_inputs import MissingOnServer

DEFAULT_BACKOFF_S = 15.0


class Engine(Protocol):
    name: str

    def run(self, request: GenerationRequest, on_step: Callable[[StepEvent], None] | None = None,
            is_cancelled: Callable[[], bool] | None = None,
            on_image: Callable[[GeneratedImage], None] | None = None) -> GenerationResult: ...


class LocalEngine:
    """This computer: the Generator (loaded lazily by the caller's factory, on this engine's thread)."""

    kind = "local"

    def __init__(self, make_generator: Callable[[], Any], name: str = "local") -> None:
        self.name = name
        self._make = make_generator
        self._generator: Any = None

    def queue_length(self) -> int:
        return 0

    def run(self, request: GenerationRequest, on_step: Callable[[StepEvent], None] | None = None,
            is_cancelled: Callable[[], bool] | None = None,
            on_image: Callable[[GeneratedImage], None] | None = None) -> GenerationResult:
        if self._generator is None:
            self._generator = self._make()
        result: GenerationResult = self._generator.run(request, on_step=on_step, is_cancelled=is_cancelled,
                                                       on_image=on_image)
        return result


@dataclass
class FarmJob:
    id: int
    request: GenerationRequest
    done_seeds: set[int] = field(default_factory=set)
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (engine, why it gave the job back)
    engine: str = ""  # where it runs now ("" while waiting)
    cancelled: bool = False
    avoid: set[str] = field(default_factory=set)  # engines that lack a file it needs (a LoRA …)

    @property
    def remaining(self) -> GenerationRequest | None:
        seeds = [s for s in self.request.seeds if s not in self.done_seeds]
        if not seeds:
            return None
        # replace, not a to_dict round trip: that drops an edit's source and mask files
        return replace(self.request, seed=seeds[0], count=1)


@dataclass
class FarmEvents:
    """Callbacks, called on the engines' threads."""

    started: Callable[[FarmJob, str], None] = lambda job, engine: None
    step: Callable[[FarmJob, str, StepEvent], None] = lambda job, engine, event: None
    image: Callable[[FarmJob, str, GeneratedImage], None] = lambda job, engine, image: None
    requeued: Callable[[FarmJob, str, str], None] = lambda job, engine, reason: None
    finished: Callable[[FarmJob, str, bool], None] = lambda job, engine, cancelled: None
    failed: Callable[[FarmJob, str, str], None] = lambda job, engine, message: None


class Farm:
    def __init__(self, engines: list[Any], events: FarmEvents | None = None, *, backoff_s: float = DEFAULT_BACKOFF_S,
                 max_attempts: int | None = None) -> None:
        if not engines:
            raise ValueError("a farm needs at least one engine")
        self.engines = list(engines)
        self.events = events or FarmEvents()
        self.backoff_s = backoff_s
        self.max_attempts = max_attempts or 2 * len(engines) + 1
        self._cond = threading.Condition()
        self._queue: deque[FarmJob] = deque()
        self._running: dict[int, FarmJob] = {}
        self._idle: set[str] = set()
        self._down_until: dict[str, float] = {}
        self._queue_len: dict[str, int] = {e.name: 0 for e in self.engines}
        self._ids = itertools.count(1)
        self._stopping = False
        self._threads = [threading.Thread(target=self._serve, args=(e, order), name=f"engine-{e.name}", daemon=True)
                         for order, e in enumerate(self.engines)]
        for thread in self._threads:
            thread.start()

    # -- the caller's side ---------------------------------------------------------------

    def submit(self, request: GenerationRequest) -> FarmJob:
        with self._cond:
            job = FarmJob(next(self._ids), request)
            self._queue.append(job)
            self._cond.notify_all()
        return job

    def cancel(self, job_id: int) -> None:
        with self._cond:
            for job in list(self._queue):
                if job.id == job_id:
                    self._queue.remove(job)
                    job.cancelled = True
                    self.events.finished(job, "", True)
            if job_id in self._running:
                self._running[job_id].cancelled = True
            self._cond.notify_all()

    def waiting(self) -> list[FarmJob]:
        with self._cond:
            return list(self._queue)

    def running(self) -> list[FarmJob]:
        with self._cond:
            return list(self._running.values())

    def join(self, timeout: float | None = None) -> bool:
        """Wait until no job waits or runs; False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(timeout=0.5 if left is None else min(left, 0.5))
        return True

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until every engine has been asked for its queue once (idle, or sitting out)."""
        end = time.monotonic() + timeout
        with self._cond:
            while any(e.name not in self._idle and e.name not in self._down_until for e in self.engines):
                if time.monotonic() > end:
                    return False
                self._cond.wait(timeout=0.2)
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            for job in self._running.values():
                job.cancelled = True
            self._queue.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

    # -- the engines' side ---------------------------------------------------------------

    def _my_turn(self, engine: Any, order: int) -> bool:
        """Whether ``engine`` is the idle engine the next job should go to."""
        # a server that sat out takes work again only after its own thread asked it (``_serve``)
        avoid = self._queue[0].avoid if self._queue else set()
        ranked = sorted((self._queue_len.get(e.name, 0), i) for i, e in enumerate(self.engines)
                        if e.name in self._idle and e.name not in self._down_until and e.name not in avoid)
        return bool(ranked) and ranked[0][1] == order

    def _serve(self, engine: Any, order: int) -> None:
        while True:
            self._refresh_queue_length(engine)
            with self._cond:
                self._idle.add(engine.name)
                self._cond.notify_all()
                reprobe = False
                while not self._stopping and not (self._queue and self._my_turn(engine, order)):
                    down = self._down_until.get(engine.name)
                    if down is not None and down <= time.monotonic():  # back after its pause? ask it first
                        del self._down_until[engine.name]
                        reprobe = True
                        break
                    self._cond.wait(timeout=1.0)
                if self._stopping:
                    return
                if reprobe:
                    self._idle.discard(engine.name)
                    continue
                self._idle.discard(engine.name)
                job = self._queue.popleft()
                job.engine = engine.name
                self._running[job.id] = job
                self._cond.notify_all()
            self._run(engine, job)
            with self._cond:
                self._running.pop(job.id, None)
                self._cond.notify_all()

    def _refresh_queue_length(self, engine: Any) -> None:
        try:
            length = engine.queue_length()
        except RemoteError:
            with self._cond:
                self._down_until[engine.name] = time.monotonic() + self.backoff_s
                self._cond.notify_all()
            return
        self._queue_len[engine.name] = length

    def _run(self, engine: Any, job: FarmJob) -> None:
        name = engine.name
        request = job.remaining
        if request is None:
            self.events.finished(job, name, False)
            return
        remaining = [s for s in job.request.seeds if s not in job.done_seeds]
        # the remaining seeds run in one go when they follow on (the usual case), else one by one
        consecutive = replace(job.request, seed=remaining[0], count=len(remaining))
        batch = consecutive if consecutive.seeds == remaining else request
        self.events.started(job, name)

        def on_image(image: GeneratedImage) -> None:
            with self._cond:
                if image.seed in job.done_seeds:
                    return
                job.done_seeds.add(image.seed)
            self.events.image(job, name, image)

        try:
            result = engine.run(batch, on_step=lambda e: self.events.step(job, name, e),
                                is_cancelled=lambda: job.cancelled or self._stopping, on_image=on_image)
        except MissingOnServer as exc:
            self._elsewhere(engine, job, exc.message)
            return
        except RemoteError as exc:
            if not exc.retriable:
                self.events.failed(job, name, exc.message)
                return
            self._give_back(engine, job, exc.message)
            return
        except UserFacingError as exc:
            self.events.failed(job, name, exc.message)
            return
        except Exception as exc:  # an engine's bug must not end its thread
            self.events.failed(job, name, f"{type(exc).__name__}: {exc}")
            return
        if result.cancelled:
            self.events.finished(job, name, True)
        elif job.remaining is not None:  # a batch that ran one seed: the rest go round again
            with self._cond:
                job.engine = ""
                self._queue.appendleft(job)
        else:
            self.events.finished(job, name, False)

    def _elsewhere(self, engine: Any, job: FarmJob, reason: str) -> None:
        """The server lacks a file the job needs: another engine takes it (this computer among them
        when the user's list has it); when none is left, the job fails with the reason."""
        with self._cond:
            job.avoid.add(engine.name)
            job.engine = ""
            if job.cancelled or self._stopping:
                self.events.finished(job, engine.name, True)
                return
            if all(e.name in job.avoid for e in self.engines):
                self.events.failed(job, engine.name, reason)
                return
            self._queue.appendleft(job)
            self._cond.notify_all()
        self.events.requeued(job, engine.name, reason)

    def _give_back(self, engine: Any, job: FarmJob, reason: str) -> None:
        with self._cond:
            self._down_until[engine.name] = time.monotonic() + self.backoff_s
            job.attempts.append((engine.name, reason))
            job.engine = ""
            if job.cancelled or self._stopping:
                self.events.finished(job, engine.name, True)
                return
            if len(job.attempts) >= self.max_attempts:
                self.events.failed(job, engine.name, msg(
                    "remote.gave_up", "The job failed on {count} tries; the last: {reason}", count=len(job.attempts),
                    reason=reason))
                return
            self._queue.appendleft(job)
            self._cond.notify_all()
        self.events.requeued(job, engine.name, reason)
