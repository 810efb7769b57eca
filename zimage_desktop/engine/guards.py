"""Keep fp16 from producing black images.

Z-Image's activations overflow fp16 in a few places. On GPUs without bf16 we compute in fp16 (fast
on Turing/Volta) with ComfyUI's remedy applied through forward hooks: ±inf are clamped to ±65504
at the FFN's gated product (input of ``w2``), at the attention output and at the FFN output.
NaN is left alone: replacing it would turn a broken layer into a finite wrong picture, while a
NaN reaches the generator's check after its step and the image is made again in float32.
"""

from __future__ import annotations

import torch

FP16_MAX = 65504.0


def _clamp(tensor: torch.Tensor) -> torch.Tensor:
    return torch.clamp(tensor, -FP16_MAX, FP16_MAX)  # clamp keeps NaN as NaN


def install_fp16_guards(transformer) -> int:
    """Register the clamping hooks; returns how many modules were guarded."""
    count = 0
    for name, module in transformer.named_modules():
        if name.endswith("feed_forward.w2"):
            module.register_forward_pre_hook(lambda m, args: (_clamp(args[0]), *args[1:]))
            count += 1
        elif name.endswith("feed_forward") or name.endswith("attention.to_out.0"):
            module.register_forward_hook(lambda m, args, out: _clamp(out) if isinstance(out, torch.Tensor) else out)
            count += 1
    return count


def all_finite(tensor: torch.Tensor) -> bool:
    return bool(torch.isfinite(tensor).all())
