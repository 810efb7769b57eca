"""Put a loaded pipeline where a MemoryPlan says, with diffusers' own mechanisms.

- FP8 storage: ``enable_layerwise_casting`` (the model's ``_skip_layerwise_casting_patterns``
  keep ``t_embedder``/``cap_embedder`` in the compute dtype). Never combined with GGUF.
- Offload "model": ``enable_model_cpu_offload`` (accelerate hooks); the text encoder is excluded
  when the plan keeps it on the CPU, because the engine encodes prompts itself.
- Offload "group": ``enable_group_offload`` at leaf level, with CUDA streams on CUDA and
  ``low_cpu_mem_usage`` (no second pinned copy of the weights). ``record_stream`` stays off
  (garbled outputs in some models, diffusers #12673).
- Offload "sequential": every component, not just the transformer, is group-offloaded at leaf
  level without prefetching: the least VRAM, the slowest. accelerate's
  ``enable_sequential_cpu_offload`` is not used: it fails with GGUF (diffusers #14691) and does
  not run with the CPU as execution device, so it could not even be tested here.
- VAE tiling in 512-pixel tiles (the default tile is the whole 1024² image).
"""

from __future__ import annotations

import torch

from ..errors import BadInputError
from .planner import MemoryPlan

VAE_TILE_PIXELS = 512


def apply_plan(pipe, plan: MemoryPlan, device: torch.device, storage_form: str) -> None:
    """``storage_form`` is the loaded transformer file's form ("bf16", "fp8" or a GGUF form)."""
    compute = getattr(torch, plan.compute_dtype)
    gguf = storage_form not in ("bf16", "fp8")
    if plan.transformer_form == "fp8" or storage_form == "fp8":
        if gguf:
            raise BadInputError("FP8 storage cannot be combined with a GGUF transformer.")
        pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute)
    if plan.vae_tiling:
        vae = pipe.vae
        vae.enable_tiling()
        vae.tile_sample_min_size = VAE_TILE_PIXELS
        vae.tile_latent_min_size = VAE_TILE_PIXELS // 8
    if plan.vae_slicing:
        pipe.vae.enable_slicing()

    te_on_cpu = plan.text_encoder == "cpu"
    if plan.offload == "none":
        pipe.transformer.to(device)
        pipe.vae.to(device)
        pipe.text_encoder.to(torch.device("cpu") if te_on_cpu else device)
    elif plan.offload == "model":
        pipe._exclude_from_cpu_offload = ["text_encoder"] if te_on_cpu else []
        pipe.enable_model_cpu_offload(device=device)
    elif plan.offload in ("group", "sequential"):
        streams = plan.offload == "group" and device.type == "cuda"
        offloaded = [pipe.transformer] if plan.offload == "group" else [pipe.transformer, pipe.vae]
        for model in offloaded:
            model.enable_group_offload(
                onload_device=device, offload_device=torch.device("cpu"), offload_type="leaf_level",
                use_stream=streams, low_cpu_mem_usage=True,
            )
        if plan.offload == "group":
            pipe.vae.to(device)
        pipe.text_encoder.to(torch.device("cpu") if te_on_cpu else device)
    else:
        raise BadInputError(f"Unknown offload mode {plan.offload!r}.")
