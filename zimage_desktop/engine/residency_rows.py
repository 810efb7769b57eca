"""The residency table's rows for what a request adds to a plan: a LoRA set and a ControlNet
(engine/residency.py's ``Component``; the edit phase is the VAE row's "vae-encode"). Pure, no torch.

- LoRA matrices (``engine/lora_patch.py``): the file's tensors stay in RAM (cached to switch sets);
  with hooks a copy of them sits on the device the transformer computes on, placed as the
  transformer is: resident beside a resident or streamed transformer, swapped out with a swapped
  one (placement drops the copies when a swap ring evicts the transformer). Merged, no device copy
  exists; the originals of the layers the set changes are the *backup* (``engine/lora_merge.py``):
  on the device, or in (pinned) RAM, as ``engine/lora_plan.py`` chose.
- ControlNet Union (``engine/control_plan.py``): its own weights resident in the compute dtype,
  resident in FP8 storage, or streamed block by block from RAM (group offload without streams:
  not pinned). Its shared modules are the transformer's (already in its row).
"""

from __future__ import annotations

from .residency import Component

SHORT = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
LORA_MODE = {"resident": "resident", "stream": "resident", "swap": "swap", "cpu": "cpu"}


def lora_components(transformer: Component, lora_gib: float, backup: str = "", backup_gib: float = 0.0,
                    ) -> tuple[Component, ...]:
    """The rows of a LoRA set of ``lora_gib`` (its files) on ``transformer``'s row: with hooks
    (``backup`` ""), or merged with its originals kept on the "device", "pinned" RAM or "cpu" RAM."""
    if lora_gib <= 0 and not backup:
        return ()
    dtype = transformer.dtype
    if backup:  # merged: the matrices stay only in RAM, the originals beside them
        return (Component("lora", lora_gib, "file", dtype, "ram", ()),
                Component("lora_backup", backup_gib, transformer.form, dtype,
                          "resident" if backup == "device" else "ram", (), pinned=backup == "pinned"))
    return (Component("lora", lora_gib, SHORT.get(dtype, dtype), dtype, LORA_MODE[transformer.mode], ("denoise",),
                      ram_copy=True),)


def controlnet_component(where: str, file_gib: float, dtype: str) -> Component:
    """The ControlNet's own weights as ``control_plan.place_controlnet`` placed them ("resident",
    "fp8" or "offload"); ``file_gib`` is the bf16 file's size (float32 compute holds twice that)."""
    gib = file_gib * (2.0 if dtype == "float32" else 1.0)
    if where == "fp8":
        return Component("controlnet", gib / 2, "fp8", dtype, "resident", ("denoise",))
    if where == "offload":
        return Component("controlnet", gib, SHORT.get(dtype, dtype), dtype, "stream", ("denoise",))
    return Component("controlnet", gib, SHORT.get(dtype, dtype), dtype, "resident", ("denoise",))
