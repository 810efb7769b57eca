"""The engine's edit modes: image-to-image, inpaint, outpaint and upscale on the loaded pipeline.

diffusers' ``ZImageImg2ImgPipeline`` and ``ZImageInpaintPipeline`` are built from the generator's
pipeline's ``components`` (``from_pipe``'s own step, minus its dtype cast): the same module
objects (so the same weights, FP8 casting, GGUF layers and placement hooks), no second copy.
Sampling stays ours: the finished schedule (``sampling.schedule``) and sampler are installed as
for text-to-image, and the start is ComfyUI's: noise from ``initial_latents(seed)`` mixed with the
encoded source at the first sigma that runs, σ·noise + (1 − σ)·latent. Strength decides how many
steps run as diffusers decides it (``steps_run``): the last steps of the full schedule.

The inpaint pipeline would encode the source twice more (once to blend, once as a masked image
the Z-Image transformer never reads); ``_SharedInpaint`` hands it the latents we already have.

Compositing makes the promise the user relies on: the decoded picture is pasted back through the
feathered mask, so every pixel outside the feathered border is the source's, exactly.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch
from diffusers import ZImageImg2ImgPipeline, ZImageInpaintPipeline
from PIL import Image

from .control_run import controlnet
from .edit_plan import tile_side
from .editing import (
    MODEL_PIXELS, canvas_and_mask, composite, feathered_mask, mask_bbox, masked_crop_box,
    request_source, working_size,
)
from .pixels import to_8bit
from .request import GenerationRequest
from .sampling import initial_latents, sampler_installed, schedule
from .upscalers import pixel_upscale
from ..model_folders import UPSCALERS

if TYPE_CHECKING:
    from .generator import Generator

TILE_OVERLAP = 128


def steps_run(steps: int, strength: float) -> int:
    """How many of ``steps`` run at ``strength`` — diffusers' ``get_timesteps`` arithmetic."""
    init_timestep = min(steps * strength, steps)
    return steps - int(max(steps - init_timestep, 0))


class _SharedInpaint(ZImageInpaintPipeline):
    """ZImageInpaintPipeline fed the latents, noise and source latents we prepared."""

    prepared: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def prepare_latents(self, *args, **kwargs):  # type: ignore[override]
        assert self.prepared is not None
        return self.prepared

    def prepare_mask_latents(self, mask, masked_image, batch_size, height, width, dtype, device, generator):  # type: ignore[override]
        latent_size = (2 * (int(height) // (self.vae_scale_factor * 2)), 2 * (int(width) // (self.vae_scale_factor * 2)))
        mask = torch.nn.functional.interpolate(mask, size=latent_size, mode="nearest").to(device=device, dtype=dtype)
        return mask, None  # the Z-Image transformer never reads masked-image latents


def edit_pipeline(gen: "Generator", inpaint: bool) -> Any:
    """The img2img or inpaint pipeline sharing ``gen.pipe``'s components (made once per load)."""
    cache = gen.edit_pipes  # emptied by Generator.unload
    key = "inpaint" if inpaint else "img2img"
    if key not in cache:
        cls = _SharedInpaint if inpaint else ZImageImg2ImgPipeline
        # What ``from_pipe`` does, without its closing ``.to(dtype=float32)``: that would upcast the
        # shared bf16/FP8 modules in place (a second, wider copy of the weights) and raises for GGUF.
        loaded: Any = gen.pipe
        pipe: Any = cls(**loaded.components)
        pipe.set_progress_bar_config(disable=True)
        cache[key] = pipe
    return cache[key]


def encode_image(gen: "Generator", image: Image.Image) -> torch.Tensor:
    """The source in latent space: the VAE's mean (no sampling: the same every time), scaled as
    the pipelines scale it. The VAE's own tiling applies on the profiles that turn it on."""
    pipe = gen.pipe
    assert pipe is not None
    vae = pipe.vae
    pixels = pipe.image_processor.preprocess(image).to(device=pipe._execution_device, dtype=vae.dtype)
    with torch.inference_mode():
        latent = vae.encode(pixels).latent_dist.mode()
    return ((latent.float() - vae.config.shift_factor) * vae.config.scaling_factor).clone()


@dataclass
class Sampling:
    """What one edit denoising pass needs from the generator."""

    embeds: torch.Tensor
    on_step_end: Callable
    state: dict  # "offset" (steps done before this pass), "total" (all passes), "pipe"
    # Classifier-free guidance (engine/guidance.py): diffusers' scale, and the negative prompt's
    # embeddings when it is above 0.
    guidance_scale: float = 0.0
    negative_embeds: torch.Tensor | None = None


def denoise(gen: "Generator", req: GenerationRequest, image: Image.Image, mask: Image.Image | None, seed: int,
            sampling: Sampling, control: Image.Image | None = None,
            control_mask: Image.Image | None = None) -> torch.Tensor | None:
    """One pass at ``image``'s size; the latents, or None when cancelled. ``control``: the
    request's control image at ``image``'s size (engine/control_inpaint.py adds its hints);
    ``control_mask``: the painted mask the control's inpaint input reads (default ``mask``)."""

    pipe = edit_pipeline(gen, mask is not None)
    assert gen.model_set is not None
    arch = gen.model_set.architecture
    device = pipe._execution_device
    width, height = image.size
    sigmas = schedule(req.scheduler, req.steps, pipe.scheduler.config.shift)
    start = req.steps - steps_run(req.steps, req.strength)
    source = encode_image(gen, image).to(device)
    noise = initial_latents(seed, width, height, device, arch)
    sigma = sigmas[start]
    latents = sigma * noise + (1.0 - sigma) * source
    sampling.state["pipe"] = pipe
    kwargs: dict[str, Any] = {}
    if mask is not None:
        pipe.prepared = (latents, noise, source)
        kwargs["mask_image"] = mask
    hints = _control_hints(gen, req, pipe, control, image, mask if control_mask is None else control_mask, start)
    with sampler_installed(pipe, req.sampler), hints:
        if sampling.negative_embeds is not None:
            kwargs["negative_prompt_embeds"] = [sampling.negative_embeds]
        out = pipe(image=image, strength=req.strength, prompt_embeds=[sampling.embeds], height=height, width=width,
                   num_inference_steps=req.steps, sigmas=sigmas, guidance_scale=sampling.guidance_scale, latents=latents,
                   output_type="latent", callback_on_step_end=sampling.on_step_end,
                   callback_on_step_end_tensor_inputs=["latents"], **kwargs).images
    if mask is not None:
        pipe.prepared = None
    sampling.state["offset"] += steps_run(req.steps, req.strength)
    return None if pipe.interrupt else out


def _control_hints(gen: "Generator", req: GenerationRequest, pipe: Any, control: Image.Image | None,
                   image: Image.Image, mask: Image.Image | None, first_step: int) -> Any:
    """The ControlNet's hints on the pipeline's transformer, or nothing to do without a control."""
    if control is None or not req.controls:
        return nullcontext()
    from . import control_inpaint as ci
    from .controlnet import active_steps, control_context

    file, model = controlnet(gen, inpaint=mask is not None)
    ref = req.controls[0]
    # Image-to-image has nothing to inpaint: the text-to-image context (ComfyUI's node with an image only).
    context = (control_context(gen.pipe, file, control) if mask is None
               else ci.inpaint_context(gen.pipe, file, control, image, mask))
    return ci.controlled(pipe.transformer, model, context, ref.strength, active_steps(req.steps, ref.start, ref.end),
                         first_step)


def passes(req: GenerationRequest, tile_pixels: int) -> int:
    """How many denoising passes a request makes (tiles of an upscale), for honest progress."""
    if req.mode != "upscale" or req.width * req.height <= tile_pixels:
        return 1
    return len(tile_boxes((req.width, req.height), tile_side(tile_pixels)))


def upscaler_tile(tile_pixels: int) -> int:
    """The upscale model's tile side: a ×4 ESRGAN holds 64 channels at 4× the tile's side (1 GiB of
    float32 per feature map for a 512 tile), so profiles that tile their edit pass use 256."""
    return 512 if tile_pixels >= 2048 * 2048 else 256


def tile_boxes(size: tuple[int, int], side: int, overlap: int = TILE_OVERLAP) -> list[tuple[int, int, int, int]]:
    """Tiles of at most ``side``² covering ``size`` with ``overlap`` pixels between neighbours."""
    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        count = math.ceil((length - overlap) / (side - overlap))
        step = (length - side) / (count - 1)
        return [int(round(i * step)) // 16 * 16 for i in range(count - 1)] + [length - side]
    w, h = size
    tw, th = min(side, w), min(side, h)
    return [(x, y, x + tw, y + th) for y in starts(h) for x in starts(w)]


def _ramp(length: int, before: int, after: int) -> torch.Tensor:
    """Weights along one axis of a tile: rising over ``before``, falling over ``after`` pixels."""
    weight = torch.ones(length)
    if before:
        weight[:before] = torch.linspace(0, 1, before + 2)[1:-1]
    if after:
        weight[length - after:] = torch.linspace(1, 0, after + 2)[1:-1]
    return weight


def run_edit(gen: "Generator", req: GenerationRequest, sampling: Sampling,
             tile_pixels: int) -> tuple[Image.Image, list[str]] | None:
    """The finished picture of an edit request and notes about its inputs (None when cancelled)."""
    source, notes = request_source(req)
    found = list(notes)
    if req.mode == "img2img":
        work = source if source.size == (req.width, req.height) else source.resize(
            (req.width, req.height), Image.Resampling.LANCZOS)
        latents = denoise(gen, req, work, None, req.seed, sampling, _control_image(gen, req, work.size))
        return None if latents is None else (gen._decode(latents), found)
    if req.mode == "upscale":
        big, more = pixel_upscale(source, (req.width, req.height), gen.models_dir / UPSCALERS, req.upscale,
                                  req.upscale_model, upscaler_tile(tile_pixels))
        found.extend(more)
        made = _tiled_img2img(gen, req, big, sampling, tile_pixels)
        return None if made is None else (made, found)
    canvas, hard, mask_notes = canvas_and_mask(req, source)
    found.extend(mask_notes)
    made = _inpaint(gen, req, canvas, hard, sampling)
    return None if made is None else (made, found)


def _inpaint(gen: "Generator", req: GenerationRequest, canvas: Image.Image, hard: Image.Image,
             sampling: Sampling) -> Image.Image | None:
    alpha = feathered_mask(hard, req.mask_blur)
    if req.only_masked:
        box = masked_crop_box(mask_bbox(alpha), canvas.size, req.only_masked_padding)
        size = working_size(box[2] - box[0], box[3] - box[1], req.width * req.height)
    else:
        box, size = (0, 0, canvas.width, canvas.height), (req.width, req.height)
    crop = canvas.crop(box)
    work = crop if crop.size == size else crop.resize(size, Image.Resampling.LANCZOS)
    # The model redraws everything the feathered edge touches; the composite decides how much shows.
    model_mask = alpha.crop(box).point(lambda v: 255 if v else 0).resize(size, Image.Resampling.NEAREST)
    control = _control_image(gen, req, canvas.size)
    control_mask = None
    if control is not None:
        control = control.crop(box)
        control = control if control.size == size else control.resize(size, Image.Resampling.LANCZOS)
        # The control's inpaint input reads the painted mask, as ZImageFunControlnet gets it in the
        # graph (LoadImage's mask); the grown, feathered one is the sampler's only.
        control_mask = hard.crop(box)
        control_mask = control_mask if control_mask.size == size else control_mask.resize(size, Image.Resampling.NEAREST)
    latents = denoise(gen, req, work, model_mask, req.seed, sampling, control, control_mask)
    if latents is None:
        return None
    if size != crop.size:  # scaled back to the crop: in 8 bits, as before
        made = gen._decode(latents)
        full = canvas.copy()
        full.paste(made.resize(crop.size, Image.Resampling.LANCZOS), box[:2])
        return composite(canvas, full, alpha)
    return _composite_unit(canvas, gen._decode_unit(latents), box, alpha)


def _composite_unit(canvas: Image.Image, unit: torch.Tensor, box: tuple[int, int, int, int],
                    alpha: Image.Image) -> Image.Image:
    """The decoded crop (1×3×h×w in [0, 1]) blended onto ``canvas`` through ``alpha`` in float and
    made 8-bit once, as ComfyUI's ImageCompositeMasked → SaveImage do (blending two 8-bit pictures
    rounds twice: 2 grey levels from the server's picture at the feather). Where ``alpha`` is 0 the
    canvas's own bytes are kept exactly."""
    import numpy as np

    base = np.asarray(canvas.convert("RGB"), dtype=np.uint8)
    full = base.astype(np.float32) / 255.0
    full[box[1]:box[3], box[0]:box[2]] = unit[0].detach().float().permute(1, 2, 0).cpu().numpy()
    weight = np.asarray(alpha, dtype=np.float32)[..., None] / 255.0
    blended = np.asarray(to_8bit(full * weight + (base.astype(np.float32) / 255.0) * (1.0 - weight)))
    return Image.fromarray(np.where(weight > 0, blended, base).astype(np.uint8), "RGB")


def _control_image(gen: "Generator", req: GenerationRequest, size: tuple[int, int]) -> Image.Image | None:
    """The request's preprocessed control image at the edit's output size (None without one);
    the generator keeps it and its file for the image's record."""
    if not req.controls:
        return None
    prepared = gen.control_image(req.controls[0], *size)
    file, _ = controlnet(gen, inpaint=req.mode != "img2img")
    gen._control_notes = [prepared.note] if prepared.note else []
    gen._control_run = (prepared.image, file)
    return prepared.image


def _tiled_img2img(gen: "Generator", req: GenerationRequest, image: Image.Image, sampling: Sampling,
                   tile_pixels: int) -> Image.Image | None:
    """A low-strength pass over ``image``; in overlapping tiles blended linearly when it is larger
    than the plan's budget. Each tile has its own noise: seed + tile index."""
    if image.width * image.height <= tile_pixels:
        latents = denoise(gen, req, image, None, req.seed, sampling)
        return None if latents is None else gen._decode(latents)
    boxes = tile_boxes(image.size, tile_side(tile_pixels))
    total = torch.zeros(image.height, image.width, 3)
    weight = torch.zeros(image.height, image.width, 1)
    for index, box in enumerate(boxes):
        latents = denoise(gen, req, image.crop(box), None, (req.seed + index) % 2**64, sampling)
        if latents is None:
            return None
        tile = gen._decode_unit(latents)[0].permute(1, 2, 0)  # blended before any rounding
        left, top, right, bottom = box
        before_x = TILE_OVERLAP if left else 0
        after_x = TILE_OVERLAP if right < image.width else 0
        before_y = TILE_OVERLAP if top else 0
        after_y = TILE_OVERLAP if bottom < image.height else 0
        w = (_ramp(bottom - top, before_y, after_y)[:, None] * _ramp(right - left, before_x, after_x)[None, :])[..., None]
        total[top:bottom, left:right] += tile * w
        weight[top:bottom, left:right] += w
    return to_8bit((total / weight).numpy())


__all__ = ["MODEL_PIXELS", "Sampling", "denoise", "edit_pipeline", "passes", "run_edit", "steps_run", "tile_boxes"]
