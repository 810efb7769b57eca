"""GGUF Linear layers that dequantize fast on the CPU (issue 28).

diffusers' ``GGUFLinear.forward_native`` dequantizes the whole weight on every call with about a
dozen tensor operations in float16 (which x86 CPUs emulate element by element), then converts it
to the compute dtype: on a 2-core AVX2 machine that cost more than the matmul itself. PyTorch's
weight-only low-bit CPU kernels were measured as the alternative (docs/PERFORMANCE.md,
bench/gguf_linear_speed.py): with bfloat16 activations they win at ~100 tokens and fewer, so the
text encoder held on the CPU uses them (engine/gguf_packed.py), but they lose at the ~300 tokens of
a denoising step, which this path serves; holding the weights dequantized costs 2–4× the memory.
So the weights stay exactly as the file stores them (the planner's figures stay true: no byte
of weights more is held) and each call decodes the blocks a slice of rows at a time (nibbles and
bit fields split eight bytes at a time in 64-bit words, on per-thread byte scratch of about 7 MiB
that stays in the caches), with one uint8→float32 copy and one broadcast scale (and offset) pass,
into a float32 buffer reused between calls, then runs a float32 matmul (oneDNN's where it was
measured faster than MKL's; a few tokens: a slice of rows at a time, in the cache). The scales are computed
in float32 (diffusers rounds them to float16), so the result is at least as close to the file's
exact values as today's.

Supported: Q8_0, Q4_K, Q6_K (the types of the published Q8_0 / Q6_K / Q4_K_M files); every other
type (and any weight not on the CPU) goes through diffusers' own path unchanged.
"""

from __future__ import annotations

import platform
import threading
from typing import Any, Callable

import torch
from diffusers.quantizers.gguf.utils import GGML_QUANT_SIZES, GGUFLinear

from .oom import is_out_of_memory

QK_K = 256
_local = threading.local()
# Values decoded per slice of rows (8 MiB of float32): each slice's byte work runs on scratch that
# stays in the CPU's caches, and no fresh memory is touched per call (docs/PERFORMANCE.md, round 36:
# whole-tensor decoding into fresh uint8 tensors spent most of its time on page faults and strided
# byte operations; 2^20–2^22 measured alike, 2^19 slower).
DECODE_SLICE_VALUES = 1 << 21
# At most this many tokens a call, a layer multiplies a slice at a time (_linear_in_slices): measured
# faster at 30 tokens (0.7–0.9× the time), not at 100 (bench/fast_decode_speed.py).
SHORT_INPUT_TOKENS = 64
NIBBLES, TWO_BITS = 0x0F0F0F0F0F0F0F0F, 0x0303030303030303  # a mask in each byte of a 64-bit word


def _scratch(name: str, numel: int, dtype: torch.dtype) -> torch.Tensor:
    """A scratch tensor of at least ``numel`` values, one per name and thread, grown and kept."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        _local.pool = pool = {}
    buf = pool.get(name)
    if buf is None or buf.numel() < numel:
        # A normal tensor even when first made under inference_mode: an inference tensor could not be
        # written in place by a later call made outside it (a test, a caller without the mode).
        with torch.inference_mode(False):
            pool[name] = buf = torch.empty(numel, dtype=dtype)
    return buf[:numel]


def _buffer(numel: int) -> torch.Tensor:
    """A float32 scratch of at least ``numel`` values, one per thread, grown and kept."""
    return _scratch("values", numel, torch.float32)


def _in_slices(slice_fn: Callable[[torch.Tensor, torch.Tensor], None], block_bytes: int,
               ) -> Callable[[torch.Tensor, int, int, torch.Tensor], torch.Tensor]:
    """A decoder (raw, rows, cols, out) → out (rows, cols) that runs ``slice_fn(blocks, out)`` on
    slices of rows of at most ``DECODE_SLICE_VALUES`` values."""
    def decode(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
        blocks = raw.reshape(rows, cols // QK_K, block_bytes)
        values = out.view(rows, cols)
        step = max(1, DECODE_SLICE_VALUES // cols)
        for start in range(0, rows, step):
            slice_fn(blocks[start:start + step], values[start:start + step])
        return values
    return decode


def _q8_0(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
    blocks = raw.view(rows, cols // 32, 34)
    out.view(rows, cols // 32, 32).copy_(blocks[..., 2:].view(torch.int8))
    scale = blocks[..., :2].contiguous().view(torch.float16).float()  # (rows, groups, 1)
    return out.view(rows, cols // 32, 32).mul_(scale).view(rows, cols)


def q4_k_scales(blocks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Q4_K's float32 scale and offset per 32 values (rows, nb * 8), exactly as diffusers' decoding
    makes them: d·sc and dmin·m, with ``get_scale_min``'s 6-bit fields taken four at a time from
    32-bit words (its d, m, m_d are the three words after d and dmin)."""
    rows, nb = blocks.shape[0], blocks.shape[1]
    head = blocks[..., :16].contiguous()  # d, dmin (float16), then 12 bytes of 6-bit fields
    d, dmin = head[..., :4].view(torch.float16).float().split(1, dim=-1)
    words = head[..., 4:].view(torch.int32)
    low, mins, high = words[..., 0], words[..., 1], words[..., 2]
    fields = torch.empty(2, rows, nb, 2, dtype=torch.int32)  # (scales, mins) × (fields 0–3, 4–7)
    torch.bitwise_and(low, 0x3F3F3F3F, out=fields[0, ..., 0])
    torch.bitwise_and(high, 0x0F0F0F0F, out=fields[0, ..., 1]).bitwise_or_((low >> 2).bitwise_and_(0x30303030))
    torch.bitwise_and(mins, 0x3F3F3F3F, out=fields[1, ..., 0])
    torch.bitwise_right_shift(high, 4, out=fields[1, ..., 1]).bitwise_and_(0x0F0F0F0F)
    fields[1, ..., 1].bitwise_or_((mins >> 2).bitwise_and_(0x30303030))
    sc, m = fields.view(torch.uint8).view(2, rows, nb, 8).float()
    return sc.mul_(d).view(rows, nb * 8), m.mul_(dmin).view(rows, nb * 8)


def _q4_k_slice(blocks: torch.Tensor, out: torch.Tensor) -> None:
    """Q4_K: byte j of sub-block pair p holds value j of sub-block 2p (low nibble) and of 2p + 1
    (high nibble); both nibbles are split eight bytes at a time in 64-bit words."""
    rows, nb = blocks.shape[0], blocks.shape[1]
    scale, offset = q4_k_scales(blocks)
    qs = _scratch("q4_k.qs", rows * nb * 128, torch.uint8).view(rows, nb, 128).copy_(blocks[..., 16:])
    words = qs.view(torch.int64).view(rows, nb, 4, 1, 4)
    levels = _scratch("levels", rows * nb * 256, torch.uint8).view(torch.int64).view(rows, nb, 4, 2, 4)
    torch.bitwise_and(words, NIBBLES, out=levels[..., 0:1, :])
    torch.bitwise_right_shift(words, 4, out=levels[..., 1:2, :]).bitwise_and_(NIBBLES)
    grouped = out.view(rows, nb * 8, 32)
    grouped.copy_(levels.view(torch.uint8).view(rows, nb * 8, 32))
    grouped.mul_(scale[..., None]).sub_(offset[..., None])


def q6_k_scales(blocks: torch.Tensor) -> torch.Tensor:
    """Q6_K's float32 scale per 16 values, d·scale (exact in float32), as (rows, nb * 16)."""
    rows, nb = blocks.shape[0], blocks.shape[1]
    scales = blocks[..., 192:208].view(torch.int8).float()  # (rows, nb, 16)
    d = blocks[..., 208:210].contiguous().view(torch.float16).float()
    return (d * scales).view(rows, nb * 16)


def _q6_k_levels(blocks: torch.Tensor, ql: torch.Tensor, qh: torch.Tensor, out: torch.Tensor,
                 high: torch.Tensor) -> None:
    """Q6_K's levels 0…63 (q + 32) of ``blocks`` (rows, nb, 210) into ``out`` (uint8), eight at a
    time in 64-bit words (the bit fields never cross a byte). ``ql``/``qh``/``high``: uint8 scratch
    of at least a half, a quarter and all of the values. Each
    half of a block (128 values): ql's 64 bytes give values 0–63 (low nibble) and 64–127 (high
    nibble); qh's 32 bytes give the two high bits of values 0–31, 32–63, 64–95, 96–127."""
    rows, nb = blocks.shape[0], blocks.shape[1]
    halves = rows * nb * 2
    low = ql[: rows * nb * 128].view(rows, nb, 128).copy_(blocks[..., :128]).view(torch.int64).view(halves, 2, 4)
    top = qh[: rows * nb * 64].view(rows, nb, 64).copy_(blocks[..., 128:192]).view(torch.int64).view(halves, 1, 4)
    levels = out.view(torch.int64).view(halves, 2, 2, 4)  # (half, nibble, 32 values, word)
    torch.bitwise_and(low, NIBBLES, out=levels[:, 0])
    torch.bitwise_right_shift(low, 4, out=levels[:, 1]).bitwise_and_(NIBBLES)
    # quarter s: bits 2s, 2s+1 of qh to bits 4, 5
    bits = high[: halves * 128].view(torch.int64).view(halves, 4, 4)
    for quarter, shift in enumerate((4, 2, 0)):
        torch.bitwise_left_shift(top, shift, out=bits[:, quarter:quarter + 1])
    torch.bitwise_right_shift(top, 2, out=bits[:, 3:])
    levels.view(halves, 4, 4).bitwise_or_(bits.bitwise_and_(TWO_BITS << 4))


def _q6_k_slice(blocks: torch.Tensor, out: torch.Tensor) -> None:
    rows, nb = blocks.shape[0], blocks.shape[1]
    values = rows * nb * QK_K
    levels = _scratch("levels", values, torch.uint8)
    _q6_k_levels(blocks, _scratch("q6_k.ql", values // 2, torch.uint8), _scratch("q6_k.qh", values // 4, torch.uint8),
                 levels, _scratch("q6_k.high", values, torch.uint8))
    levels.sub_(32)  # wraps in uint8: read as int8 it is q − 32
    grouped = out.view(rows, nb * 16, 16)
    grouped.copy_(levels.view(torch.int8).view(rows, nb * 16, 16))
    grouped.mul_(q6_k_scales(blocks).view(rows, nb * 16, 1))


_q4_k = _in_slices(_q4_k_slice, 144)
_q6_k = _in_slices(_q6_k_slice, 210)


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


# oneDNN's float32 matmul against MKL's (what F.linear calls on the CPU), at Z-Image's and
# Qwen3-4B's shapes (bench/matmul_speed.py, docs/PERFORMANCE.md rounds 36 and 37), time oneDNN / MKL:
# - a 2-core AMD EPYC with AVX2: 0.35–0.66 at a prompt's 30 tokens, 0.78–0.95 at a 256² step's 320,
#   0.95–1.11 at a 512² step's 1 056 (so F.linear stays there);
# - a 2-core AMD EPYC with AVX-512: 0.45–0.66 at 30, 0.71–0.87 at 320, 0.85–0.88 at 1 056, 0.84–0.93
#   at 2 112 and 4 160 (a 1024² step): faster at every count measured.
# So the limit follows the CPU kernel torch picked (AVX-512 or not); CPUs not measured take AVX2's.
ONEDNN_MAX_TOKENS = 512
ONEDNN_MAX_TOKENS_AVX512 = 1 << 30
_onednn: list[int] = []  # [] not yet known; [n] use it up to n tokens a call; [0] not on this machine or torch


def _onednn_limit() -> int:
    """Up to how many tokens a call oneDNN's matmul is used (0: never)."""
    if not _onednn:
        machine = platform.machine().lower() in ("x86_64", "amd64")  # measured there only
        try:
            found = machine and bool(torch.backends.mkldnn.is_available()) \
                and hasattr(torch.ops.mkldnn, "_linear_pointwise")
            wide = found and torch.backends.cpu.get_cpu_capability() == "AVX512"
        except (AttributeError, RuntimeError):
            found = wide = False
        _onednn.append(ONEDNN_MAX_TOKENS_AVX512 if wide else ONEDNN_MAX_TOKENS if found else 0)
    return _onednn[0]


def matmul(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``x @ weight.T + bias`` in float32 (x: 2-D): oneDNN's matmul where it was measured faster,
    else F.linear. The same products summed in another order: float32 rounding apart."""
    if x.shape[0] <= _onednn_limit():
        try:
            return torch.ops.mkldnn._linear_pointwise(x.contiguous(), weight, bias, "none", [], "")
        except RuntimeError as exc:  # a torch whose op refuses these arguments: F.linear from now on
            if is_out_of_memory(exc):  # not the op's fault: the engine's recovery handles it
                raise
            _onednn[0] = 0
    return torch.nn.functional.linear(x, weight, bias)


class FastGGUFLinear(GGUFLinear):
    """``GGUFLinear`` whose CPU forward decodes Q8_0/Q4_K/Q6_K weights with ``dequantize_into``
    into a reused float32 buffer; everything else is diffusers' own forward."""

    def forward_native(self, inputs: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if weight.device.type != "cpu" or inputs.device.type != "cpu" or not fast_type(weight):
            return super().forward_native(inputs)
        rows, cols = int(weight.shape[0]), int(getattr(weight, "quant_shape")[-1])
        bias = self.bias.float() if self.bias is not None else None
        x = inputs.float()
        if x.numel() // cols <= SHORT_INPUT_TOKENS:
            out = _linear_in_slices(x.reshape(-1, cols), weight, rows, cols, bias)
            return out.reshape(*inputs.shape[:-1], rows).to(inputs.dtype)
        values = dequantize_into(weight, _buffer(rows * cols))
        out = matmul(x.reshape(-1, cols), values, bias)
        return out.reshape(*inputs.shape[:-1], rows).to(inputs.dtype)


def _linear_in_slices(x: torch.Tensor, weight: Any, rows: int, cols: int, bias: torch.Tensor | None) -> torch.Tensor:
    """``x @ W.T + bias`` a slice of W's rows at a time, each slice multiplied while its decoded
    values are still in the cache: for a few tokens (a prompt through the text encoder) the matmul
    only streams the weight, and reading it back from memory as float32 cost more than decoding it."""
    raw = (weight.as_tensor() if hasattr(weight, "as_tensor") else weight).view(torch.uint8).reshape(rows, -1)
    decode = DECODERS[weight.quant_type.name]
    step = max(1, DECODE_SLICE_VALUES // cols)
    values = _buffer(min(rows, step) * cols)
    out = torch.empty(x.shape[0], rows)
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        part = decode(raw[start:stop], stop - start, cols, values[: (stop - start) * cols])
        out[:, start:stop] = matmul(x, part, None if bias is None else bias[start:stop])
    return out


def speed_up(model: torch.nn.Module) -> int:
    """Make every ``GGUFLinear`` in ``model`` a ``FastGGUFLinear`` (same parameters, hooks kept);
    returns how many layers take the fast path."""
    count = 0
    for module in model.modules():
        if type(module) is GGUFLinear:
            module.__class__ = FastGGUFLinear
            count += int(fast_type(module.weight))
    return count
