"""A request's LoRA set onto the loaded transformer: merged or hooked as the plan's room decides
(``engine/lora_plan.py``), through the pipeline's ``LoraPatcher`` (``engine/lora_patch.py``).

The set and the strengths change without reloading the transformer; a reload (a float32 retry)
brings a transformer without them, so the set is applied again after it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .devices import MachineInfo
from .lora_patch import LoraPatcher
from .lora_plan import LoraApplication, choose_lora_application, lora_room
from .loras import lora_copy_gib
from .planner import MemoryPlan
from .request_table import RequestParts, request_table

log = logging.getLogger(__name__)


def apply_lora_set(patcher: LoraPatcher, pairs: list[tuple[Path, float]], plan: MemoryPlan, machine: MachineInfo,
                   transformer_form: str, device: str) -> MemoryPlan:
    """The (file, strength) pairs onto the patcher's transformer (again after a float32 reload).
    ``plan.lora_gib`` is the set's files; returns the plan with its predicted peaks (1024²) for the set
    as applied: merged with its backup where it went, or on the fly (what ControlNet placement and the
    window read)."""
    copies = lora_copy_gib([path for path, _ in pairs], plan.compute_dtype, device.startswith("cpu"))
    kept = patcher.kept_gib([path for path, _ in pairs])
    applied = patcher.apply(pairs, lora_decider(plan, machine, transformer_form, device, copies, kept))
    if applied is None:
        return plan
    log.info("%d LoRA(s): %s", len(pairs), applied.reason)
    if not applied.merged and applied.copy_gib is None:  # a layer the plan did not expect: hooks all the same
        applied = patcher.application = replace(applied, copy_gib=copies)
    parts = RequestParts(lora_backup=applied.backup if applied.merged else "",
                         lora_backup_gib=applied.backup_gib if applied.merged else 0.0, lora_copy_gib=applied.copy_gib,
                         lora_kept_gib=patcher.kept_gib([path for path, _ in pairs]))
    vram, ram = request_table(plan, parts).peaks()
    planned = replace(plan, predicted_vram_gib=vram, predicted_ram_gib=ram)
    if (vram, ram) != (plan.predicted_vram_gib, plan.predicted_ram_gib):  # the sentence is derived: new figures
        log.info("plan with this LoRA set: %s", planned.explanation)
    return planned


def lora_decider(plan: MemoryPlan, machine: MachineInfo, transformer_form: str, device: str,
                 copy_gib: float | None = None, kept_gib: float = 0.0) -> Callable[[float, bool], LoraApplication]:
    """Merge or hooks, from the room the plan leaves for a set's backup (engine/lora_plan.py)."""
    room = lora_room(plan, machine, transformer_form, device, copy_gib, kept_gib)
    return lambda backup_gib, rebuilds: choose_lora_application(room, backup_gib, rebuilds)
