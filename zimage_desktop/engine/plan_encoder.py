"""Where a plan's text encoder runs on Apple Silicon, and the dtype it is held and computed in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from .devices import GpuInfo, MachineInfo
from .form_components import GIB
from .plan_table import profile_peaks

if TYPE_CHECKING:
    from .planner import Profile

# macOS lets Metal use about this share of RAM (recommendedMaxWorkingSetSize).
MPS_GPU_SHARE = 0.7


def mps_encoder(machine: MachineInfo, profile: Profile, form: str, dtype: str, te_form: str,
                 sizes: Mapping[str, float] | None, lora_gib: float) -> tuple[str, str, tuple[float, ...]]:
    """(where the text encoder runs, why, (GPU share, limit) when forced off) on Apple Silicon: on
    the GPU — unified memory, so the CPU would hold the same bytes and only run slower — unless the
    GPU's share (transformer, encoder, activations) would pass what macOS lets Metal use; then on
    the CPU. (ui/plan_text.py says the same in the user's language.)"""
    if machine.total_ram:
        vram, _ = profile_peaks(profile, form, dtype, "device", te_form, "none", sizes, lora_gib=lora_gib)
        limit = machine.total_ram / GIB * MPS_GPU_SHARE
        if vram > limit:
            return "cpu", (f"the GPU's share with it would be {vram:.1f} GiB, over the "
                           f"{limit:.1f} GiB macOS lets the GPU use"), (round(vram, 1), round(limit, 1))
    return "device", "unified memory: on the CPU it would take the same memory and run slower", ()


def text_encoder_dtype(gpu: GpuInfo | None, device: str, te: str, dtype: str, te_form: str) -> str:
    """The dtype the text encoder is held and computed in (placement.component_dtypes)."""
    if te == "cpu" or device == "cpu":
        # bf16 weights stay bf16 there (float32 would take 15 GiB); a GGUF encoder's weights stay
        # quantized whatever this is, and float32 is fast on every CPU.
        return "bfloat16" if te_form == "bf16" else "float32"
    if dtype != "float32":
        return dtype
    # fp32 compute (an overflow retry, or a GPU without fast fp16): the encoder stays 16-bit.
    return "float16" if gpu is not None and not gpu.bf16 else "bfloat16"
