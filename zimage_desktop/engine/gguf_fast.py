"""GGUF Linear layers that dequantize fast on the CPU (issue 28).

diffusers' ``GGUFLinear.forward_native`` dequantizes the whole weight on every call with about a
dozen tensor operations in float16 (which x86 CPUs emulate element by element), then converts it
to the compute dtype: on a 2-core AVX2 machine that cost more than the matmul itself. PyTorch's
weight-only low-bit CPU kernels were measured as the alternative (docs/PERFORMANCE.md,
bench/gguf_linear_speed.py): with bfloat16 activations they win at ~100 tokens and fewer, so the
text encoder held on the CPU uses them (engine/gguf_packed.py), but they lose at the ~300 tokens of
a denoising step, which this path serves; holding the weights dequantized costs 2–4× the memory.
So the weights stay exactly as the file stores them (the planner's figures stay true: no byte
more is held) and each call decodes the blocks with a
few whole-tensor byte operations (nibbles and bit fields in uint8), one uint8→float32 copy and one
broadcast scale (and offset) pass, into a float32 buffer reused between calls, then runs a float32
matmul. The scales are computed in float32 (diffusers rounds them to float16), so the result is
at least as close to the file's exact values as today's.

Supported: Q8_0, Q4_K, Q6_K (the types of the published Q8_0 / Q6_K / Q4_K_M files); every other
type (and any weight not on the CPU) goes through diffusers' own path unchanged.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import torch
from diffusers.quantizers.gguf.utils import GGML_QUANT_SIZES, GGUFLinear, get_scale_min

QK_K = 256
_buffers = threading.local()


def _buffer(numel: int) -> torch.Tensor:
    """A float32 scratch of at least ``numel`` values, one per thread, grown and kept."""
    buf = getattr(_buffers, "buf", None)
    if buf is None or buf.numel() < numel:
        # A normal tensor even when first made under inference_mode: an inference tensor could not be
        # written in place by a later call made outside it (a test, a caller without the mode).
        with torch.inference_mode(False):
            _buffers.buf = buf = torch.empty(numel, dtype=torch.float32)
    return buf[:numel]


def _q8_0(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
    blocks = raw.view(rows, cols // 32, 34)
    out.view(rows, cols // 32, 32).copy_(blocks[..., 2:].view(torch.int8))
    scale = blocks[..., :2].contiguous().view(torch.float16).float()  # (rows, groups, 1)
    return out.view(rows, cols // 32, 32).mul_(scale).view(rows, cols)


def _q4_k(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
    nb = cols // QK_K
    blocks = raw.view(rows, nb, 144)
    d = blocks[..., 0:2].contiguous().view(torch.float16).float()
    dmin = blocks[..., 2:4].contiguous().view(torch.float16).float()
    sc, m = get_scale_min(blocks[..., 4:16].reshape(rows * nb, 12))
    scale = (d * sc.view(rows, nb, 8).float()).view(rows, nb * 8, 1)
    offset = (dmin * m.view(rows, nb, 8).float()).view(rows, nb * 8, 1)
    qs = blocks[..., 16:].view(rows, nb, 4, 32)
    levels = torch.empty(rows, nb, 4, 2, 32, dtype=torch.uint8)
    torch.bitwise_and(qs, 15, out=levels[..., 0, :])  # low nibbles: sub-block 2j
    torch.bitwise_right_shift(qs, 4, out=levels[..., 1, :])  # high nibbles: sub-block 2j+1
    grouped = out.view(rows, nb * 8, 32)
    grouped.copy_(levels.view(rows, nb * 8, 32))
    return grouped.mul_(scale).sub_(offset).view(rows, cols)


def q6_k_scales(blocks: torch.Tensor) -> torch.Tensor:
    """Q6_K's float32 scale per 16 values, d·scale (exact in float32), as (rows, nb * 16)."""
    rows, nb = blocks.shape[0], blocks.shape[1]
    scales = blocks[..., 192:208].view(torch.int8).float()  # (rows, nb, 16)
    d = blocks[..., 208:210].contiguous().view(torch.float16).float()
    return (d * scales).view(rows, nb * 16)


def _q6_k(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
    nb = cols // QK_K
    blocks = raw.view(rows, nb, 210)
    ql, qh = blocks[..., :128].view(rows, nb, 2, 64), blocks[..., 128:192].view(rows, nb, 2, 32)
    # Each half of a block (128 values): ql's 64 bytes give values 0–63 (low nibble) and 64–127
    # (high nibble); qh's 32 bytes give the two high bits of values 0–31, 32–63, 64–95, 96–127.
    levels = torch.empty(rows, nb, 2, 128, dtype=torch.uint8)
    by_nibble = levels.view(rows, nb, 2, 2, 64)
    torch.bitwise_and(ql, 15, out=by_nibble[..., 0, :])
    torch.bitwise_right_shift(ql, 4, out=by_nibble[..., 1, :])
    by_quarter = levels.view(rows, nb, 2, 4, 32)
    high = torch.empty_like(qh)
    for shift in range(4):
        torch.bitwise_right_shift(qh, 2 * shift, out=high)
        high.bitwise_and_(3).bitwise_left_shift_(4)
        by_quarter[..., shift, :].bitwise_or_(high)
    levels.sub_(32)  # wraps in uint8: read as int8 it is q − 32
    grouped = out.view(rows, nb * 16, 16)
    grouped.copy_(levels.view(torch.int8).view(rows, nb * 16, 16))
    return grouped.mul_(q6_k_scales(blocks).view(rows, nb * 16, 1)).view(rows, cols)


DECODERS: dict[str, Callable[[torch.Tensor, int, int, torch.Tensor], torch.Tensor]] = {
    "Q8_0": _q8_0, "Q4_K": _q4_k, "Q6_K": _q6_k}


def fast_type(weight: Any) -> bool:
    kind = getattr(weight, "quant_type", None)
    return kind is not None and kind.name in DECODERS


def dequantize_into(weight: Any, out: torch.Tensor | None = None) -> torch.Tensor:
    """The float32 values of a GGUF weight (Q8_0, Q4_K, Q6_K) in ``out`` (or a new tensor)."""
    kind = weight.quant_type
    block, size = GGML_QUANT_SIZES[kind]
    raw = weight.as_tensor() if hasattr(weight, "as_tensor") else weight
    raw = raw.view(torch.uint8)
    rows, cols = raw.shape[0], raw.shape[-1] // size * block
    if out is None:
        out = torch.empty(rows * cols, dtype=torch.float32)
    return DECODERS[kind.name](raw.reshape(rows, -1), rows, cols, out)


class FastGGUFLinear(GGUFLinear):
    """``GGUFLinear`` whose CPU forward decodes Q8_0/Q4_K/Q6_K weights with ``dequantize_into``
    into a reused float32 buffer; everything else is diffusers' own forward."""

    def forward_native(self, inputs: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if weight.device.type != "cpu" or inputs.device.type != "cpu" or not fast_type(weight):
            return super().forward_native(inputs)
        rows = int(weight.shape[0])
        values = dequantize_into(weight, _buffer(rows * int(getattr(weight, "quant_shape")[-1])))
        bias = self.bias.float() if self.bias is not None else None
        out = torch.nn.functional.linear(inputs.float(), values, bias)
        return out.to(inputs.dtype)


def speed_up(model: torch.nn.Module) -> int:
    """Make every ``GGUFLinear`` in ``model`` a ``FastGGUFLinear`` (same parameters, hooks kept);
    returns how many layers take the fast path."""
    count = 0
    for module in model.modules():
        if type(module) is GGUFLinear:
            module.__class__ = FastGGUFLinear
            count += int(fast_type(module.weight))
    return count
