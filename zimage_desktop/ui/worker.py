"""The one worker thread that owns the engine: jobs from the controller in, typed events out.

The thread imports torch and diffusers itself (the window is already visible by then), keeps one
Generator loaded, takes jobs from the GenerationController one at a time, and reports through
``worker_event`` one small event dataclass per kind (delivered queued to the GUI thread).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from ..config import Paths
from ..engine.request import GenerationRequest
from ..errors import OutOfMemoryError, UserFacingError
from ..errors_os import describe_os_error
from ..messages import clause, joined, msg
from .controller import RELOAD, EnhanceJob, GenerationController, Job

if TYPE_CHECKING:
    from ..engine.devices import MachineInfo
    from ..engine.generator import Generator
    from ..engine.planner import MemoryPlan
    from ..history.store import HistoryStore
    from .settings_store import SettingsStore


@dataclass(frozen=True)
class WorkerEvent:
    kind: ClassVar[str] = ""
    job_id: int = 0


@dataclass(frozen=True)
class MachineProbed(WorkerEvent):
    kind: ClassVar[str] = "machine"
    machine: "MachineInfo | None" = None


@dataclass(frozen=True)
class Loading(WorkerEvent):
    kind: ClassVar[str] = "loading"


@dataclass(frozen=True)
class Loaded(WorkerEvent):
    kind: ClassVar[str] = "loaded"
    message: str = ""  # the plan's explanation (English, for logs)
    plan: MemoryPlan | None = None  # the window explains it in the UI language
    token_limit: int = 0  # the loaded text encoder's prompt limit (0: not known)


@dataclass(frozen=True)
class PlanChanged(WorkerEvent):
    """The engine's plan differs from the one last sent: a request loaded the model, or its LoRA set
    (or an fp32 retry) changed the plan's figures after loading."""

    kind: ClassVar[str] = "plan"
    plan: MemoryPlan | None = None


@dataclass(frozen=True)
class JobStarted(WorkerEvent):
    kind: ClassVar[str] = "started"
    total: int = 0  # steps per image
    image_count: int = 0
    request: GenerationRequest | None = None
    engine: str = ""  # a ComfyUI server's name; "" for this computer


@dataclass(frozen=True)
class StepDone(WorkerEvent):
    kind: ClassVar[str] = "step"
    step: int = 0
    total: int = 0
    image_index: int = 0
    image_count: int = 0
    eta_s: float = 0.0
    preview: QImage | None = None
    seed: int = 0


@dataclass(frozen=True)
class StageChanged(WorkerEvent):
    """A job's stage other than a step begins: loading, encoding, decoding or saving."""

    kind: ClassVar[str] = "stage"
    stage: str = ""
    image_index: int = 0
    image_count: int = 1
    eta_s: float | None = None  # the whole job's time left; None while loading


@dataclass(frozen=True)
class ImageDone(WorkerEvent):
    kind: ClassVar[str] = "image"
    image: QImage | None = None
    path: str = ""  # empty when it could not be saved
    seed: int = 0
    request: GenerationRequest | None = None
    message: str = ""  # notes, e.g. an fp32 retry


@dataclass(frozen=True)
class JobFinished(WorkerEvent):
    kind: ClassVar[str] = "finished"
    request: GenerationRequest | None = None


@dataclass(frozen=True)
class JobCancelled(WorkerEvent):
    kind: ClassVar[str] = "cancelled"
    request: GenerationRequest | None = None


@dataclass(frozen=True)
class Failed(WorkerEvent):
    kind: ClassVar[str] = "failed"
    message: str = ""
    details: str = ""  # a traceback, for unexpected errors only
    lighter_profile: str | None = None
    ends_job: bool = False  # False for a problem the job goes on after (an image that could not be saved)


@dataclass(frozen=True)
class EnhanceStarted(WorkerEvent):
    kind: ClassVar[str] = "enhance_started"
    idea: str = ""
    max_tokens: int = 0  # the most tokens the rewrite may take (its progress bar's end)


@dataclass(frozen=True)
class EnhanceText(WorkerEvent):
    kind: ClassVar[str] = "enhance_text"
    text: str = ""  # the next piece of the rewrite ("" with a token that ended in half a character)
    tokens: int = 0  # tokens written so far


@dataclass(frozen=True)
class EnhanceDone(WorkerEvent):
    kind: ClassVar[str] = "enhance_done"
    idea: str = ""
    text: str = ""  # the checked rewrite (may differ from the streamed pieces: quotes restored)
    cancelled: bool = False
    restored_quotes: tuple[str, ...] = ()
    tokens: int = 0
    seconds: float = 0.0


def rgb_to_qimage(array) -> QImage:
    """An owned QImage from an (h, w, 3) uint8 array."""
    h, w, _ = array.shape
    return QImage(array.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class GenerationWorker(QThread):
    worker_event = Signal(object)  # a WorkerEvent subclass; not 'event': that would hide QObject.event()

    def __init__(self, paths: Paths, settings: "SettingsStore", controller: GenerationController,
                 parent=None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.settings = settings
        self.controller = controller
        self.generator: Generator | None = None
        self._plan_sent: MemoryPlan | None = None  # the plan the window shows (PlanChanged)
        self._store: HistoryStore | None = None  # opened on the first image

    def start_engine(self, load_now: bool) -> None:
        """Start the thread; with ``load_now`` it loads the model before the first request."""
        if load_now:
            self.controller.request_reload()
        self.start()

    def stop(self, timeout_ms: int = 2000) -> bool:
        """Cancel everything and end the thread; True when it ended in time."""
        self.controller.stop()
        return self.wait(timeout_ms)

    # -- the thread ----------------------------------------------------------------------

    def run(self) -> None:
        # The hardware probe imports torch: here, never on the GUI thread.
        from ..engine.devices import probe

        try:
            self.worker_event.emit(MachineProbed(machine=probe()))
        except Exception as exc:  # a broken driver must not take the app down
            self.worker_event.emit(Failed(message=msg("worker.probe_failed", "Hardware detection failed: {exc}", exc=exc)))
        while (work := self.controller.next_work()) is not None:
            if work == RELOAD:
                self._load()
            elif isinstance(work, EnhanceJob):
                self._run_enhance(work)
            elif isinstance(work, Job):
                self._run_job(work)

    def _make_generator(self) -> "Generator":
        from ..engine.generator import Generator
        from ..models.hashing import HashCache

        s = self.settings.value
        return Generator(s.models_path(self.paths), device=s.device, previews=s.previews,
                         hash_cache=HashCache(self.paths.hash_cache), cpu_int8=self._cpu_int8())

    def _cpu_int8(self) -> bool:
        """The setting, where this computer has the kernels (an x86 CPU); the plan then decides
        whether the transformer runs as int8 (a GGUF file on the CPU profile), and a change of the
        setting reloads the model before the next image (the plan differs)."""
        from ..engine.gguf_int8 import available

        return self.settings.value.cpu_int8 and available()

    def _current_generator(self) -> "Generator":
        """The engine, made on first use; it follows the int8 setting as it is now."""
        if self.generator is None:
            self.generator = self._make_generator()
        self.generator.cpu_int8 = self._cpu_int8()
        return self.generator

    def _load(self) -> None:
        self.worker_event.emit(Loading())
        try:
            generator = self.generator = self._make_generator()
            generator.ensure_loaded(profile=self.settings.value.profile)
            plan = generator.plan
            limit = generator.prompts.limit if generator.prompts is not None else 0
            self.worker_event.emit(Loaded(message=plan.explanation if plan else "", plan=plan, token_limit=limit))
            self._plan_sent = plan
        except Exception as exc:  # keep the thread alive whatever happens
            self.worker_event.emit(failure(exc))

    def _run_enhance(self, job: EnhanceJob) -> None:
        from ..engine.enhance import Sampling
        from ..engine.enhance_session import enhancer_for

        self.worker_event.emit(EnhanceStarted(job.id, idea=job.idea, max_tokens=job.max_new_tokens))
        pending = [""]  # text of the current token, sent with its count

        def on_text(piece: str) -> None:
            pending[0] += piece

        def on_tokens(count: int) -> None:
            self.worker_event.emit(EnhanceText(job.id, text=pending[0], tokens=count))
            pending[0] = ""

        try:
            self._current_generator().ensure_loaded(profile=self.settings.value.profile)
            result = enhancer_for(self.generator).enhance(
                job.idea, Sampling(max_new_tokens=job.max_new_tokens, seed=job.seed),
                on_text=on_text, on_tokens=on_tokens, is_cancelled=self.controller.is_cancelled)
            if pending[0]:  # the end flushed a last half character
                self.worker_event.emit(EnhanceText(job.id, text=pending[0], tokens=result.tokens))
            self.worker_event.emit(EnhanceDone(job.id, idea=job.idea, text=result.text,
                                               cancelled=result.stop == "cancelled",
                                               restored_quotes=result.restored_quotes, tokens=result.tokens,
                                               seconds=result.seconds))
        except Exception as exc:  # keep the thread alive whatever happens
            self.worker_event.emit(failure(exc, job.id))

    def _history(self):
        from ..history.store import HistoryStore

        if self._store is None:
            try:
                self._store = HistoryStore(self.paths.history_db)
            except UserFacingError as exc:  # images are still saved; the status line says why
                self.worker_event.emit(Failed(message=exc.message))
                self._store = None
        return self._store

    def _run_job(self, job: Job) -> None:
        from ..history.saving import save_generated

        req = job.request
        self.worker_event.emit(JobStarted(job.id, total=req.steps, image_count=req.count, request=req))
        generator = self._current_generator()
        if generator.pipe is None:
            self.worker_event.emit(StageChanged(job.id, stage="loading", image_count=req.count))

        def on_stage(e) -> None:
            # The first stage comes after the request's plan is made and its LoRA set applied.
            self._send_plan(job.id)
            self.worker_event.emit(StageChanged(job.id, stage=e.stage, image_index=e.image_index,
                                                image_count=e.image_count, eta_s=e.eta_s))

        def on_step(e) -> None:
            preview = None
            if e.preview is not None and self.controller.take_preview_slot():
                preview = rgb_to_qimage(e.preview)
            self.worker_event.emit(StepDone(job.id, e.step, e.total_steps, e.image_index, e.image_count, e.eta_s,
                                            preview, seed=e.seed))

        def on_image(image) -> None:
            saved = ""
            try:
                result = save_generated(image, self.paths, self._history(), parent_id=job.parent_id)
                saved = str(result.path)
                if result.problem:
                    self.worker_event.emit(Failed(job.id, message=result.problem))
            except (OSError, UserFacingError) as exc:  # keep the image in memory; the window offers "save as"
                reason = describe_os_error(exc) if isinstance(exc, OSError) else clause(exc.message)
                self.worker_event.emit(Failed(job.id, message=msg("worker.not_saved", "Could not save the image: {reason}.",
                                                                  reason=reason)))
            import numpy as np

            qimage = rgb_to_qimage(np.asarray(image.image.convert("RGB")))
            self.worker_event.emit(ImageDone(job.id, image=qimage, path=saved, seed=image.seed,
                                             request=image.request, message=joined(list(image.notes), "; ")))

        try:
            result = generator.run(req, on_step=on_step, is_cancelled=self.controller.is_cancelled,
                                   on_image=on_image, on_stage=on_stage)
            self._send_plan(job.id)  # an fp32 retry re-planned during the job
            done = JobCancelled if result.cancelled else JobFinished
            self.worker_event.emit(done(job.id, request=req))
        except Exception as exc:  # keep the thread alive whatever happens
            self.worker_event.emit(failure(exc, job.id))

    def _send_plan(self, job_id: int) -> None:
        """PlanChanged when the engine's plan is not the one the window shows (a new one, or its
        figures changed: MemoryPlan is a value, so any change of a figure makes it differ)."""
        plan = self.generator.plan if self.generator is not None else None
        if plan is not None and plan != self._plan_sent:
            self._plan_sent = plan
            self.worker_event.emit(PlanChanged(job_id, plan=plan))


def failure(exc: Exception, job_id: int = 0) -> Failed:
    """The event for an error that ends a job: one sentence for what users can act on (and the
    lighter profile after running out of GPU memory); a traceback only for the unexpected."""
    if isinstance(exc, OutOfMemoryError):
        return Failed(job_id, message=exc.message, lighter_profile=exc.lighter_profile, ends_job=True)
    if isinstance(exc, UserFacingError):
        return Failed(job_id, message=exc.message, ends_job=True)
    logging.getLogger(__name__).error("unexpected error in job %d", job_id, exc_info=exc)  # to the app log
    # Never a raw Python error in the window: one sentence, the traceback behind "Show Details…".
    return Failed(job_id, message=msg("worker.unexpected_error", "Something unexpected went wrong and the job "
                                      "stopped; the details below help a bug report."),
                  details=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}", ends_job=True)


def models_ready(models_dir: Path) -> bool:
    """Cheap check (no torch) whether the models folder can load."""
    from ..engine.model_files import resolve_model_set

    try:
        resolve_model_set(models_dir)
        return True
    except UserFacingError:
        return False
