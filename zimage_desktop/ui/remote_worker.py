"""One thread per ComfyUI server: takes jobs from the shared controller when it is the first free
engine in the user's order, runs them with ``remote.engine.RemoteEngine`` and reports the same
events as the local worker (``JobStarted.engine`` names the server). A server that dies, stalls or
answers nonsense gives its job back (the seeds without an image; the same pictures elsewhere) and
sits out a while; images already saved are never made again.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from PySide6.QtCore import QThread, Signal

from ..config import Paths
from ..errors import UserFacingError
from ..messages import clause, msg
from ..remote.engine import RemoteEngine
from ..remote.http import RemoteError
from ..remote.job_inputs import MissingOnServer
from .controller import GenerationController, Job
from .worker import Failed, ImageDone, JobCancelled, JobFinished, JobStarted, StepDone, failure, rgb_to_qimage

BACKOFF_S = 15.0
BUSY_POLL_S = 2.0


def remaining_job(job: Job, done: set[int]) -> Job | None:
    """The job for the seeds that have no image yet (consecutive seeds stay one job)."""
    seeds = [s for s in job.request.seeds if s not in done]
    if not seeds:
        return None
    # replace, not a to_dict round trip: that drops an edit's source and mask files
    request = replace(job.request, seed=seeds[0], count=len(seeds))
    if request.seeds != seeds:  # not consecutive (a wrap at 2^64): one at a time
        request = replace(request, count=1)
    return replace(job, request=request)


class RemoteWorker(QThread):
    worker_event = Signal(object)

    def __init__(self, paths: Paths, engine: RemoteEngine, controller: GenerationController, key: str,
                 parent=None) -> None:
        super().__init__(parent)
        self.paths, self.engine, self.controller = paths, engine, controller
        self.key = key  # the controller's name for this engine (unique per start)
        self._stop = threading.Event()
        self._store = None

    def retire(self) -> None:
        """Take no more jobs (the one running finishes); the controller forgets ``key`` first."""
        self._stop.set()

    def run(self) -> None:
        name = self.key
        while not self._stop.is_set():
            # A server busy with someone else's work is not free: this computer or another server
            # takes the next job meanwhile. A server that does not answer sits out.
            try:
                busy = self.engine.queue_length() > 0
            except RemoteError:
                self._stop.wait(BACKOFF_S)
                continue
            if busy:
                self._stop.wait(BUSY_POLL_S)
                continue
            taken = self.controller.next_job_for(name)
            if taken is None:
                return
            job, epoch = taken
            if not self._run_job(job, epoch):
                self.controller.leave(name)
                self._stop.wait(BACKOFF_S)

    def _history(self):
        from ..history.store import HistoryStore

        if self._store is None:
            try:
                self._store = HistoryStore(self.paths.history_db)
            except UserFacingError as exc:
                self.worker_event.emit(Failed(message=exc.message))
        return self._store

    def _run_job(self, job: Job, epoch: int) -> bool:
        """False when the server failed and the job went back to the queue."""
        from ..history.saving import save_generated

        req = job.request
        done: set[int] = set()
        self.worker_event.emit(JobStarted(job.id, total=req.steps, image_count=req.count, request=req,
                                          engine=self.engine.name))

        def on_step(e) -> None:
            preview = None
            if e.preview is not None and self.controller.take_preview_slot():
                preview = rgb_to_qimage(e.preview)
            self.worker_event.emit(StepDone(job.id, e.step, e.total_steps, e.image_index, e.image_count, e.eta_s,
                                            preview, seed=e.seed))

        def on_image(image) -> None:
            import numpy as np

            done.add(image.seed)
            saved = ""
            try:
                result = save_generated(image, self.paths, self._history(), parent_id=job.parent_id)
                saved = str(result.path)
                if result.problem:
                    self.worker_event.emit(Failed(job.id, message=result.problem))
            except (OSError, UserFacingError) as exc:
                reason = clause(exc.message) if isinstance(exc, UserFacingError) else str(exc)
                self.worker_event.emit(Failed(job.id, message=msg("worker.not_saved", "Could not save the image: "
                                                                  "{reason}.", reason=reason)))
            qimage = rgb_to_qimage(np.asarray(image.image.convert("RGB")))
            self.worker_event.emit(ImageDone(job.id, image=qimage, path=saved, seed=image.seed, request=image.request))

        try:
            result = self.engine.run(req, on_step=on_step, on_image=on_image,
                                     is_cancelled=lambda: self.controller.job_cancelled(epoch, job.id))
        except MissingOnServer as exc:  # another engine (this computer, if the user's list has it) may have it
            rest = remaining_job(job, done)
            if rest is not None and self.controller.give_elsewhere(rest, self.key):
                self.worker_event.emit(Failed(job.id, message=msg(
                    "remote.job_elsewhere", "{reason} The job goes to another engine.", reason=exc.message)))
            else:
                self.worker_event.emit(failure(exc, job.id))
            return True
        except RemoteError as exc:
            rest = remaining_job(job, done)
            if exc.retriable and rest is not None:
                self.controller.give_back(rest)
                self.worker_event.emit(Failed(job.id, message=msg(
                    "remote.job_given_back", "{reason} The job goes back to the queue.", reason=exc.message)))
                return False
            self.worker_event.emit(failure(exc, job.id))
            return True
        except Exception as exc:  # keep the thread alive whatever happens
            self.worker_event.emit(failure(exc, job.id))
            return True
        self.worker_event.emit((JobCancelled if result.cancelled else JobFinished)(job.id, request=req))
        return True
