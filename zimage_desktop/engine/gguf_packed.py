"""GGUF Linear weights converted once at load into PyTorch's weight-only CPU kernels (issue 28).

Measured (docs/PERFORMANCE.md, bench/gguf_linear_speed.py): on an AVX2 CPU ``_weight_int8pack_mm``
and ``_weight_int4pack_mm_for_cpu`` are fast only with bfloat16 activations (their float32 and
float16 paths are 20–60× slower), and then beat engine/gguf_fast.py's decode-per-call path at about
100 tokens (a prompt through the text encoder) but lose to it at about 300 (a 256² image's denoise
step): their cost grows with the tokens, the decode pass does not. So these kernels serve the text
encoder held on the CPU (and the prompt enhancer, which runs it a token at a time), and the
transformer keeps the fast path. Chosen by format:

- Q4_K → int4 packed levels with one (scale, zero) pair per 32 values, exactly Q4_K's groups:
  value = (level − 8)·scale + zero with scale = d·sc and zero = 8·scale − dmin·m; the pairs are
  held in bfloat16 (the kernel's dtype), which rounds them by at most 2⁻⁹ relative. 0.625 bytes a
  weight against Q4_K's 0.5625.
- Q6_K → int8 with one bfloat16 scale per row (the file's exact values requantized per row, which
  adds about half of Q6_K's own rms error). 1 byte a weight (+2 bytes a row) against 0.82. Above
  ``INT8_KERNEL_MAX_TOKENS`` tokens (a long prompt) the layer decodes its int8 levels into the
  fast path's float32 buffer and multiplies in float32, which is faster there.
- Q8_0 keeps the fast path (the kernel did not beat it, and a per-row requantization would double
  Q8_0's error); other types keep theirs.

The converted weights replace the GGUF bytes (never beside them); plan_table.CPU_HELD_GROWTH is what
that does to a Qwen3-4B file's size, which the planner counts (planner.build_table). Not on a Mac
(its CPU kernels were not measured; a Mac keeps the encoder on its GPU anyway).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .gguf_fast import DECODERS, NIBBLES, _buffer, dequantize_into, fast_type, matmul, q4_k_scales

KERNEL_DTYPE = torch.bfloat16
GROUP = 32  # Q4_K's sub-block: one (scale, zero) pair per 32 values
PACKED_TYPES = ("Q4_K", "Q6_K")
# Measured crossover (docs/PERFORMANCE.md): the int8 kernel wins at ~100 tokens, the float32 path at ~300.
INT8_KERNEL_MAX_TOKENS = 200


def exact_values(weight: Any) -> torch.Tensor:
    """The float32 values the file stores (gguf-py's reference decoding for types without a fast decoder)."""
    if fast_type(weight):
        rows = int(weight.shape[0])
        return dequantize_into(weight).view(rows, -1)
    import gguf

    raw = weight.as_tensor() if hasattr(weight, "as_tensor") else weight
    values = gguf.quants.dequantize(raw.view(torch.uint8).numpy(), weight.quant_type)
    return torch.from_numpy(values.reshape(raw.shape[0], -1).astype("float32"))


# The conversion runs once per layer at load (252 layers, 3.6 G weights for Qwen3-4B). It was
# whole-tensor operations each making a fresh 100 MB float32 tensor, whose first touch (page
# faults) cost more than the arithmetic: ~21 ns a Q6_K weight. Now every float32 step runs in place
# on a slice of rows small enough to stay in the CPU's caches, and Q4_K's nibbles are moved straight
# into the int4 kernel's layout: ~4 ns a Q6_K weight, ~2 ns a Q4_K one (docs/PERFORMANCE.md). The
# arithmetic is the same operations on the same float32 values, so the results are the old ones
# bit for bit (tests/test_gguf_pack_identity.py against devkit/pack_reference.py; bench/pack_convert_speed.py times both).
SLICE_VALUES = 1 << 19  # values per slice: 2 MiB of float32 scratch (measured best: 2^17…2^22)


def _slices(rows: int, cols: int, multiple: int = 1) -> list[tuple[int, int]]:
    step = max(multiple, SLICE_VALUES // max(1, cols) // multiple * multiple)
    return [(start, min(rows, start + step)) for start in range(0, rows, step)]


def _int8_in_slices(rows: int, cols: int, fill: Callable[[int, int, torch.Tensor], object],
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """``int8_rows`` of the float32 values that ``fill(a, b, out)`` writes for rows a…b into
    ``out`` (b − a, cols): a row's scale needs only that row, so each slice of rows is made,
    measured, divided and rounded while it is in the cache, and never held whole."""
    levels = torch.empty(rows, cols, dtype=torch.int8)
    step = torch.empty(rows, dtype=KERNEL_DTYPE)
    scratch, magnitudes = torch.empty(SLICE_VALUES + cols), torch.empty(SLICE_VALUES + cols)
    for a, b in _slices(rows, cols):
        part = scratch[: (b - a) * cols].view(b - a, cols)
        fill(a, b, part)
        peak = torch.abs(part, out=magnitudes[: (b - a) * cols].view(b - a, cols)).amax(1)
        # Rounded to bfloat16 first (a hair up, so no level passes 127), then the levels are made
        # with that rounded scale: the only loss is the int8 rounding itself.
        step[a:b] = (peak / 127 * (1 + 2**-8)).clamp_min(1e-30).to(KERNEL_DTYPE)
        part.div_(step[a:b].float()[:, None])
        torch.round(part, out=part).clamp_(-127, 127)
        levels[a:b].copy_(part)
    return levels, step


def int8_rows(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 levels, bfloat16 scale per row) for float32 ``values`` (rows, cols): level =
    round(value / scale), with the largest |value| of a row at ±127."""
    return _int8_in_slices(values.shape[0], values.shape[1], lambda a, b, out: out.copy_(values[a:b]))


def int8_pack(weight: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``int8_rows(exact_values(weight))``; for Q8_0/Q4_K/Q6_K straight from the blocks, a slice
    of rows at a time through gguf_fast's decoders (never a whole float32 copy of the layer)."""
    if not fast_type(weight):
        return int8_rows(exact_values(weight))
    raw = (weight.as_tensor() if hasattr(weight, "as_tensor") else weight).view(torch.uint8)
    rows, cols = int(getattr(weight, "quant_shape")[0]), int(getattr(weight, "quant_shape")[-1])
    raw = raw.reshape(rows, -1)
    decode = DECODERS[weight.quant_type.name]
    return _int8_in_slices(rows, cols, lambda a, b, out: decode(raw[a:b], b - a, cols, out))


def _q4_k_blocks(weight: Any) -> torch.Tensor:
    raw = (weight.as_tensor() if hasattr(weight, "as_tensor") else weight).view(torch.uint8)
    rows = int(raw.shape[0])
    return raw.reshape(rows, raw.reshape(rows, -1).shape[1] // 144, 144)


def q4_k_groups(weight: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Q4_K as (levels 0…15 as int32 (rows, cols), scale and offset per group of 32 as float32
    (rows, cols/32)): value = level·scale − offset, the file's exact values."""
    blocks = _q4_k_blocks(weight)
    rows, nb = blocks.shape[0], blocks.shape[1]
    scale, offset = q4_k_scales(blocks)
    qs = blocks[..., 16:].reshape(rows, nb, 4, 1, 32)
    levels = torch.cat([qs & 15, qs >> 4], dim=3).reshape(rows, nb * 256).to(torch.int32)
    return levels, scale, offset


# ``_convert_weight_to_int4pack_for_cpu`` lays the levels out by the CPU kernel torch picked at
# start (torch.backends.cpu.get_cpu_capability(), which ATEN_CPU_CAPABILITY can lower): per block of
# B rows, per column k, B/2 bytes, each holding two rows' levels (low nibble, high nibble):
#   AVX2:    B = 32, byte n = row n | row n + 16  (the layout this code was first written for)
#   AVX-512: B = 64, byte n = row n | row n + 32
#   DEFAULT: B = 32, byte n = row 2n | row 2n + 1 (a CPU with neither)
# Each is (B, adjacent): adjacent pairs rows 2n and 2n + 1, else n and n + B/2. Which one this torch
# uses is found once by packing a probe both ways (``int4_layout``); a layout none of these matches
# (a later torch) is left to torch's own packing, which is always right, only slower.
INT4_LAYOUTS = ((32, False), (64, False), (32, True))
_layout: list[tuple[int, bool] | None] = []


def _int4_nibbles(blocks: torch.Tensor, qs: torch.Tensor, paired: torch.Tensor, out: torch.Tensor,
                  layout: tuple[int, bool]) -> None:
    """Q4_K's levels of ``blocks`` (rows: a multiple of the layout's B) into ``out`` in
    ``_convert_weight_to_int4pack_for_cpu``'s ``layout``. A Q4_K byte holds the same column of two
    sub-blocks (low nibble: sub-block 2j, high: 2j + 1), so the two rows of each output byte are
    paired eight bytes at a time in 64-bit words (even and odd sub-blocks apart), then one byte
    transpose puts the B/2 row pairs innermost. ``qs``/``paired``: uint8 scratch of at least
    rows·nb·128 bytes each."""
    size_b, adjacent = layout
    half = size_b // 2
    rows, nb = blocks.shape[0], blocks.shape[1]
    size = rows * nb * 128
    words = qs[:size].view(rows, nb, 128).copy_(blocks[..., 16:]).view(torch.int64)
    if adjacent:  # rows 2n and 2n + 1
        pairs = words.view(rows // size_b, half, 2, -1)
        low, high = pairs[:, :, 0], pairs[:, :, 1]
    else:  # rows n and n + B/2 of each block
        pairs = words.view(rows // size_b, 2, half, -1)
        low, high = pairs[:, 0], pairs[:, 1]
    even, odd = paired[:size].view(torch.int64).view(2, rows // size_b, half, -1)
    torch.bitwise_and(low, NIBBLES, out=even).bitwise_or_(high.bitwise_and(NIBBLES).bitwise_left_shift_(4))
    torch.bitwise_right_shift(low, 4, out=odd).bitwise_and_(NIBBLES).bitwise_or_(high.bitwise_and(~NIBBLES))
    # (even/odd, row/B, pair, block, j, i) → (row/B, block, j, even/odd, i, pair): k = 256·block + 32·(2j + odd) + i
    levels = paired[:size].view(2, rows // size_b, half, nb, 4, 32).permute(1, 3, 4, 0, 5, 2)
    out.view(rows // size_b, nb, 4, 2, 32, half).copy_(levels)


def int4_layout() -> tuple[int, bool] | None:
    """The layout of ``INT4_LAYOUTS`` that this torch's packing uses here (None: none of them),
    found once by packing random Q4_K levels (128 rows, two blocks) both ways."""
    if not _layout:
        generator = torch.Generator().manual_seed(0)
        raw = torch.randint(0, 256, (128, 2 * 144), dtype=torch.uint8, generator=generator)
        blocks = raw.view(128, 2, 144)
        want = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q4_k_groups(raw)[0], 2)
        got = torch.empty_like(want)
        qs, paired = torch.empty_like(want).view(-1), torch.empty_like(want).view(-1)  # scratch of its size

        def matches(layout: tuple[int, bool]) -> bool:
            _int4_nibbles(blocks, qs, paired, got, layout)
            return torch.equal(got, want)

        _layout.append(next((layout for layout in INT4_LAYOUTS if matches(layout)), None))
    return _layout[0]


def int4_pack(weight: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(packed levels, bfloat16 scales-and-zeros (cols/32, rows, 2)) for the int4 kernel (rows: a
    multiple of 16, as the kernel's packing requires)."""
    blocks = _q4_k_blocks(weight)
    rows, nb = blocks.shape[0], blocks.shape[1]
    layout = int4_layout()
    whole = rows // layout[0] * layout[0] if layout else 0
    packed = torch.empty(rows, nb * 128, dtype=torch.uint8)
    if layout and whole:
        slices = _slices(whole, nb * 256, layout[0])
        most = max(b - a for a, b in slices) * nb * 128
        qs, paired = torch.empty(most, dtype=torch.uint8), torch.empty(most, dtype=torch.uint8)
        for a, b in slices:
            _int4_nibbles(blocks[a:b], qs, paired, packed[a:b], layout)
    if whole < rows:  # the rows left of the last whole block (or all): the kernel packs them its own way
        levels = q4_k_groups(blocks[whole:].reshape(rows - whole, -1))[0]
        packed[whole:] = torch.ops.aten._convert_weight_to_int4pack_for_cpu(levels, 2)
    scale, offset = q4_k_scales(blocks)
    pairs = torch.empty(nb * 8, rows, 2, dtype=KERNEL_DTYPE)
    pairs[..., 0].copy_(scale.t())
    pairs[..., 1].copy_((8 * scale - offset).t())
    return packed, pairs


class PackedGGUFLinear(torch.nn.Module):
    """A GGUF Linear layer whose weight was converted at load into an int8 or int4 kernel's layout
    (the GGUF bytes are dropped). CPU only: the text encoder that uses it stays on the CPU."""

    def __init__(self, in_features: int, out_features: int, kind: str, weight: torch.Tensor,
                 scales: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features, self.kind = in_features, out_features, kind
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        self.scales = torch.nn.Parameter(scales, requires_grad=False)
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach(), requires_grad=False)

    @classmethod
    def from_gguf(cls, layer: Any) -> PackedGGUFLinear:
        weight = layer.weight
        rows, cols = int(getattr(weight, "quant_shape")[0]), int(getattr(weight, "quant_shape")[-1])
        if weight.quant_type.name == "Q4_K" and cols % 256 == 0 and rows % 16 == 0:
            packed, pairs = int4_pack(weight)
            return cls(cols, rows, "int4", packed, pairs, layer.bias)
        levels, step = int8_pack(weight)  # (a Q4_K layer whose rows the int4 packing refuses: int8)
        return cls(cols, rows, "int8", levels, step, layer.bias)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.reshape(-1, self.in_features)
        if self.kind == "int8" and x.shape[0] > INT8_KERNEL_MAX_TOKENS:  # a long prompt: float32 is faster
            values = _buffer(self.weight.numel()).view(self.out_features, self.in_features)
            values.copy_(self.weight).mul_(self.scales.float()[:, None])
            out = matmul(x.float(), values, None).reshape(*inputs.shape[:-1], self.out_features)
            out = out.to(inputs.dtype)
            return out if self.bias is None else out + self.bias.to(inputs.dtype)
        x = x.to(KERNEL_DTYPE)
        if self.kind == "int4":
            out = torch.ops.aten._weight_int4pack_mm_for_cpu(x, self.weight, GROUP, self.scales)
        else:
            out = torch.ops.aten._weight_int8pack_mm(x, self.weight, self.scales)
        out = out.reshape(*inputs.shape[:-1], self.out_features).to(inputs.dtype)
        return out if self.bias is None else out + self.bias.to(inputs.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, kind={self.kind}"


def pack_for_short_inputs(model: torch.nn.Module) -> int:
    """Replace every Q4_K/Q6_K GGUF Linear of ``model`` (on the CPU) by a ``PackedGGUFLinear``
    (the GGUF bytes are let go layer by layer); returns how many. For a model that sees few tokens
    per call and stays on the CPU: the text encoder."""
    from diffusers.quantizers.gguf.utils import GGUFLinear

    def packs(module: torch.nn.Module) -> bool:
        kind = getattr(getattr(module, "weight", None), "quant_type", None)
        return isinstance(module, GGUFLinear) and kind is not None and kind.name in PACKED_TYPES \
            and module.weight.device.type == "cpu" and module.weight.shape[-1] % 2 == 0

    # Names only: a list of the modules themselves would keep every replaced layer's GGUF bytes
    # alive until the end, and the peak would hold both forms of the whole encoder (measured on the
    # full-size Q6_K encoder in the window: 10.8 GiB while loading against 8.8 after; round 34).
    names = [name for name, module in model.named_modules() if packs(module)]
    for name in names:
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child_name, PackedGGUFLinear.from_gguf(getattr(parent, child_name)))
    return len(names)


def pack_cpu_text_encoder(text_encoder: torch.nn.Module, held_on_cpu: bool) -> int:
    """``pack_for_short_inputs`` for an encoder that the plan holds on the CPU (never one that a
    GPU borrows to encode: the kernels' layout is the CPU's)."""
    if not held_on_cpu or any(p.device.type != "cpu" for p in text_encoder.parameters()):
        return 0
    return pack_for_short_inputs(text_encoder)
