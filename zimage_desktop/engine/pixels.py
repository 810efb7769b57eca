"""The one place where a decoded picture becomes 8 bits, as ComfyUI does it, so a picture made here
and the same graph run in ComfyUI agree to the grey level.

ComfyUI's ``VAE.decode`` (comfy/sd.py) casts the VAE's output to float32 *before* mapping [-1, 1]
to [0, 1] (``torch.clamp((image + 1.0) / 2.0, 0, 1)``), and ``SaveImage`` (nodes.py) writes
``np.clip(255. * image, 0, 255).astype(np.uint8)`` — truncation. diffusers' ``postprocess`` maps in
the VAE's dtype (bf16 on a GPU: steps of 1/256 near white) and rounds, which alone differs from
ComfyUI by half a grey level on average.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def unit_pixels(decoded: torch.Tensor) -> torch.Tensor:
    """The VAE's output (…×3×H×W in [-1, 1], any dtype) in [0, 1] float32, as ComfyUI's VAE.decode."""
    return torch.clamp((decoded.float() + 1.0) / 2.0, min=0.0, max=1.0)


def to_8bit(pixels: torch.Tensor | np.ndarray) -> Image.Image:
    """A picture in [0, 1] (1×3×H×W or 3×H×W tensor, or an H×W×3 array) as 8-bit RGB, truncated
    as ComfyUI's SaveImage: ``np.clip(255. * x, 0, 255).astype(np.uint8)``."""
    if isinstance(pixels, torch.Tensor):
        chw = pixels[0] if pixels.dim() == 4 else pixels
        array = chw.detach().float().permute(1, 2, 0).cpu().numpy()
    else:
        array = np.asarray(pixels, dtype=np.float32)
    return Image.fromarray(np.clip(255. * array, 0, 255).astype(np.uint8), "RGB")


__all__ = ["to_8bit", "unit_pixels"]
