"""Cheap per-step previews of the denoised estimate (x0), projected straight from latents.

Z-Image uses flow matching with a plain Euler scheduler: x_{i+1} = x_i + (σ_{i+1} − σ_i)·v. Two
consecutive latents give v, and x0 = x_{i+1} − σ_{i+1}·v is what the image will look like. The
FLUX.1 VAE's 16 latent channels map to RGB nearly linearly; the factors are ComfyUI's for FLUX
(comfy/latent_formats.py, class Flux), which apply to the scaled latents the pipeline works on.
The whole preview is one small matrix product on an (H/8 × W/8) grid.
"""

from __future__ import annotations

import numpy as np
import torch

FLUX_LATENT_RGB_FACTORS = (
    (-0.0346, 0.0244, 0.0681), (0.0034, 0.0210, 0.0687), (0.0275, -0.0668, -0.0433),
    (-0.0174, 0.0160, 0.0617), (0.0859, 0.0721, 0.0329), (0.0004, 0.0383, 0.0115),
    (0.0405, 0.0861, 0.0915), (-0.0236, -0.0185, -0.0259), (-0.0245, 0.0250, 0.1180),
    (0.1008, 0.0755, -0.0421), (-0.0515, 0.0201, 0.0011), (0.0428, -0.0012, -0.0036),
    (0.0817, 0.0765, 0.0749), (-0.1264, -0.0522, -0.1103), (-0.0280, -0.0881, -0.0499),
    (-0.1262, -0.0982, -0.0778),
)
FLUX_LATENT_RGB_BIAS = (-0.0329, -0.0718, -0.0851)


def denoised_estimate(prev: torch.Tensor, cur: torch.Tensor, sigma_prev: float, sigma_cur: float) -> torch.Tensor:
    """x0 from two consecutive Euler latents and their sigmas."""
    if sigma_prev == sigma_cur:
        return cur
    velocity = (cur - prev) / (sigma_cur - sigma_prev)
    return cur - sigma_cur * velocity


class LatentPreviewer:
    """Projects (1, 16, h, w) latents to an (h, w, 3) uint8 RGB array."""

    def __init__(self) -> None:
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = {}

    def _factors(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        key = (device, dtype)
        if key not in self._cache:
            self._cache[key] = (
                torch.tensor(FLUX_LATENT_RGB_FACTORS, device=device, dtype=dtype),
                torch.tensor(FLUX_LATENT_RGB_BIAS, device=device, dtype=dtype),
            )
        return self._cache[key]

    def to_rgb(self, latent: torch.Tensor) -> np.ndarray:
        weight, bias = self._factors(latent.device, latent.dtype)
        rgb = torch.addmm(bias, latent[0].flatten(1).T, weight)  # (h*w, 3)
        rgb = ((rgb + 1.0) * 127.5).clamp_(0, 255).to(torch.uint8)
        return rgb.reshape(latent.shape[-2], latent.shape[-1], 3).cpu().numpy()
