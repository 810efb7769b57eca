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

from typing import Any

import torch

from .gguf_fast import _buffer, dequantize_into, fast_type

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


def int8_rows(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 levels, bfloat16 scale per row) for float32 ``values`` (rows, cols). The scale is
    rounded to bfloat16 first (a hair up, so no level passes 127), then the levels are made with
    that rounded scale: the only loss is the int8 rounding itself."""
    step = (values.abs().amax(1) / 127 * (1 + 2**-8)).clamp_min(1e-30).to(KERNEL_DTYPE)
    levels = torch.round(values / step.float()[:, None]).clamp_(-127, 127).to(torch.int8)
    return levels, step


def q4_k_groups(weight: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Q4_K as (levels 0…15 as int32 (rows, cols), scale and offset per group of 32 as float32
    (rows, cols/32)): value = level·scale − offset, the file's exact values."""
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
    """(packed levels, bfloat16 scales-and-zeros (cols/32, rows, 2)) for the int4 kernel."""
    levels, scale, offset = q4_k_groups(weight)
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(levels, 2)
    pairs = torch.stack([scale.t(), (8 * scale - offset).t()], -1).contiguous().to(KERNEL_DTYPE)
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
        if weight.quant_type.name == "Q4_K" and cols % 256 == 0:
            packed, pairs = int4_pack(weight)
            return cls(cols, rows, "int4", packed, pairs, layer.bias)
        levels, step = int8_rows(exact_values(weight))
        return cls(cols, rows, "int8", levels, step, layer.bias)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.reshape(-1, self.in_features)
        if self.kind == "int8" and x.shape[0] > INT8_KERNEL_MAX_TOKENS:  # a long prompt: float32 is faster
            values = _buffer(self.weight.numel()).view(self.out_features, self.in_features)
            values.copy_(self.weight).mul_(self.scales.float()[:, None])
            out = torch.nn.functional.linear(x.float(), values).reshape(*inputs.shape[:-1], self.out_features)
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

    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            kind = getattr(getattr(child, "weight", None), "quant_type", None)
            if isinstance(child, GGUFLinear) and kind is not None and kind.name in PACKED_TYPES \
                    and child.weight.device.type == "cpu" and child.weight.shape[-1] % 2 == 0:
                setattr(parent, name, PackedGGUFLinear.from_gguf(child))
                count += 1
    return count


def pack_cpu_text_encoder(text_encoder: torch.nn.Module, held_on_cpu: bool) -> int:
    """``pack_for_short_inputs`` for an encoder that the plan holds on the CPU (never one that a
    GPU borrows to encode: the kernels' layout is the CPU's)."""
    if not held_on_cpu or any(p.device.type != "cpu" for p in text_encoder.parameters()):
        return 0
    return pack_for_short_inputs(text_encoder)
