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
                    copy_gib: float | None = None) -> tuple[Component, ...]:
    """The rows of a LoRA set of ``lora_gib`` (its files) on ``transformer``'s row: with hooks
    (``backup`` ""), or merged with its originals kept on the "device", "pinned" RAM or "cpu" RAM.
    ``copy_gib``: the hooks' copies of the matrices in the compute dtype (``loras.lora_copy_gib``);
    None: the files' size on a device, nothing more on the CPU."""
    if lora_gib <= 0 and not backup:
        return ()
    dtype = transformer.dtype
    # Read (and merged) when a request applies the set, before its prompt is encoded (Generator.run).
    if backup:  # merged: the matrices stay only in RAM, the originals beside them
        return (Component("lora", lora_gib, "file", dtype, "ram", (), arrives="encode"),
                Component("lora_backup", backup_gib, transformer.form, dtype,
                          "resident" if backup == "device" else "ram", (), pinned=backup == "pinned",
                          arrives="encode"))
    return (Component("lora", lora_gib, SHORT.get(dtype, dtype), dtype, LORA_MODE[transformer.mode], ("denoise",),
                      ram_copy=True, arrives="encode", copy_gib=-1.0 if copy_gib is None else copy_gib),)


def controlnet_component(where: str, file_gib: float, dtype: str, accelerator: bool = True) -> Component:
    """The ControlNet's own weights as ``control_plan.place_controlnet`` placed them ("resident",
    "fp8" or "offload"); ``file_gib`` is the bf16 file's size (float32 compute holds twice that);
    ``accelerator``: the table's device is a GPU.

    It is loaded when a controlled image first needs it (``control_run.controlnet``, before the
    control image's VAE encode): the whole file is read into RAM (``load_file``) and held until the
    model is placed. A model left in RAM in bf16 is those very tensors; one on the GPU, in another
    dtype, or cast to FP8 on the CPU before it moves is a copy beside them."""
    gib = file_gib * (2.0 if dtype == "float32" else 1.0)
    widened = dtype != "bfloat16"
    arrival = file_gib if widened or where == "fp8" or (where == "resident" and accelerator) else 0.0
    if where == "fp8":
        return Component("controlnet", gib / 2, "fp8", dtype, "resident", ("denoise",), arrives="vae-encode",
                         arrival_gib=arrival * (2.0 if widened else 1.0) + gib / 2)
    mode = "stream" if where == "offload" else "resident"
    return Component("controlnet", gib, SHORT.get(dtype, dtype), dtype, mode, ("denoise",), arrives="vae-encode",
                     arrival_gib=arrival)
