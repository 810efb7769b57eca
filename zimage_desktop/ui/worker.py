"""The one worker thread that owns the engine: a queue of requests in, typed events out.

The thread imports torch and diffusers itself (the window is already visible by then), keeps one
Generator loaded, and reports everything through ``worker_event`` (a WorkerEvent, delivered queued to
the GUI thread). Previews are "latest wins": a new one is attached to a step event only when the
GUI has taken the previous one, so a slow GUI drops previews instead of falling behind.
"""

from __future__ import annotations

import itertools
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from typing import TYPE_CHECKING

from ..config import Paths, Settings
from ..engine.request import GenerationRequest
from ..errors import OutOfMemoryError, UserFacingError

if TYPE_CHECKING:
    from ..engine.generator import Generator
    from ..history.store import HistoryStore


@dataclass(frozen=True)
class Job:
    id: int
    request: GenerationRequest
    parent_id: int | None = None  # history id this re-runs or varies (lineage)


@dataclass(frozen=True)
class WorkerEvent:
    kind: str  # machine | loading | loaded | queue | started | step | image | finished | cancelled | failed
    job_id: int = 0
    step: int = 0
    total: int = 0
    image_index: int = 0
    image_count: int = 0
    eta_s: float = 0.0
    preview: QImage | None = None
    image: QImage | None = None
    path: str = ""
    seed: int = 0
    request: GenerationRequest | None = None
    message: str = ""
    details: str = ""
    lighter_profile: str | None = None
    queue: tuple[Job, ...] = field(default_factory=tuple)
    machine: object = None  # MachineInfo, with kind "machine"


def rgb_to_qimage(array) -> QImage:
    """An owned QImage from an (h, w, 3) uint8 array."""
    h, w, _ = array.shape
    return QImage(array.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class GenerationWorker(QThread):
    worker_event = Signal(object)  # not 'event': that would hide QObject.event()

    def __init__(self, paths: Paths, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.settings = settings
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._ids = itertools.count(1)
        self._current: Job | None = None
        self._cancel_current = False
        self._stopping = False
        self._reload = False
        self._preview_taken = threading.Event()
        self._preview_taken.set()
        self.generator: Generator | None = None
        self._store: HistoryStore | None = None  # opened on the first image

    # -- called from the GUI thread ----------------------------------------------------------

    def submit(self, request: GenerationRequest, parent_id: int | None = None) -> int:
        with self._cond:
            job = Job(next(self._ids), request, parent_id)
            self._queue.append(job)
            self._cond.notify()
        self._emit_queue()
        return job.id

    def remove(self, job_id: int) -> None:
        with self._cond:
            self._queue = deque(j for j in self._queue if j.id != job_id)
        self._emit_queue()

    def move(self, job_id: int, delta: int) -> None:
        with self._cond:
            jobs = list(self._queue)
            i = next((k for k, j in enumerate(jobs) if j.id == job_id), None)
            if i is not None and 0 <= i + delta < len(jobs):
                jobs[i], jobs[i + delta] = jobs[i + delta], jobs[i]
                self._queue = deque(jobs)
        self._emit_queue()

    def cancel_current(self) -> None:
        with self._cond:
            self._cancel_current = True

    def cancel_all(self) -> None:
        with self._cond:
            self._queue.clear()
            self._cancel_current = True
        self._emit_queue()

    def start_engine(self, load_now: bool) -> None:
        """Start the thread; with ``load_now`` it loads the model before the first request."""
        self._reload = load_now
        self.start()

    def update_settings(self, settings: Settings) -> None:
        with self._cond:
            self.settings = settings
            self._reload = True
            self._cond.notify()

    def preview_taken(self) -> None:
        self._preview_taken.set()

    def stop(self, timeout_ms: int = 2000) -> bool:
        """Cancel everything and end the thread; True when it ended in time."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cancel_current = True
            self._cond.notify()
        return self.wait(timeout_ms)

    def queued(self) -> tuple[Job, ...]:
        with self._cond:
            return tuple(self._queue)

    # -- the thread ----------------------------------------------------------------------

    def _emit_queue(self) -> None:
        self.worker_event.emit(WorkerEvent("queue", queue=self.queued()))

    def run(self) -> None:
        # The hardware probe imports torch: here, never on the GUI thread.
        from ..engine.devices import probe

        try:
            self.worker_event.emit(WorkerEvent("machine", machine=probe()))
        except Exception as exc:  # a broken driver must not take the app down
            self.worker_event.emit(WorkerEvent("failed", message=f"Hardware detection failed: {exc}"))
        while True:
            with self._cond:
                while not self._queue and not self._stopping and not self._reload:
                    self._cond.wait()
                if self._stopping:
                    return
                reload = self._reload
                self._reload = False
                job = self._queue.popleft() if self._queue and not reload else None
                self._current, self._cancel_current = job, False
            if reload:
                self._load()
                continue
            if job is not None:
                self._emit_queue()
                self._run_job(job)
                with self._cond:
                    self._current = None

    def _make_generator(self) -> "Generator":
        from ..engine.generator import Generator
        from ..models.hashing import HashCache

        s = self.settings
        return Generator(s.models_path(self.paths), device=s.device, previews=s.previews,
                         hash_cache=HashCache(self.paths.hash_cache))

    def _load(self) -> None:
        self.worker_event.emit(WorkerEvent("loading", message="loading"))
        try:
            generator = self.generator = self._make_generator()
            generator.ensure_loaded(profile=self.settings.profile)
            plan = generator.plan
            self.worker_event.emit(WorkerEvent("loaded", message=plan.explanation if plan else ""))
        except UserFacingError as exc:
            self.worker_event.emit(WorkerEvent("failed", message=str(exc), details=""))
        except Exception as exc:  # keep the thread alive whatever happens
            self.worker_event.emit(WorkerEvent("failed", message=f"{type(exc).__name__}: {exc}",
                                        details=traceback.format_exc()))

    def _history(self):
        from ..history.store import HistoryStore

        if self._store is None:
            try:
                self._store = HistoryStore(self.paths.history_db)
            except UserFacingError as exc:  # images are still saved; the status line says why
                self.worker_event.emit(WorkerEvent("failed", message=str(exc)))
                self._store = None
        return self._store

    def _run_job(self, job: Job) -> None:
        from ..history.saving import save_generated

        req = job.request
        self.worker_event.emit(WorkerEvent("started", job.id, total=req.steps, image_count=req.count, request=req))
        generator = self.generator
        if generator is None:
            generator = self.generator = self._make_generator()

        def on_step(e) -> None:
            preview = None
            if e.preview is not None and self._preview_taken.is_set():
                self._preview_taken.clear()
                preview = rgb_to_qimage(e.preview)
            self.worker_event.emit(WorkerEvent("step", job.id, e.step, e.total_steps, e.image_index, e.image_count,
                                        e.eta_s, preview, seed=e.seed))

        def on_image(image) -> None:
            saved = ""
            try:
                result = save_generated(image, self.paths, self._history(), parent_id=job.parent_id)
                saved = str(result.path)
                if result.problem:
                    self.worker_event.emit(WorkerEvent("failed", job.id, message=result.problem))
            except (OSError, UserFacingError) as exc:  # keep the image in memory; the window offers "save as"
                reason = exc.strerror if isinstance(exc, OSError) else str(exc)
                self.worker_event.emit(WorkerEvent("failed", job.id, message=f"Could not save the image: {reason}."))
            import numpy as np

            qimage = rgb_to_qimage(np.asarray(image.image.convert("RGB")))
            self.worker_event.emit(WorkerEvent("image", job.id, image=qimage, path=saved, seed=image.seed,
                                        request=image.request, message="; ".join(image.notes)))

        try:
            result = generator.run(req, on_step=on_step, is_cancelled=lambda: self._cancel_current or self._stopping,
                                        on_image=on_image)
            kind = "cancelled" if result.cancelled else "finished"
            self.worker_event.emit(WorkerEvent(kind, job.id, request=req))
        except OutOfMemoryError as exc:
            self.worker_event.emit(WorkerEvent("failed", job.id, message=str(exc), lighter_profile=exc.lighter_profile))
        except UserFacingError as exc:
            self.worker_event.emit(WorkerEvent("failed", job.id, message=str(exc)))
        except Exception as exc:
            self.worker_event.emit(WorkerEvent("failed", job.id, message=f"{type(exc).__name__}: {exc}",
                                        details=traceback.format_exc()))


def models_ready(models_dir: Path) -> bool:
    """Cheap check (no torch) whether the models folder can load."""
    from ..engine.model_files import resolve_model_set

    try:
        resolve_model_set(models_dir)
        return True
    except UserFacingError:
        return False
