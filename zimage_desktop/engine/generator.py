"""Generator: one loaded Z-Image pipeline, turned into images with previews and cancel.

The pipeline stays loaded between requests. Each image is one ``ZImagePipeline.__call__`` with
Turbo settings (guidance 0, the scheduler's shift, ``request.steps`` steps), our own pad-free
prompt embeddings and our own initial latents (drawn exactly as the pipeline would draw them, on
the CPU from the seed, so a seed gives the same image on any device). ``callback_on_step_end``
makes the previews and sets the pipeline's interrupt flag on cancel; the pipeline returns
latents, and we decode only when the run was not cancelled.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, NoReturn

import torch

from ..errors import BadInputError, OutOfMemoryError, UserFacingError
from ..messages import msg
from ..models.hashing import HashCache
from .architectures import DEFAULT, Architecture
from .devices import MachineInfo, probe
from .guards import all_finite, install_fp16_guards
from .loader import load_pipeline
from .model_files import ModelSet, provides, resolve_model_set
from .placement import apply_plan
from .planner import MemoryPlan, lighter_profile, make_plan
from .preview import LatentPreviewer
from .progress import RunClock, StageCallback, StageTimes
from .prompts import PromptEncoder
from .request import GeneratedImage, GenerationRequest, GenerationResult, StepEvent
from .sampling import sampler_installed, schedule

log = logging.getLogger(__name__)

StepCallback = Callable[[StepEvent], None]
ImageCallback = Callable[[GeneratedImage], None]
CancelCheck = Callable[[], bool]

def initial_latents(seed: int, width: int, height: int, device: torch.device,
                    arch: Architecture = DEFAULT) -> torch.Tensor:
    """The starting noise of ZImagePipeline.prepare_latents for a CPU generator with this seed."""
    from diffusers.utils.torch_utils import randn_tensor

    generator = torch.Generator("cpu").manual_seed(seed)
    shape = (1, arch.latent_channels, height // arch.vae_scale, width // arch.vae_scale)
    return randn_tensor(shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32).to(device)


def component_dtypes(plan: MemoryPlan, compute: torch.dtype) -> tuple[torch.dtype, torch.dtype]:
    """(text encoder, VAE) storage dtypes for a plan.

    The planner picks the encoder's dtype: bf16 on the CPU (fp32 would take 15 GiB of RAM), 16-bit
    on a GPU even under fp32 compute. The VAE runs in fp32 under fp16 compute, as its config's
    ``force_upcast`` asks (ZImagePipeline does not honour it): 0.33 GB, and no overflow in decoding
    that would make the whole model reload in fp32.
    """
    te = getattr(torch, plan.text_encoder_dtype) if plan.text_encoder_dtype else compute
    vae = torch.float32 if compute == torch.float16 else compute
    return te, vae


class _NonFinite(Exception):
    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step


class Generator:
    """Owns one pipeline; not thread-safe (one worker thread uses it).

    ``device`` "auto" runs each plan on its own device; "cpu"/"cuda"/"mps" force one (with "cpu"
    and "mps" choosing that profile unless ``plan`` is given). ``plan`` replaces the planner (tests,
    benchmarks); ``machine`` replaces the hardware probe. ``on_loaded`` callables see every newly
    loaded pipeline (used to inject faults in tests).
    """

    def __init__(self, models_dir: Path, *, device: str = "auto", previews: bool = True,
                 hash_cache: HashCache | None = None, plan: MemoryPlan | None = None,
                 machine: MachineInfo | None = None) -> None:
        self.models_dir = Path(models_dir)
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
        self._force_fp32 = False  # set for the session after an fp16/bf16 overflow
        self._previewer = LatentPreviewer()
        self._model_info: dict | None = None
        self.stage_times = StageTimes()  # measured, for the next run's estimate of the time left

    # -- loading ---------------------------------------------------------------------------

    def make_plan(self, transformer: str | None = None, profile: str = "auto") -> tuple[MemoryPlan, ModelSet]:
        """The plan for this request and the files it will load (reads headers only)."""
        if self.device_choice not in ("auto", "cuda", "cpu", "mps"):
            raise BadInputError(msg("generator.unknown_device_choose_auto", "Unknown device {device_choice!r}; choose auto, "
                                    "cuda, mps or cpu.",
                                    device_choice=self.device_choice))
        from ..preflight import check_device

        check_device(self.device_choice)
        found = resolve_model_set(self.models_dir, transformer)
        if self.plan_override is not None:
            plan = self.plan_override
        else:
            if self.machine is None:
                self.machine = probe()
            if self.device_choice in ("cpu", "mps") and profile == "auto":
                profile = self.device_choice
            plan = make_plan(self.machine, found.available_forms, profile,
                             force_form=found.transformer_form if transformer else None,
                             present_te_forms=found.text_encoder_forms, installed_gib=dict(found.form_gib),
                             compute_dtype="float32" if self._force_fp32 else None)
        if self._force_fp32 and plan.compute_dtype != "float32":  # a fixed plan (tests, benchmarks)
            plan = replace(plan, compute_dtype="float32", explanation=plan.explanation + " [fp32 after an overflow]")
        same_transformer = bool(transformer) or plan.transformer_form in provides(found.transformer_form)
        if same_transformer and found.text_encoder_form == plan.text_encoder_form:
            return plan, found
        # The plan prefers another of the installed transformer or text-encoder files.
        return plan, resolve_model_set(self.models_dir, transformer if same_transformer else None,
                                       () if same_transformer else (plan.transformer_form,), plan.text_encoder_form)

    def ensure_loaded(self, transformer: str | None = None, profile: str = "auto") -> ModelSet:
        """Load (or keep) the pipeline for this transformer and profile; returns its ModelSet."""
        plan, model_set = self.make_plan(transformer, profile)
        if self.pipe is not None and model_set == self.model_set and plan == self.plan:
            return model_set
        self.unload()
        device = torch.device(plan.device if self.device_choice == "auto" else self.device_choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise BadInputError(msg("generator.profile_needs_cuda_gpu", "The {profile} profile needs a CUDA GPU, and none "
                                    "is available; choose the cpu profile.",
                                    profile=plan.profile))
        dtype = getattr(torch, plan.compute_dtype)
        te_dtype, vae_dtype = component_dtypes(plan, dtype)
        started = time.perf_counter()
        out_of_memory = False
        pipe: Any = None
        text_encoder: torch.nn.Module | None = None
        try:
            pipe = load_pipeline(model_set, dtype, te_dtype, vae_dtype)
            pipe.set_progress_bar_config(disable=True)
            text_encoder = apply_plan(pipe, plan, device, model_set.transformer_form)
            if dtype == torch.float16:
                install_fp16_guards(pipe.transformer)
            for hook in self.on_loaded:
                hook(pipe)
        except torch.OutOfMemoryError:
            out_of_memory = True
        if out_of_memory:  # outside the except: its traceback would keep the half-placed pipeline alive
            pipe = text_encoder = None
            self._out_of_memory(plan, msg("generator.stage_loading", "loading"))
        assert text_encoder is not None
        self.pipe, self.model_set, self.plan, self.device, self.dtype = pipe, model_set, plan, device, dtype
        self.prompts = PromptEncoder(pipe.tokenizer, text_encoder, _encoder_id(model_set),
                                     hidden_layer=model_set.architecture.text_hidden_layer)
        self._previewer = LatentPreviewer(model_set.architecture)
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s in %.1f s: %s", model_set.display_name, self.load_seconds, plan.explanation)
        return model_set

    def unload(self) -> None:
        self.pipe = self.model_set = self.prompts = self.plan = None
        self._model_info = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _out_of_memory(self, plan: MemoryPlan, stage: str) -> NoReturn:
        self.unload()
        lighter = lighter_profile(plan.profile)
        hint = (msg("generator.try_lighter", " Try the lighter {profile} profile.", profile=lighter) if lighter
                else msg("generator.close_other_programs", " Close other programs that use the GPU."))
        raise OutOfMemoryError(msg("generator.gpu_ran_out_memory", "The GPU ran out of memory while {stage} with the "
                                   "{profile} profile; the model was unloaded.{hint}",
                                   stage=stage, profile=plan.profile, hint=hint), lighter)

    def model_info(self) -> dict:
        """Names and sha256 of the files in use (hashed once, then cached)."""
        assert self.model_set is not None
        if self._model_info is None:
            files = [{"name": p.name, "sha256": self.hash_cache.sha256(p)} for p in self.model_set.files()]
            self._model_info = {
                "name": self.model_set.display_name,
                "arch": self.model_set.arch,
                "form": self.model_set.form,
                "files": files,
                "hash": files[0]["sha256"][:10] if files else "",
                "device": str(self.device),
                "dtype": str(self.dtype).replace("torch.", ""),
                "profile": self.plan.profile if self.plan else "",
                "transformer_form": self.plan.transformer_form if self.plan else "",
                "roles": _file_roles(self.model_set),  # for the ComfyUI graph in the PNG
            }
        return self._model_info

    # -- generating ------------------------------------------------------------------------

    def run(self, request: GenerationRequest, on_step: StepCallback | None = None,
            is_cancelled: CancelCheck | None = None, on_image: ImageCallback | None = None,
            on_stage: StageCallback | None = None) -> GenerationResult:
        """Make ``request.count`` images; stops between steps when ``is_cancelled()`` turns true.

        Out of GPU memory frees the pipeline and raises OutOfMemoryError naming a lighter
        profile. Non-finite latents stop the image at the step they appear and it is made again
        once in float32 (which then stays for the session). ``on_stage`` hears each image's
        encoding, decoding and saving begin; every event's ETA covers the whole run."""
        cancelled = is_cancelled or (lambda: False)
        self.ensure_loaded(request.transformer, request.profile)
        images: list[GeneratedImage] = []
        clock = RunClock(request.count, request.steps, request.width * request.height, self.stage_times)
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

    def _run_guarded(self, req: GenerationRequest, index: int, count: int, on_step: StepCallback | None,
                     cancelled: CancelCheck, clock: RunClock, stage: StageCallback) -> GeneratedImage | None:
        notes: list[str] = []
        for attempt in range(2):
            assert self.plan is not None
            plan = self.plan
            out_of_memory = False
            try:
                image = self._run_one(req, index, count, on_step, cancelled, self.model_info(), clock, stage)
            except torch.OutOfMemoryError:
                out_of_memory = True
            except _NonFinite as exc:
                if attempt == 1 or self.dtype == torch.float32:
                    raise UserFacingError(
                        msg("generator.image_went_numerically_invalid", "The image went numerically invalid at step {step} "
                            "even in float32; the model files may be damaged — verify or re-download them.",
                            step=exc.step)
                    ) from None
                notes.append(msg("generator.overflowed_step_made_again", "{dtype} overflowed at step {step}; made again in "
                                 "float32.", dtype=self.dtype, step=exc.step))
                log.warning("non-finite latents at step %d in %s; retrying in float32", exc.step, self.dtype)
                self._force_fp32 = True
                self.ensure_loaded(req.transformer, req.profile)
                continue
            if out_of_memory:
                # Only here, after the except block: while it runs, its traceback still holds the
                # frames of the failed step (activations, the pipeline), so nothing could be freed.
                self._out_of_memory(plan, msg("generator.stage_generating", "generating"))
            if image is not None and notes:
                image = replace(image, notes=tuple(notes))
            return image
        return None

    def _run_one(self, req: GenerationRequest, index: int, count: int, on_step: StepCallback | None,
                 cancelled: CancelCheck, model: dict, clock: RunClock, stage: StageCallback) -> GeneratedImage | None:
        pipe = self.pipe
        assert pipe is not None and self.prompts is not None
        assert self.model_set is not None
        arch = self.model_set.architecture
        device = pipe._execution_device
        stage(clock.event("encoding", index))
        started = time.perf_counter()
        embeds = self.prompts.encode(req.prompt).to(device=device, dtype=self.dtype)
        encoded = time.perf_counter()
        clock.begin("step", index)
        latents = initial_latents(req.seed, req.width, req.height, device, arch)
        sigmas = schedule(req.scheduler, req.steps, pipe.scheduler.config.shift)
        state: dict = {"bad_step": 0}

        def on_step_end(pipeline, i: int, t, kwargs: dict) -> dict:
            current = kwargs["latents"]
            if not all_finite(current):
                state["bad_step"] = i + 1
                pipeline._interrupt = True
                return {}
            elapsed = time.perf_counter() - encoded
            clock.step_done(i + 1, elapsed)
            if on_step is not None:
                preview = None
                if self.previews:
                    preview = self._previewer.to_rgb(pipeline.scheduler.denoised)
                on_step(StepEvent(index, count, i + 1, req.steps, req.seed, elapsed, clock.eta_s(), preview))
            if cancelled():
                pipeline._interrupt = True  # the pipeline skips the remaining steps
            return {}

        # ComfyUI's schedule and sampler (engine/sampling.py) in the pipeline's unchanged loop.
        with sampler_installed(pipe, req.sampler):
            out = pipe(
                prompt_embeds=[embeds],
                height=req.height,
                width=req.width,
                sigmas=sigmas,
                guidance_scale=arch.guidance_scale,
                latents=latents,
                output_type="latent",
                callback_on_step_end=on_step_end,
                callback_on_step_end_tensor_inputs=["latents"],
            ).images
        if state["bad_step"]:
            raise _NonFinite(state["bad_step"])
        if pipe.interrupt:
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
        return GeneratedImage(request=req, image=image, timings=timings, model=model)

    def _decode(self, latents: torch.Tensor):
        """Exactly the pipeline's own decode, done by us so a cancelled run skips it."""
        pipe = self.pipe
        assert pipe is not None
        vae = pipe.vae
        latents = latents.to(vae.dtype) / vae.config.scaling_factor + vae.config.shift_factor
        with torch.inference_mode():
            decoded = vae.decode(latents, return_dict=False)[0]
        if not all_finite(decoded):
            raise _NonFinite(0)
        image = pipe.image_processor.postprocess(decoded, output_type="pil")[0]
        pipe.maybe_free_model_hooks()
        return image


def _file_roles(model_set: ModelSet) -> dict[str, str]:
    """The single files' names by role; a diffusers folder or a sharded text encoder has none."""
    files = {"transformer": model_set.transformer, "text_encoder": model_set.text_encoder, "vae": model_set.vae}
    return {role: p.name for role, p in files.items()
            if model_set.form != "diffusers" and p is not None and p.is_file()}


def _encoder_id(model_set: ModelSet) -> str:
    if model_set.form == "diffusers" and model_set.pipeline_dir is not None:
        files = sorted((model_set.pipeline_dir / "text_encoder").glob("*.safetensors"))
    else:
        assert model_set.text_encoder is not None
        te = model_set.text_encoder
        files = sorted(te.glob("*.safetensors")) if te.is_dir() else [te]
    return "|".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
