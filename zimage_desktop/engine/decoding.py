"""Latents to pixels: the pipeline's own VAE decode, done by the generator itself so a cancelled
run skips it, with the VAE's own float32 retry when it (and not the transformer) overflows."""

from __future__ import annotations

import logging

import torch

from ..messages import msg
from .guards import all_finite
from .pixels import unit_pixels

log = logging.getLogger(__name__)


class NonFinite(Exception):
    """Latents (or the decoded picture) went NaN/inf at ``step`` (0: in decoding)."""

    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step


def decode_unit(pipe, latents: torch.Tensor, notes: list[str]) -> torch.Tensor:
    """The decoded picture in [0, 1] float32 (1×3×H×W), before any rounding. A retry in float32 adds
    its sentence to ``notes``; a picture that stays non-finite raises NonFinite(0)."""
    vae = pipe.vae
    latents = latents / vae.config.scaling_factor + vae.config.shift_factor
    with torch.inference_mode():
        decoded = vae.decode(latents.to(vae.dtype), return_dict=False)[0]
    if not all_finite(decoded) and vae.dtype != torch.float32 and all_finite(latents):
        # The VAE overflowed, not the transformer: only the VAE goes to float32 (0.3 GB), and
        # only it stays there; the transformer keeps its dtype.
        log.warning("non-finite VAE output in %s; decoding again in float32", vae.dtype)
        notes.append(msg("generator.vae_overflowed", "The VAE overflowed in {dtype}; decoded again "
                         "in float32.", dtype=str(vae.dtype).replace("torch.", "")))
        vae.to(torch.float32)
        with torch.inference_mode():
            decoded = vae.decode(latents.to(torch.float32), return_dict=False)[0]
    if not all_finite(decoded):
        raise NonFinite(0)
    pipe.maybe_free_model_hooks()
    return unit_pixels(decoded)
