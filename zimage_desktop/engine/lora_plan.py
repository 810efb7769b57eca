"""How a LoRA set is applied under a MemoryPlan: merged into the weights, or by hooks on the fly.

A pure function of the plan, the machine and the size of the weights the set changes (no torch).

Merging (``engine/lora_merge.py``) writes ``W + Σ sᵢ·ΔWᵢ`` into the transformer's own weights, so
a step costs what it costs without a LoRA; getting the base picture back exactly needs the
original tensors of every layer the set touches — the *backup*. For a LoRA on every layer that is
about the whole transformer again, so a set is merged only where the plan leaves room for its
backup: on the GPU beside the weights when the profile's budget has it, else in (pinned) RAM.
Everything else keeps the hooks (``engine/lora_patch.py``):
- GGUF and FP8 transformers: there is no bf16 weight to merge into;
- a transformer streamed to the GPU layer by layer (group offload): its weights are swapped for
  (pinned) CPU copies under the offload hooks, so a merge would be written into a copy that is
  replaced; one swapped in and out per stage: the GPU has no room that stays free for a backup;
- no room for the backup;
- on the CPU, a plain low-rank set whose merge would take longer than a switch may (``SWITCH_S``):
  there a merge runs at a fraction of a GB/s (``CPU_MERGE_GIB_S``, one block of 675 MiB in ~2 s),
  about a minute for a LoRA on every layer, at every change of set or strength, while its hooks add
  1–2 % of a layer's products (``bench/lora_merge.py``: no measurable cost). A LoHa is merged there
  all the same: its hook builds each layer's ΔW on every call (5× the plain call), which costs more
  in one image than the merge.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import msg
from .devices import MachineInfo
from .planner import GIB, PROFILES, MemoryPlan, chosen_gpu
from .request_table import RequestParts, request_table

MERGE_FORMS = ("bf16",)  # stored in a float dtype torch computes in (bf16; fp32/fp16 compute copies)
VRAM_MARGIN_GIB = 0.25  # kept free on the GPU for the merge's own fp32 row of one layer and fragmentation
RAM_SHARE = {"cpu": 0.9, "cuda": 0.9, "mps": 0.7}  # the planner's RAM limits (unified memory on Apple)
SWITCH_S = 1.0  # what changing the LoRA set or a strength may cost, beyond reading a new file (issue 22)
# The CPU merge's throughput over the originals it changes (backup → fp32, + ΔW, cast, copy): one Z-Image
# block, 675 MiB, in 2.1-2.6 s on one core of the development machine (docs/PERFORMANCE.md), rounded down.
CPU_MERGE_GIB_S = 0.25


@dataclass(frozen=True)
class LoraApplication:
    """Which way a LoRA set goes onto the transformer, and why (a sentence for `info`, the log
    and the image's record)."""

    mode: str  # "merge" | "hooks"
    backup: str  # where the originals are kept while merged: "device" | "pinned" | "cpu"; "" with hooks
    backup_gib: float  # the originals of the layers the set changes
    reason: str
    copy_gib: float | None = None  # hooks: their copies of the matrices in the compute dtype (None: as the files)
    vram_gib: float = 0.0  # the request table's peaks with the set applied so (its backup where it went)
    ram_gib: float = 0.0

    @property
    def merged(self) -> bool:
        return self.mode == "merge"

    def to_dict(self) -> dict:
        return {"mode": self.mode, "backup": self.backup, "backup_gib": round(self.backup_gib, 3),
                "reason": self.reason}


@dataclass(frozen=True)
class LoraRoom:
    """Room the plan leaves for a merged set's backup, or why no set is ever merged under it.

    The set is the plan's ``lora_gib``: the LoRA files of the request being applied (the engine's plan
    follows the request's set, whatever set the model was loaded with)."""

    vram_gib: float  # free under the profile's budget after its peak (0 off the GPU)
    ram_gib: float  # free under the RAM limit after the plan's RAM peak
    peaks: tuple[float, float]  # the set merged without its backup yet: its files in RAM, no device copy
    device: str
    never: str = ""  # why this plan keeps the hooks whatever the set's size ("" when a set may merge)
    plan: MemoryPlan | None = None  # for the figures of each application (request_table)
    copy_gib: float | None = None  # the hooks' copies of the set's matrices (loras.lora_copy_gib)
    kept_gib: float = 0.0  # LoRA files of earlier sets kept cached beside it (LoraPatcher.kept_gib)

    def applied_peaks(self, backup: str = "", backup_gib: float = 0.0) -> tuple[float, float]:
        """(VRAM, RAM) peaks at 1024² of the request table with the set on the fly (``backup`` "") or
        merged with its originals on the "device", "pinned" or "cpu" RAM."""
        if self.plan is None:
            return self.peaks
        parts = RequestParts(lora_gib=self.plan.lora_gib, lora_backup=backup, lora_backup_gib=backup_gib,
                             lora_copy_gib=None if backup else self.copy_gib, lora_kept_gib=self.kept_gib)
        return request_table(self.plan, parts, self.device).peaks()


def lora_room(plan: MemoryPlan, machine: MachineInfo, transformer_form: str | None = None,
              device: str | None = None, copy_gib: float | None = None, kept_gib: float = 0.0) -> LoraRoom:
    """The room for backups under ``plan`` on the device that really runs it (``device``, as for
    ``MemoryPlan.table``); ``transformer_form`` is the loaded file's form where it differs from the
    plan's (a fixed plan used with an FP8 or GGUF file); ``copy_gib``: the hooks' copies of the set's
    matrices (``loras.lora_copy_gib``), ``kept_gib`` earlier sets' files still cached. The set to
    place is ``plan.lora_gib``: merged, its files stay in RAM only; the room is what is left beside
    them."""
    table = request_table(plan, RequestParts(lora_gib=plan.lora_gib, lora_backup="cpu", lora_kept_gib=kept_gib), device)
    vram, ram = table.peaks()
    form = transformer_form or plan.transformer_form
    mode = next(c.mode for c in table.components if c.name == "transformer")
    never = ""
    if form not in MERGE_FORMS:
        never = msg("lora_plan.quantized", "LoRAs are applied on the fly: the {form} transformer has no bf16 weights "
                    "to merge them into.", form=form)
    elif mode == "stream":
        never = msg("lora_plan.streamed", "LoRAs are applied on the fly: the transformer is streamed to the GPU layer "
                    "by layer, so merged weights would not stay.")
    elif mode == "swap":
        never = msg("lora_plan.swapped", "LoRAs are applied on the fly: the transformer is swapped in and out of the "
                    "GPU, so no room stays free for a copy of the weights they change.")
    kind = table.device.split(":", 1)[0]
    free_vram = 0.0
    if kind == "cuda":
        profile = PROFILES.get(plan.profile)
        budget = profile.budget_gib if profile is not None else 0.0
        gpu = chosen_gpu(machine, plan.gpu_index) if machine.gpus else None
        if not budget and gpu is not None:
            budget = gpu.total_vram / GIB * 0.9
        free_vram = max(0.0, budget - vram - VRAM_MARGIN_GIB)
    ram_limit = machine.total_ram / GIB * RAM_SHARE.get(kind, 0.9)
    return LoraRoom(free_vram, max(0.0, ram_limit - ram), (vram, ram), table.device, never, plan, copy_gib, kept_gib)


def describe_room(room: LoraRoom) -> str:
    """What ``info`` says about LoRAs under a plan: never merged and why, or how much room a set's
    originals have."""
    if room.never:
        return room.never
    return msg("lora_plan.room", "LoRAs are merged into the weights when a copy of the layers they change fits "
               "({vram:.2f} GiB free on the GPU, {ram:.2f} GiB in RAM; a LoRA on every layer needs about the "
               "transformer's size); otherwise they are applied on the fly.", vram=room.vram_gib, ram=room.ram_gib)


def choose_lora_application(room: LoraRoom, backup_gib: float, rebuilds_delta: bool = False) -> LoraApplication:
    """Merge when the plan allows it and the backup of ``backup_gib`` fits: on the GPU first
    (restoring is a device copy), else in RAM (pinned for a CUDA device); otherwise hooks. On the
    CPU a set is merged only where the merge is quick (within ``SWITCH_S``) or its hooks rebuild a
    full ΔW per call (``rebuilds_delta``: a LoHa)."""
    if room.never:
        return LoraApplication("hooks", "", backup_gib, room.never, room.copy_gib, *room.applied_peaks())
    merge_s = backup_gib / CPU_MERGE_GIB_S
    if room.device.split(":", 1)[0] == "cpu" and not rebuilds_delta and merge_s > SWITCH_S:
        return LoraApplication("hooks", "", backup_gib, msg(
            "lora_plan.cpu_slow_merge", "LoRAs are applied on the fly: on the CPU, merging them into the {gib:.2f} GiB "
            "of weights they change would take about {seconds:.0f} s at every change of LoRA or strength, and saves "
            "almost nothing per step.", gib=backup_gib, seconds=merge_s), room.copy_gib, *room.applied_peaks())
    on_gpu = room.device.startswith("cuda")
    if on_gpu and backup_gib <= room.vram_gib:
        return LoraApplication("merge", "device", backup_gib, msg(
            "lora_plan.merged_device", "LoRAs are merged into the weights; the original {gib:.2f} GiB of the layers "
            "they change are kept on the GPU to restore them exactly.", gib=backup_gib),
            None, *room.applied_peaks("device", backup_gib))
    if backup_gib <= room.ram_gib:
        backup = "pinned" if on_gpu else "cpu"
        return LoraApplication("merge", backup, backup_gib, msg(
            "lora_plan.merged_ram", "LoRAs are merged into the weights; the original {gib:.2f} GiB of the layers they "
            "change are kept in RAM to restore them exactly.", gib=backup_gib), None,
            *room.applied_peaks(backup, backup_gib))
    return LoraApplication("hooks", "", backup_gib, msg(
        "lora_plan.no_room", "LoRAs are applied on the fly: a copy of the {gib:.2f} GiB of weights they change does "
        "not fit beside this plan ({vram:.2f} GiB free on the GPU, {ram:.2f} GiB in RAM).",
        gib=backup_gib, vram=room.vram_gib, ram=room.ram_gib), room.copy_gib, *room.applied_peaks())


def not_mergeable(layer: str, dtype: str) -> LoraApplication:
    """A loaded layer that is not plain float weights (a quantized or FP8 storage the plan did not
    say): hooks, whatever the plan said."""
    return LoraApplication("hooks", "", 0.0, msg(
        "lora_plan.weights_not_plain", "LoRAs are applied on the fly: layer {layer} holds {dtype} weights, not plain "
        "floating-point ones.", layer=layer, dtype=dtype))
