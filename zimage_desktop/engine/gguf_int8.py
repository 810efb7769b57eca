"""The transformer's GGUF Linear layers as int8 × int8 products on the CPU (issue 28, opt-in).

engine/gguf_fast.py decodes a GGUF weight per call into float32 and runs a float32 matmul; at the
~300 tokens of a 256² denoising step the weight-only kernels of engine/gguf_packed.py lose to it.
stable-diffusion.cpp multiplies quantized weights by quantized activations instead. PyTorch's
equivalent on an AVX2 CPU (measured by bench/int8_linear_speed.py, docs/PERFORMANCE.md):

- ``torch._int_mm`` on the CPU: a reference loop (minutes per layer), useless;
- ``quantized::linear_dynamic`` (FBGEMM, per-channel weights): fast, but it quantizes the
  activations with ONE scale per call, so a single loud token costs every other token its
  precision, and its weights are quantized-dtype tensors whose creation prints a deprecation
  warning in torch 2.13;
- ``onednn::qlinear_pointwise`` (what PyTorch's own x86 int8 inference lowers to): plain int8 /
  uint8 tensors (no deprecated dtype, no warning), one float32 scale per output channel, float32
  output. Chosen. Its activation scale is one per call too, so we quantize each token with its own
  scale, hand the kernel a scale of 1 and multiply each output row by its token's scale afterwards
  (exact: the kernel's result is linear in the activation scale). Activations use 7 bits
  (levels −63…63 around a zero point of 64): an AVX2 CPU without VNNI sums pairs of u8·s8 products
  in int16 (``vpmaddubsw``), which saturates above 32 767 with 8-bit activations (measured: the
  largest error doubles); 7 bits can never saturate (2·127·127 < 32 767).

The weight: the file's exact float32 values requantized to int8 with one scale per row, converted
one layer at a time through a few MiB of scratch (engine/gguf_packed._int8_in_slices), the GGUF
bytes let go as each layer is done. 1 byte a weight (+4 a row): more than Q4_K's 0.5625 or Q6_K's
0.82 (the residency table counts it: plan_table.INT8_HELD_GROWTH). The picture changes (the file's
values are no longer what is multiplied), so this runs only where the plan asks (``cpu_int8``).
"""

from __future__ import annotations

import platform
from typing import Any, Callable

import torch

from .gguf_fast import fast_type
from .gguf_packed import int8_pack
from .host_memory import return_freed_memory

ACT_LEVELS = 63  # 7-bit activations: no int16 saturation on CPUs without VNNI
ACT_ZERO = 64
# diffusers' timestep embedder reads its first layer's ``weight.dtype``; it multiplies one token a
# step (nothing to gain), so it keeps the fast path.
KEEP = ("t_embedder.",)
TRIM_EVERY = 8  # layers converted between two returns of freed memory to the system (host_memory)


def available() -> bool:
    """Whether this machine has oneDNN's quantized linear: an x86 CPU (measured there only; ARM's
    oneDNN int8 path was not) and a torch built with mkldnn."""
    if platform.machine().lower() not in ("x86_64", "amd64", "x86", "i686"):
        return False
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.onednn, "qlinear_pointwise")
    except (AttributeError, RuntimeError):
        return False


def int8_weight(weight: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 levels (rows, cols), float32 scale per row) of a Q8_0/Q4_K/Q6_K GGUF weight: the
    file's exact values (gguf_fast's decoders) requantized per row, made a slice of rows at a
    time (never a whole float32 copy of the layer)."""
    levels, step = int8_pack(weight)
    return levels, step.float()


class Int8Linear(torch.nn.Module):
    """A Linear layer held as oneDNN-prepacked int8 weights with one float32 scale per output
    channel; each call quantizes its tokens to 7 bits, one scale per token. CPU only."""

    def __init__(self, levels: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        self.out_features, self.in_features = int(levels.shape[0]), int(levels.shape[1])
        # The prepacked tensor replaces the plain levels (oneDNN's blocked layout, 1 byte a weight).
        self.register_buffer("packed", torch.ops.onednn.qlinear_prepack(levels, None), persistent=False)
        self.register_buffer("scales", scales.float().contiguous(), persistent=False)
        self.register_buffer("zeros", torch.zeros(self.out_features, dtype=torch.int32), persistent=False)
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().float(), requires_grad=False)

    @classmethod
    def from_gguf(cls, layer: Any) -> Int8Linear:
        levels, scales = int8_weight(layer.weight)
        return cls(levels, scales, layer.bias)

    def held_bytes(self) -> int:
        return self.out_features * self.in_features + self.out_features * 8

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.reshape(-1, self.in_features).float()
        step = x.abs().amax(1, keepdim=True).clamp_min_(1e-30).div_(ACT_LEVELS)
        q = torch.div(x, step).round_().add_(ACT_ZERO).to(torch.uint8)
        out = torch.ops.onednn.qlinear_pointwise(q, 1.0, ACT_ZERO, self.packed, self.scales, self.zeros, None,
                                                 1.0, 0, torch.float32, "none", [], "")
        out.mul_(step)
        if self.bias is not None:
            out.add_(self.bias)
        return out.reshape(*inputs.shape[:-1], self.out_features).to(inputs.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def convert_to_int8(model: torch.nn.Module, on_layer: Callable[[int, int], None] | None = None) -> int:
    """Replace every Q8_0/Q4_K/Q6_K GGUF Linear of ``model`` on the CPU by an ``Int8Linear``, one
    layer at a time (each layer's GGUF bytes are let go before the next is converted); returns how
    many. Other layers (other types, a GPU) are left as they are. ``on_layer(done, total)`` is
    called after each layer (progress while loading)."""
    from diffusers.quantizers.gguf.utils import GGUFLinear

    # Names, not modules, are collected first: a list of the old layers would keep every layer's
    # GGUF bytes alive until the end, holding both forms of the whole model at once.
    names = [name for name, module in model.named_modules()
             if isinstance(module, GGUFLinear) and fast_type(module.weight) and module.weight.device.type == "cpu"
             and not name.startswith(KEEP)]
    # One thread: the conversion's operations are small slices (a few MiB), where a second OpenMP
    # thread only waits; measured on the 2-core machine under load, 2 threads took 7-10× the wall
    # time of 1 per 10240×3840 layer (0.27-0.38 s against 1.7-4.2 s: docs/PERFORMANCE.md).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for done, name in enumerate(names, 1):
            parent_name, _, child_name = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            setattr(parent, child_name, Int8Linear.from_gguf(getattr(parent, child_name)))
            if done % TRIM_EVERY == 0:
                # The GGUF bytes let go are smaller than the int8 layers that follow, so the heap
                # cannot reuse them; handing them back keeps the load's peak at what is held
                # (full size, round 34: 10.08 and 11.13 GiB in two runs without, 9.98 with).
                return_freed_memory()
            if on_layer is not None:
                on_layer(done, len(names))
    finally:
        torch.set_num_threads(threads)
    return len(names)
