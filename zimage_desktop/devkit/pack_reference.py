"""The GGUF → int8/int4 kernel conversion as it was before it was made fast (round 33, issue 28),
kept unchanged as the reference that engine/gguf_packed.py must match bit for bit
(tests/test_gguf_pack_identity.py) and as the baseline of bench/pack_convert_speed.py.

Do not "improve" this file: its worth is that it is the old algorithm, whole-tensor operations
in float32 with a fresh tensor per step (about 21 ns a weight for Q6_K on one thread).
"""

from __future__ import annotations

from typing import Any

import torch

# The decoding of the file's values is not what changed: the engine's own is used.
from ..engine.gguf_packed import exact_values

KERNEL_DTYPE = torch.bfloat16


def int8_rows(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    step = (values.abs().amax(1) / 127 * (1 + 2**-8)).clamp_min(1e-30).to(KERNEL_DTYPE)
    levels = torch.round(values / step.float()[:, None]).clamp_(-127, 127).to(torch.int8)
    return levels, step


def q4_k_groups(weight: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from diffusers.quantizers.gguf.utils import get_scale_min

    raw = (weight.as_tensor() if hasattr(weight, "as_tensor") else weight).view(torch.uint8)
    rows = int(raw.shape[0])
    nb = raw.reshape(rows, -1).shape[1] // 144
    blocks = raw.reshape(rows, nb, 144)
    d = blocks[..., 0:2].contiguous().view(torch.float16).float()
    dmin = blocks[..., 2:4].contiguous().view(torch.float16).float()
    sc, m = get_scale_min(blocks[..., 4:16].reshape(rows * nb, 12))
    scale = (d * sc.view(rows, nb, 8).float()).reshape(rows, nb * 8)
    offset = (dmin * m.view(rows, nb, 8).float()).reshape(rows, nb * 8)
    qs = blocks[..., 16:].reshape(rows, nb, 4, 1, 32)
    levels = torch.cat([qs & 15, qs >> 4], dim=3).reshape(rows, nb * 256).to(torch.int32)
    return levels, scale, offset


def int4_pack(weight: Any) -> tuple[torch.Tensor, torch.Tensor]:
    levels, scale, offset = q4_k_groups(weight)
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(levels, 2)
    pairs = torch.stack([scale.t(), (8 * scale - offset).t()], -1).contiguous().to(KERNEL_DTYPE)
    return packed, pairs


def convert(weight: Any) -> tuple[str, torch.Tensor, torch.Tensor]:
    """(kind, weight tensor, scales) exactly as ``PackedGGUFLinear.from_gguf`` made them."""
    if weight.quant_type.name == "Q4_K" and int(getattr(weight, "quant_shape")[-1]) % 256 == 0:
        packed, pairs = int4_pack(weight)
        return "int4", packed, pairs
    levels, step = int8_rows(exact_values(weight))
    return "int8", levels, step
