"""Pixel upscaling for the upscale mode: an ESRGAN-family model from ``models/upscale_models/``
through ``spandrel`` (the loader ComfyUI uses) when both are there, Lanczos otherwise.

spandrel is optional: it imports torchvision, and PyPI's torchvision does not work beside every
torch build we ship, so it is imported only here, only when a model file is present. Only
``.safetensors`` files are read (never a pickle); the model runs in 512-pixel tiles with a 32-pixel
margin, so a 2048² result needs a few hundred MB, not gigabytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..messages import msg

TILE = 512
MARGIN = 32


def upscale_model_file(folder: Path) -> Path | None:
    """The first ``.safetensors`` upscaler in ``folder`` (by name), if any."""
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.suffix == ".safetensors" and p.is_file())
    return files[0] if files else None


def lanczos(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def pixel_upscale(image: Image.Image, size: tuple[int, int], folder: Path,
                  scale: float) -> tuple[Image.Image, list[str]]:
    """``image`` at ``size``: through the upscale model when one loads, then Lanczos to the size."""
    path = upscale_model_file(folder)
    if path is None or scale <= 1:
        return lanczos(image, size), []
    try:
        import spandrel
        from safetensors.torch import load_file
    except ImportError:
        return lanczos(image, size), [msg("edit.note_no_spandrel", "The upscale model {name} needs the spandrel "
                                          "package, which is not installed; Lanczos was used.", name=path.name)]
    try:
        model = spandrel.ModelLoader().load_from_state_dict(load_file(str(path))).eval()
    except Exception as exc:  # spandrel raises many kinds for files it does not know
        return lanczos(image, size), [msg("edit.note_upscaler_unknown", "The upscale model {name} could not be "
                                          "loaded ({reason}); Lanczos was used.", name=path.name, reason=exc)]
    big = run_tiled(model.model, image, int(model.scale))
    return lanczos(big, size), [msg("edit.note_upscaler_used", "Upscaled with {name}.", name=path.name)]


def run_tiled(net: torch.nn.Module, image: Image.Image, scale: int) -> Image.Image:
    """``net`` (RGB in [0, 1] → RGB ×``scale``) over ``image`` in tiles with a margin each side."""
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    _, _, height, width = pixels.shape
    out = torch.zeros(1, 3, height * scale, width * scale)
    with torch.inference_mode():
        for top in range(0, height, TILE):
            for left in range(0, width, TILE):
                t0, l0 = max(0, top - MARGIN), max(0, left - MARGIN)
                t1, l1 = min(height, top + TILE + MARGIN), min(width, left + TILE + MARGIN)
                tile = net(pixels[:, :, t0:t1, l0:l1]).float()
                bottom, right = min(height, top + TILE), min(width, left + TILE)
                out[:, :, top * scale:bottom * scale, left * scale:right * scale] = tile[
                    :, :, (top - t0) * scale:(bottom - t0) * scale, (left - l0) * scale:(right - l0) * scale]
    array = (out[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return Image.fromarray(array, "RGB")
