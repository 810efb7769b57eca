"""Cheap per-step previews of the denoised estimate (x0), projected straight from latents.

Z-Image uses flow matching with a plain Euler scheduler: x_{i+1} = x_i + (σ_{i+1} − σ_i)·v. Two
consecutive latents give v, and x0 = x_{i+1} − σ_{i+1}·v is what the image will look like. The
FLUX.1 VAE's 16 latent channels map to RGB nearly linearly; the factors (in the model's Architecture) are
ComfyUI's for FLUX (comfy/latent_formats.py, class Flux), which apply to the scaled latents the pipeline works on.
The whole preview is one small matrix product on an (H/8 × W/8) grid.
"""

from __future__ import annotations

import numpy as np
import torch

from .architectures import DEFAULT, Architecture



def denoised_estimate(prev: torch.Tensor, cur: torch.Tensor, sigma_prev: float, sigma_cur: float) -> torch.Tensor:
    """x0 from two consecutive Euler latents and their sigmas."""
    if sigma_prev == sigma_cur:
        return cur
    velocity = (cur - prev) / (sigma_cur - sigma_prev)
    return cur - sigma_cur * velocity


class LatentPreviewer:
    """Projects (1, 16, h, w) latents to an (h, w, 3) uint8 RGB array."""

    def __init__(self, arch: Architecture = DEFAULT) -> None:
        self.arch = arch
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = {}

    def _factors(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        key = (device, dtype)
        if key not in self._cache:
            self._cache[key] = (
                torch.tensor(self.arch.preview_rgb_factors, device=device, dtype=dtype),
                torch.tensor(self.arch.preview_rgb_bias, device=device, dtype=dtype),
            )
        return self._cache[key]

    def to_rgb(self, latent: torch.Tensor) -> np.ndarray:
        weight, bias = self._factors(latent.device, latent.dtype)
        rgb = torch.addmm(bias, latent[0].flatten(1).T, weight)  # (h*w, 3)
        rgb = ((rgb + 1.0) * 127.5).clamp_(0, 255).to(torch.uint8)
        return rgb.reshape(latent.shape[-2], latent.shape[-1], 3).cpu().numpy()
