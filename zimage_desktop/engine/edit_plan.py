"""What an edit costs in memory, from the plan's residency table (engine/residency.py).

Image-to-image, inpaint and outpaint run the txt2img phases (encode, denoise, decode: the enhancer's phase
is not part of an edit) plus one of their own before denoising, the table's "vae-encode" (the VAE encode
of the source, whole or in 512-pixel tiles on the profiles whose plan tiles the VAE): the request's table
(engine/request_table.py) lists it in the VAE's row, so where each component is then, and what moves,
is the same simulation as every other phase's. The source, noise and
mask latents and the source/mask/result pictures are the edit's buffers. An upscale runs those phases on
one tile at a time (``edit_tile_pixels``) and holds the whole picture and its float accumulators in RAM.

``bench/edit_plan_table.py`` prints these predictions per profile for docs/PERFORMANCE.md;
``bench/gpu_profiles.py`` measures the img2img and inpaint rows against them on a GPU.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from .request_table import RequestParts, request_table
from .residency import PHASES, REFERENCE_PIXELS

ENCODE = next(p for p in PHASES if p.name == "vae-encode")  # the VAE encode pass, a phase of the table

if TYPE_CHECKING:
    from .planner import MemoryPlan

EDIT_BUFFERS_GIB = 0.05  # per megapixel: three latents, the mask, the source/mask/result pictures
UPSCALE_CANVAS_BYTES_PER_PIXEL = 3 + 2 * 3 * 4  # the resized picture + two float32 accumulators (tiled paste)
GIB = 1024**3


def edit_peaks(plan: MemoryPlan, width: int = 1024, height: int = 1024, parts: RequestParts | None = None,
               device: str | None = None) -> tuple[float, float]:
    """(VRAM, RAM) peaks in GiB of an image-to-image, inpaint or outpaint pass of ``width``×``height``
    under ``plan``: the request's residency table with its "vae-encode" phase (no enhancer), plus the
    buffers. ``parts``: what else the request adds (LoRAs, a ControlNet)."""
    parts = replace(parts or RequestParts(), edit=True)
    table = request_table(plan, parts, device)
    pixels = width * height
    memory = table.phase_memory(width, height, skip=("enhance",))
    buffers = EDIT_BUFFERS_GIB * pixels / REFERENCE_PIXELS
    peak_vram = max(v for v, _ in memory.values()) + buffers if table.accelerator else 0.0
    peak_ram = max(r for _, r in memory.values()) + buffers
    return round(peak_vram, 2), round(peak_ram, 2)


def edit_tile_pixels(plan: MemoryPlan) -> int:
    """The most pixels one edit pass works on before an upscale is done in tiles: 2048² where
    the whole model stays resident on a GPU (24/16/12 GB), the model's 1024² elsewhere."""
    resident = plan.device != "cpu" and plan.offload == "none" and plan.profile in ("24gb", "16gb", "12gb", "reference")
    return 2048 * 2048 if resident else 1024 * 1024


def tile_side(tile_pixels: int) -> int:
    """The side of an upscale's square tiles (``edit_run`` cuts them, this module sizes them)."""
    return max(256, int(math.sqrt(tile_pixels)) // 16 * 16)


def upscale_peaks(plan: MemoryPlan, width: int, height: int) -> tuple[float, float]:
    """(VRAM, RAM) peaks in GiB of an upscale to ``width``×``height``: one pass over the whole picture, or
    over one square tile as ``edit_run`` cuts them (``edit_tile_pixels``), plus the whole picture in RAM."""
    pixels, tile = width * height, edit_tile_pixels(plan)
    side = tile_side(tile)
    pass_w, pass_h = (width, height) if pixels <= tile else (min(width, side), min(height, side))
    vram, ram = edit_peaks(plan, pass_w, pass_h)
    canvas = pixels * UPSCALE_CANVAS_BYTES_PER_PIXEL / GIB
    return vram, round(ram + canvas, 2)
