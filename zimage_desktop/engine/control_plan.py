"""Where the ControlNet Union's own weights go under a MemoryPlan — a pure function, like the
planner it extends (the Union file is 3.1 GB for 1.0, 6.7 GB for 2.x in bf16).

- "resident": on the plan's device in the compute dtype, when the profile's budget has room for
  it beside the plan's predicted peak (and always on the CPU, where there is no budget);
- "fp8": kept in float8_e4m3fn and cast per layer as it runs (diffusers' layerwise casting, as
  the FP8 transformer), half the size, when only that fits (CUDA only);
- "offload": streamed block by block from the CPU (diffusers' group offload) on small cards.
Shared modules (embedders, refiners) stay where the transformer's plan put them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import msg
from .planner import GIB, PROFILES, MemoryPlan

MARGIN_GIB = 0.5  # hints and the control context's activations at 1024²


@dataclass(frozen=True)
class ControlPlacement:
    where: str  # "resident" | "fp8" | "offload"
    vram_gib: float  # what the ControlNet adds to the plan's peak on the GPU
    explanation: str


def place_controlnet(plan: MemoryPlan, file_bytes: int) -> ControlPlacement:
    """``file_bytes``: the (bf16) file's size. The room is the profile's budget less the plan's
    predicted peak."""
    gib = file_bytes / GIB * (2.0 if plan.compute_dtype == "float32" else 1.0)
    if plan.device == "cpu":
        return ControlPlacement("resident", 0.0, msg("control_plan.cpu", "The ControlNet runs on the CPU "
                                                     "({gib:.1f} GB of RAM).", gib=gib))
    budget = PROFILES[plan.profile].budget_gib if plan.profile in PROFILES else 0.0
    room = budget - plan.predicted_vram_gib - MARGIN_GIB
    if gib <= room:
        return ControlPlacement("resident", gib, msg("control_plan.resident", "The ControlNet stays on the GPU "
                                                     "({gib:.1f} GB).", gib=gib))
    if plan.device == "cuda" and gib / 2 <= room:
        return ControlPlacement("fp8", gib / 2, msg("control_plan.fp8", "The ControlNet is kept in FP8 on the GPU "
                                                    "({gib:.1f} GB) to fit beside the model.", gib=gib / 2))
    return ControlPlacement("offload", MARGIN_GIB, msg("control_plan.offload", "The ControlNet is streamed from system "
                                                       "memory block by block: slower, but it fits."))
