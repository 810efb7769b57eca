"""Generator: one loaded Z-Image pipeline, turned into images with previews and cancel.

The pipeline stays loaded between requests. Each image is one ``ZImagePipeline.__call__`` with
Turbo settings (guidance 0, the scheduler's shift, ``request.steps`` steps), our own pad-free
prompt embeddings and our own initial latents (drawn exactly as the pipeline would draw them, on
the CPU from the seed, so a seed gives the same image on any device). ``callback_on_step_end``
makes the previews and sets the pipeline's interrupt flag on cancel; the pipeline returns
latents, and we decode only when the run was not cancelled.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import torch

from ..errors import UserFacingError
from ..models.hashing import HashCache
from .devices import select_device
from .loader import load_pipeline
from .model_files import ModelSet, resolve_model_set
from .preview import LatentPreviewer, denoised_estimate
from .prompts import PromptEncoder
from .request import GeneratedImage, GenerationRequest, GenerationResult, StepEvent

log = logging.getLogger(__name__)

StepCallback = Callable[[StepEvent], None]
ImageCallback = Callable[[GeneratedImage], None]
CancelCheck = Callable[[], bool]

TURBO_GUIDANCE = 0.0
LATENT_CHANNELS = 16
VAE_SCALE = 8


def initial_latents(seed: int, width: int, height: int, device: torch.device) -> torch.Tensor:
    """The starting noise of ZImagePipeline.prepare_latents for a CPU generator with this seed."""
    from diffusers.utils.torch_utils import randn_tensor

    generator = torch.Generator("cpu").manual_seed(seed)
    shape = (1, LATENT_CHANNELS, height // VAE_SCALE, width // VAE_SCALE)
    return randn_tensor(shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32).to(device)


class Generator:
    """Owns one pipeline; not thread-safe (one worker thread uses it)."""

    def __init__(self, models_dir: Path, *, device: str = "auto", previews: bool = True,
                 hash_cache: HashCache | None = None) -> None:
        self.models_dir = Path(models_dir)
        self.device_choice = device
        self.previews = previews
        self.hash_cache = hash_cache or HashCache()
        self.pipe = None
        self.model_set: ModelSet | None = None
        self.prompts: PromptEncoder | None = None
        self.device: torch.device | None = None
        self.dtype: torch.dtype | None = None
        self._previewer = LatentPreviewer()
        self._model_info: dict | None = None

    # -- loading ---------------------------------------------------------------------------

    def ensure_loaded(self, transformer: str | None = None) -> ModelSet:
        """Load (or keep) the pipeline for this transformer choice; returns its ModelSet."""
        model_set = resolve_model_set(self.models_dir, transformer)
        if self.pipe is not None and model_set == self.model_set:
            return model_set
        self.unload()
        self.device, self.dtype = select_device(self.device_choice)
        started = time.perf_counter()
        pipe = load_pipeline(model_set, self.dtype)
        pipe.set_progress_bar_config(disable=True)
        pipe.to(self.device)
        self.pipe, self.model_set = pipe, model_set
        self.prompts = PromptEncoder(pipe.tokenizer, pipe.text_encoder, _encoder_id(model_set))
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s in %.1f s on %s (%s)", model_set.display_name, self.load_seconds, self.device, self.dtype)
        return model_set

    def unload(self) -> None:
        self.pipe = self.model_set = self.prompts = None
        self._model_info = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def model_info(self) -> dict:
        """Names and sha256 of the files in use (hashed once, then cached)."""
        assert self.model_set is not None
        if self._model_info is None:
            files = [{"name": p.name, "sha256": self.hash_cache.sha256(p)} for p in self.model_set.files()]
            self._model_info = {
                "name": self.model_set.display_name,
                "form": self.model_set.form,
                "files": files,
                "hash": files[0]["sha256"][:10] if files else "",
                "device": str(self.device),
                "dtype": str(self.dtype).replace("torch.", ""),
            }
        return self._model_info

    # -- generating ------------------------------------------------------------------------

    def run(self, request: GenerationRequest, on_step: StepCallback | None = None,
            is_cancelled: CancelCheck | None = None, on_image: ImageCallback | None = None) -> GenerationResult:
        """Make ``request.count`` images; stops between steps when ``is_cancelled()`` turns true."""
        cancelled = is_cancelled or (lambda: False)
        self.ensure_loaded(request.transformer)
        assert self.pipe is not None and self.prompts is not None and self.device is not None
        model = self.model_info()
        images: list[GeneratedImage] = []
        for index, seed in enumerate(request.seeds):
            if cancelled():
                return GenerationResult(request, tuple(images), cancelled=True)
            image = self._run_one(request.for_seed(seed), index, request.count, on_step, cancelled, model)
            if image is None:
                return GenerationResult(request, tuple(images), cancelled=True)
            images.append(image)
            if on_image is not None:
                on_image(image)
        return GenerationResult(request, tuple(images))

    def _run_one(self, req: GenerationRequest, index: int, count: int, on_step: StepCallback | None,
                 cancelled: CancelCheck, model: dict) -> GeneratedImage | None:
        pipe = self.pipe
        assert pipe is not None and self.prompts is not None and self.device is not None
        started = time.perf_counter()
        embeds = self.prompts.encode(req.prompt, self.device).to(self.dtype)
        encoded = time.perf_counter()
        latents = initial_latents(req.seed, req.width, req.height, self.device)
        state = {"prev": latents, "sigmas": None}

        def on_step_end(pipeline, i: int, t, kwargs: dict) -> dict:
            if on_step is not None:
                current = kwargs["latents"]
                preview = None
                if self.previews:
                    if state["sigmas"] is None:
                        state["sigmas"] = pipeline.scheduler.sigmas.tolist()
                    sigmas = state["sigmas"]
                    x0 = denoised_estimate(state["prev"], current, sigmas[i], sigmas[i + 1])
                    preview = self._previewer.to_rgb(x0)
                    state["prev"] = current
                elapsed = time.perf_counter() - encoded
                eta = elapsed / (i + 1) * (req.steps - i - 1)
                on_step(StepEvent(index, count, i + 1, req.steps, req.seed, elapsed, eta, preview))
            if cancelled():
                pipeline._interrupt = True  # the pipeline skips the remaining steps
            return {}

        out = pipe(
            prompt_embeds=[embeds],
            height=req.height,
            width=req.width,
            num_inference_steps=req.steps,
            guidance_scale=TURBO_GUIDANCE,
            latents=latents,
            output_type="latent",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        ).images
        if pipe.interrupt:
            return None
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
        if not torch.isfinite(latents).all():
            raise UserFacingError(
                "The image came out empty (numbers overflowed on this GPU); try the CPU or a lighter profile."
            )
        vae = pipe.vae
        latents = latents.to(vae.dtype) / vae.config.scaling_factor + vae.config.shift_factor
        with torch.inference_mode():
            decoded = vae.decode(latents, return_dict=False)[0]
        image = pipe.image_processor.postprocess(decoded, output_type="pil")[0]
        pipe.maybe_free_model_hooks()
        return image


def _encoder_id(model_set: ModelSet) -> str:
    if model_set.form == "diffusers" and model_set.pipeline_dir is not None:
        files = sorted((model_set.pipeline_dir / "text_encoder").glob("*.safetensors"))
    else:
        assert model_set.text_encoder is not None
        te = model_set.text_encoder
        files = sorted(te.glob("*.safetensors")) if te.is_dir() else [te]
    return "|".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
