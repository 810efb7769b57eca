"""Generator: one loaded Z-Image pipeline, turned into images with previews and cancel.

The pipeline stays loaded between requests. Each image is one ``ZImagePipeline.__call__`` with
Turbo settings (guidance 0, the scheduler's shift, ``request.steps`` steps), our own pad-free
prompt embeddings and our own initial latents (drawn exactly as the pipeline would draw them, on
the CPU from the seed, so a seed gives the same image on any device). ``callback_on_step_end``
makes the previews and sets the pipeline's interrupt flag on cancel; the pipeline returns
latents, and we decode only when the run was not cancelled.

Its parts live beside it: the prompts and guidance (``guidance.encode_prompts``), the LoRA set
(``lora_apply``), a control image's run (``control_run``), the decode with its float32 retry
(``decoding``), what each image records (``image_record``), the device and dtypes a plan loads
in (``placement``), loading and placing it (``loading``), and the edit modes (``edit_run``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, NoReturn

import torch

from ..errors import BadInputError, UserFacingError
from ..messages import msg
from ..models.hashing import HashCache
from .devices import MachineInfo, probe
from .edit_run import Sampling, passes, run_edit, steps_run
from . import guidance
from .guards import all_finite
from .host_memory import release_dropped_weights
from . import control_run, image_record, loading
from .decoding import NonFinite, decode_unit
from .lora_apply import apply_lora_set
from .lora_patch import LoraPatcher
from .loras import loras_gib, resolve_loras
from .model_files import ModelSet
from .model_identity import BackgroundHasher
from .oom import is_out_of_memory
from .recovery import fp32_retry_problem, host_memory, out_of_memory_error
from .pixels import to_8bit
from .placement import same_placement
from .edit_plan import edit_tile_pixels
from .planner import MemoryPlan
from .residency import PROCESS_RAM_GIB
from .preview import LatentPreviewer
from .progress import RunClock, StageCallback, StageTimes
from .prompts import PromptEncoder
from .request import GeneratedImage, GenerationRequest, GenerationResult, StepEvent
from .sampling import initial_latents, sampler_installed, schedule

log = logging.getLogger(__name__)

StepCallback = Callable[[StepEvent], None]
ImageCallback = Callable[[GeneratedImage], None]
CancelCheck = Callable[[], bool]

DEVICE_CHOICE = loading.DEVICE_CHOICE


class Generator:
    """Owns one pipeline; not thread-safe (one worker thread uses it).

    ``device`` "auto" runs each plan on its own device; "cpu"/"cuda"/"cuda:N"/"mps" force one (with
    "cpu" and "mps" choosing that profile unless ``plan`` is given; "cuda:N" makes the plan for GPU
    N: its memory picks the profile, its bf16 support the dtype). ``plan`` replaces the planner (tests,
    benchmarks); ``machine`` replaces the hardware probe. ``on_loaded`` callables see every newly
    loaded pipeline (used to inject faults in tests).
    """

    def __init__(self, models_dir: Path, *, device: str = "auto", previews: bool = True,
                 hash_cache: HashCache | None = None, plan: MemoryPlan | None = None,
                 machine: MachineInfo | None = None, pack_encoder: bool = True,
                 process_gib: float = PROCESS_RAM_GIB, cpu_int8: bool = False,
                 release_encoder: bool = False) -> None:
        self.models_dir = Path(models_dir)
        # Convert a CPU-held GGUF encoder to the int4/int8 kernels at load (engine/gguf_packed.py): a
        # long-lived engine (the window) pays ~10 s once and its prompts and enhancer calls gain; a
        # one-prompt `generate` does not pack (cli/generate.py says why).
        self.pack_encoder = pack_encoder
        self.process_gib = process_gib  # what this process holds besides the model (its plans count it)
        # Convert a GGUF transformer run on the CPU to int8 × int8 layers at load (engine/gguf_int8.py):
        # opt-in (``--cpu-int8``), since the picture changes slightly.
        self.cpu_int8 = cpu_int8
        # One prompt's images (a CLI `generate`): on the CPU, let the text encoder go once the prompt
        # is encoded (and only then convert an int8 transformer): loading.after_encode.
        self.release_encoder = release_encoder
        self.device_choice = device
        self.previews = previews
        self.hash_cache = hash_cache or HashCache()
        self.plan_override = plan
        self.machine = machine
        self.on_loaded: list[Callable[[object], None]] = []
        self.pipe = None
        self.model_set: ModelSet | None = None
        self.plan: MemoryPlan | None = None
        self.prompts: PromptEncoder | None = None
        self.device: torch.device | None = None
        self.dtype: torch.dtype | None = None
        self.load_seconds = 0.0
        self._force_fp32 = False  # set for the rest of one request after an fp16/bf16 overflow
        self._hasher = BackgroundHasher(self.hash_cache)
        self._decode_notes: list[str] = []
        self._previewer = LatentPreviewer()
        self._model_info: dict | None = None
        # img2img / inpaint pipelines sharing ``pipe``'s modules (edit_run.edit_pipeline).
        self.edit_pipes: dict[str, Any] = {}
        # Pixels one edit pass may work on before an upscale is tiled; None: the plan decides.
        self.tile_pixels: int | None = None
        self.lora_patcher: LoraPatcher | None = None
        self.lora_gib = 0.0  # the current request's LoRA files, counted by the planner
        self._lora_pairs: list[tuple[Path, float]] = []  # the current request's (file, strength)
        self._control_model: tuple | None = None  # (file key, ControlNetFile, model, its placement)
        self._control_notes: list[str] = []
        self._control_run: tuple = ()  # (preprocessed image, ControlNetFile) of the last controlled image
        self.stage_times = StageTimes()  # measured, for the next run's estimate of the time left

    # -- loading ---------------------------------------------------------------------------

    def make_plan(self, transformer: str | None = None, profile: str = "auto") -> tuple[MemoryPlan, ModelSet]:
        """The plan for this request and the files it will load (reads headers only)."""
        return loading.plan_for(self, transformer, profile)

    def ensure_loaded(self, transformer: str | None = None, profile: str = "auto") -> ModelSet:
        """Load (or keep) the pipeline for this transformer and profile; returns its ModelSet."""
        plan, model_set = self.make_plan(transformer, profile)
        if self.pipe is not None and model_set == self.model_set and same_placement(plan, self.plan):
            # Placed the same; the figures (and the LoRA set, plan.lora_gib) are this request's.
            self.plan = plan
            return model_set
        loading.load(self, plan, model_set)
        return model_set

    @property
    def after_encode_pending(self) -> bool:
        """A one-prompt run on the CPU still holds its encoder: once the prompt is encoded,
        loading.after_encode lets it go (and converts an int8 plan's transformer)."""
        return (self.plan is not None and self.plan.encoder_released and self.device is not None
                and self.device.type == "cpu" and self.prompts is not None and not self.prompts.released)

    def unload(self) -> None:
        if self.lora_patcher is not None:
            self.lora_patcher.remove()
        self.pipe = self.model_set = self.prompts = self.plan = self.lora_patcher = None
        self._model_info = None
        self.edit_pipes = {}
        self._control_model = None
        release_dropped_weights()

    def _out_of_memory(self, plan: MemoryPlan, stage: str, host: bool = False) -> NoReturn:
        """Every kind of out-of-memory ends here: free the pipeline, offer the lighter profile."""
        self.unload()
        raise out_of_memory_error(plan.profile, stage, host)

    def request_parts(self, req: GenerationRequest):
        """What ``req`` adds to the plan's residency table (engine/request_table.py)."""
        return image_record.request_parts(self, req)

    def model_info(self) -> dict:
        """Names and sha256 of the files in use (engine/image_record.py: hashed in the background)."""
        return image_record.model_info(self)

    # -- generating ------------------------------------------------------------------------

    def run(self, request: GenerationRequest, on_step: StepCallback | None = None,
            is_cancelled: CancelCheck | None = None, on_image: ImageCallback | None = None,
            on_stage: StageCallback | None = None) -> GenerationResult:
        """Make ``request.count`` images; stops between steps when ``is_cancelled()`` turns true.

        Out of memory of any kind (oom.py) frees the pipeline and raises OutOfMemoryError naming a
        lighter profile. Non-finite latents stop the image at the step they appear and it is made
        again once in float32 where the profile can afford it (for the rest of this request only:
        the next request plans in its usual dtype again). ``on_stage`` hears each image's encoding,
        decoding and saving begin; every event's ETA covers the whole run."""
        cancelled = is_cancelled or (lambda: False)
        self._force_fp32 = False
        if request.controls and not request.is_edit:  # said before the model loads (file headers only)
            from .model_files import installed_architecture

            if guidance.effective_cfg(installed_architecture(self.models_dir, request.transformer), request) > 1.0:
                _control_needs_no_cfg()
        loras = resolve_loras(self.models_dir, request.prompt, request.loras, self.hash_cache)
        self.lora_gib = loras_gib([path for path, _ in loras])
        if self.prompts is not None and self.prompts.released:
            self.unload()  # an encoder let go after an earlier run's prompt: a new prompt needs it back
        self.ensure_loaded(request.transformer, request.profile)
        assert self.lora_patcher is not None
        # The set and the strengths change without reloading the transformer: merged where the plan has
        # room for the originals of the layers they change, else hooks (engine/lora_patch.py).
        self._lora_pairs = [(path, ref.strength) for path, ref in loras]
        self._apply_loras()
        request = replace(request, loras=tuple(ref for _, ref in loras))
        images: list[GeneratedImage] = []
        clock = RunClock(request.count, self._steps_per_image(request), request.width * request.height, self.stage_times)
        stage = on_stage or (lambda event: None)
        for index, seed in enumerate(request.seeds):
            if cancelled():
                return GenerationResult(request, tuple(images), cancelled=True)
            single = request.for_seed(seed)
            image = self._run_guarded(single, index, request.count, on_step, cancelled, clock, stage)
            if image is None:
                return GenerationResult(request, tuple(images), cancelled=True)
            images.append(image)
            if on_image is not None:
                stage(clock.event("saving", index))
                on_image(image)
            clock.finish()
        return GenerationResult(request, tuple(images))

    def _apply_loras(self) -> None:
        """The request's LoRAs onto the loaded transformer (again after a float32 reload)."""
        if self.machine is None:
            self.machine = probe()
        assert self.lora_patcher is not None and self.plan is not None and self.model_set is not None
        self.plan = apply_lora_set(self.lora_patcher, self._lora_pairs, self.plan, self.machine,
                                   self.model_set.transformer_form, str(self.device))

    def _run_guarded(self, req: GenerationRequest, index: int, count: int, on_step: StepCallback | None,
                     cancelled: CancelCheck, clock: RunClock, stage: StageCallback) -> GeneratedImage | None:
        notes: list[str] = []
        for attempt in range(2):
            assert self.plan is not None
            plan = self.plan
            out_of_memory = ""
            self._decode_notes = []
            try:
                image = self._run_one(req, index, count, on_step, cancelled, clock, stage)
            except (RuntimeError, MemoryError) as exc:
                if not is_out_of_memory(exc):
                    raise
                out_of_memory = "ram" if host_memory(exc) else "gpu"
            except NonFinite as exc:
                if attempt == 1 or self.dtype == torch.float32:
                    raise UserFacingError(
                        msg("generator.image_went_numerically_invalid", "The image went numerically invalid at step {step} "
                            "even in float32; the model files may be damaged — verify or re-download them.",
                            step=exc.step)
                    ) from None
                self._check_fp32_affordable(req, exc.step)
                notes.append(msg("generator.overflowed_step_made_again", "{dtype} overflowed at step {step}; made again in "
                                 "float32.", dtype=self.dtype, step=exc.step))
                log.warning("non-finite latents at step %d in %s; retrying in float32", exc.step, self.dtype)
                self._force_fp32 = True
                self.ensure_loaded(req.transformer, req.profile)
                self._apply_loras()  # a reload brings a new transformer without them
                continue
            if out_of_memory:
                # Only here, after the except block: while it runs, its traceback still holds the
                # frames of the failed step (activations, the pipeline), so nothing could be freed.
                self._out_of_memory(plan, msg("generator.stage_generating", "generating"), out_of_memory == "ram")
            notes.extend(self._decode_notes)
            if image is not None and notes:
                image = replace(image, notes=image.notes + tuple(notes))
            return image
        return None

    def _steps_per_image(self, req: GenerationRequest) -> int:
        """Denoising steps one image of ``req`` runs: an edit runs strength × steps, once per tile."""
        if not req.is_edit:
            return req.steps
        assert self.plan is not None
        return steps_run(req.steps, req.strength) * passes(req, self.tile_pixels or edit_tile_pixels(self.plan))

    def _check_fp32_affordable(self, req: GenerationRequest, step: int) -> None:
        """A float32 retry only where the profile's budget holds the float32 plan; else say so."""
        if self.plan_override is not None:
            return  # a fixed plan (tests, benchmarks) is the caller's choice
        self._force_fp32 = True
        try:
            fp32, _ = self.make_plan(req.transformer, req.profile)
        finally:
            self._force_fp32 = False
        problem = fp32_retry_problem(fp32, self.machine, step, str(self.dtype).replace("torch.", ""))
        if problem is not None:
            raise UserFacingError(problem)

    def _run_one(self, req: GenerationRequest, index: int, count: int, on_step: StepCallback | None,
                 cancelled: CancelCheck, clock: RunClock, stage: StageCallback) -> GeneratedImage | None:
        pipe = self.pipe
        assert pipe is not None and self.prompts is not None
        assert self.model_set is not None
        arch = self.model_set.architecture
        device = pipe._execution_device
        stage(clock.event("encoding", index))
        started = time.perf_counter()
        self._control_notes = []
        # Classifier-free guidance (engine/guidance.py): the negative prompt is encoded only for a
        # model that uses it.
        guided = guidance.encode_prompts(self.prompts, arch, req, device, self.dtype, first=index == 0)
        embeds, negative, scale, guide_note, req = (guided.embeds, guided.negative, guided.scale, guided.note,
                                                    guided.request)
        encoded = time.perf_counter()
        if self.after_encode_pending:  # the encoder goes, an int8 plan's transformer is converted
            started += loading.after_encode(self)  # load work: neither encoding nor denoising
            encoded = time.perf_counter()
        assert self.plan is not None
        tile_pixels = self.tile_pixels or edit_tile_pixels(self.plan)
        total = self._steps_per_image(req)
        state: dict = {"bad_step": 0, "offset": 0, "stopped": False}
        clock.begin("step", index)

        def step_done(i: int, current: torch.Tensor, scheduler) -> bool:
            """Previews, cancel and the overflow check after step i; False stops the loop."""
            if not all_finite(current):
                state["bad_step"] = i + 1
                return False
            elapsed = time.perf_counter() - encoded
            done = state["offset"] + i + 1  # steps of earlier passes (upscale tiles) count too
            clock.step_done(done, elapsed)
            if on_step is not None:
                preview = None
                if self.previews:
                    preview = self._previewer.to_rgb(scheduler.denoised)
                on_step(StepEvent(index, count, done, total, req.seed, elapsed, clock.eta_s(), preview))
            if cancelled():
                state["stopped"] = True
                return False
            return True

        def on_step_end(pipeline, i: int, t, kwargs: dict) -> dict:
            if not step_done(i, kwargs["latents"], pipeline.scheduler):
                pipeline._interrupt = True  # the pipeline skips the remaining steps
            return {}

        if req.is_edit:
            made = run_edit(self, req, Sampling(embeds, on_step_end, state, scale, negative), tile_pixels)
            if state["bad_step"]:
                raise NonFinite(state["bad_step"])
            if made is None:
                return None
            picture, notes = made
            notes = ([guide_note] if guide_note else []) + list(notes)
            done = time.perf_counter()
            timings = {"encode_s": round(encoded - started, 4), "denoise_s": round(done - encoded, 4),
                       "decode_s": 0.0, "total_s": round(done - started, 4)}
            return image_record.finished_image(self, req, picture, timings, notes)
        latents = initial_latents(req.seed, req.width, req.height, device, arch)
        sigmas = schedule(req.scheduler, req.steps, pipe.scheduler.config.shift)
        if req.controls:
            if negative is not None:
                _control_needs_no_cfg()
            out = control_run.denoise_controlled(self, req, embeds, latents, sigmas, step_done)
        else:
            # ComfyUI's schedule and sampler (engine/sampling.py) in the pipeline's unchanged loop.
            with sampler_installed(pipe, req.sampler):
                out = pipe(
                    prompt_embeds=[embeds],
                    height=req.height,
                    width=req.width,
                    sigmas=sigmas,
                    guidance_scale=scale,
                    negative_prompt_embeds=[negative] if negative is not None else None,
                    latents=latents,
                    output_type="latent",
                    callback_on_step_end=on_step_end,
                    callback_on_step_end_tensor_inputs=["latents"],
                ).images
            state["stopped"] = state["stopped"] or bool(pipe.interrupt and not state["bad_step"])
        if state["bad_step"]:
            raise NonFinite(state["bad_step"])
        if state["stopped"]:
            return None
        stage(clock.event("decoding", index))
        denoised = time.perf_counter()
        image = self._decode(out)
        done = time.perf_counter()
        timings = {
            "encode_s": round(encoded - started, 4),
            "denoise_s": round(denoised - encoded, 4),
            "decode_s": round(done - denoised, 4),
            "total_s": round(done - started, 4),
        }
        return image_record.finished_image(self, req, image, timings, [guide_note] if guide_note else [])

    def control_image(self, control, width: int, height: int):
        """The preprocessed control image of a ControlRef (also for the window's preview)."""
        return control_run.control_image(self, control, width, height)

    def _decode(self, latents: torch.Tensor):
        """The pipeline's own decode, done by us so a cancelled run skips it, made 8-bit as
        ComfyUI's SaveImage makes it (``engine/pixels``)."""
        return to_8bit(self._decode_unit(latents))

    def _decode_unit(self, latents: torch.Tensor) -> torch.Tensor:
        """The decoded picture in [0, 1] float32 (1×3×H×W), before any rounding (engine/decoding.py)."""
        assert self.pipe is not None
        return decode_unit(self.pipe, latents, self._decode_notes)


def _control_needs_no_cfg() -> NoReturn:
    """Text-to-image with a control runs ComfyUI's control loop (engine/controlnet.py), which has no
    negative branch yet; image editing with a control goes through the pipeline's own CFG."""
    raise BadInputError(msg("generator.control_without_cfg", "A control image works only without guidance for now: "
                            "set the CFG scale to 1."))

