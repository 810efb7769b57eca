"""The residency table of one request: the plan's table (engine/planner.py ``build_table``) with what
the request adds — the edit phase, a LoRA set (hooks, or merged with its backup), a ControlNet — so
that each image's predicted peak, the edit figures and the display are sums over the same rows that
placement follows. Pure, no torch.

- An edit (img2img, inpaint, outpaint) and a control image both run "vae-encode": the VAE row lists it.
- A LoRA set: ``residency_rows.lora_components`` (hooks: a device copy of the matrices placed as the
  transformer is; merged: the originals' backup where ``lora_plan`` put it).
- A ControlNet: ``residency_rows.controlnet_component`` as ``control_plan.place_controlnet`` placed it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .residency import Component, Residency
from .residency_rows import controlnet_component, lora_components

if TYPE_CHECKING:
    from .planner import MemoryPlan


@dataclass(frozen=True)
class RequestParts:
    """What a request adds to its plan's table."""

    edit: bool = False  # an edit's source (and a mask's latents) go through the VAE encoder
    lora_gib: float | None = None  # the LoRA files in use; None: the plan's (MemoryPlan.lora_gib)
    lora_copy_gib: float | None = None  # hooks: their copies in the compute dtype (None: as the files)
    lora_kept_gib: float = 0.0  # LoRA files of earlier sets the patcher keeps cached (LoraPatcher.kept_gib)
    lora_backup: str = ""  # merged: where the originals are ("device" | "pinned" | "cpu"); "" hooks
    lora_backup_gib: float = 0.0
    control: str = ""  # the ControlNet's placement ("resident" | "fp8" | "offload"); "" none
    control_gib: float = 0.0  # its bf16 file's size

    @property
    def vae_encodes(self) -> bool:
        return self.edit or bool(self.control)


def request_table(plan: MemoryPlan, parts: RequestParts = RequestParts(), device: str | None = None) -> Residency:
    """``plan``'s table on ``device`` (default: the plan's own) with ``parts``' rows and phases."""
    table = replace(plan, lora_gib=0.0).table(device)
    rows = list(table.components)
    if parts.vae_encodes:
        rows = [replace(c, phases=("vae-encode", *c.phases)) if c.name == "vae" else c for c in rows]
    transformer = table.component("transformer")
    # Without a set of its own, the request has the plan's (the engine keeps it the set in use).
    lora_gib = plan.lora_gib if parts.lora_gib is None else parts.lora_gib
    rows += lora_components(transformer, lora_gib, parts.lora_backup, parts.lora_backup_gib, parts.lora_copy_gib)
    if parts.lora_kept_gib > 0:  # read for an earlier set, kept in RAM to switch back without reading
        rows.append(Component("lora_cache", parts.lora_kept_gib, "file", transformer.dtype, "ram", (), arrives="encode"))
    if parts.control:
        rows.append(controlnet_component(parts.control, parts.control_gib, plan.compute_dtype, table.accelerator))
    return replace(table, components=tuple(rows))


def request_peaks(plan: MemoryPlan, width: int, height: int, parts: RequestParts = RequestParts(),
                  device: str | None = None, enhance: bool = False, cfg: bool = False) -> tuple[float, float]:
    """(VRAM, RAM) peak in GiB of one image of ``width``×``height`` with ``parts`` (no enhancer unless
    ``enhance``; ``cfg``: a batch of two in each denoising step)."""
    return request_table(plan, parts, device).peaks(width, height, () if enhance else ("enhance",), 2 if cfg else 1)


def display_table(plan: MemoryPlan, models_dir=None) -> Residency:
    """The table ``info`` shows: every phase the plan can run (the edit's VAE encode included), the
    LoRA row when the plan was made with LoRAs, and the ControlNet's row placed as it would be when a
    Union file is installed in ``models_dir``."""
    parts = RequestParts(edit=True)
    if models_dir is not None:
        from pathlib import Path

        from ..errors import UserFacingError
        from .control_plan import place_controlnet
        from .controlnet_files import pick_controlnet

        try:
            file = pick_controlnet(Path(models_dir))
        except (UserFacingError, OSError):
            file = None
        if file is not None:
            size = file.path.stat().st_size
            parts = replace(parts, control=place_controlnet(plan, size).where, control_gib=size / 1024**3)
    return request_table(plan, parts)
