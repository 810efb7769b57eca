"""A memory plan in the user's language (the engine's own explanation is English, for logs/CLI)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from ..engine.planner import PROFILES, MemoryPlan
from ..engine.request_table import RequestParts, request_table

# What the window's table shows beyond text-to-image: an edit's (or a control image's) VAE encode.
DISPLAY_PARTS = RequestParts(edit=True)


translate = QCoreApplication.translate  # lupdate collects the translate("PlanText", "…") calls


def explain_plan(plan: MemoryPlan) -> str:
    form = {"bf16": translate("PlanText", "bf16 transformer"), "fp8": translate("PlanText", "FP8-stored transformer")}.get(
        plan.transformer_form, translate("PlanText", "GGUF %1 transformer").replace("%1", plan.transformer_form))
    where = {"none": {"cuda": translate("PlanText", "on the GPU"), "mps": translate("PlanText", "on the Apple GPU"),
                      "cpu": translate("PlanText", "on the CPU")}[plan.device],
             "model": translate("PlanText", "swapped in and out of the GPU per stage"),
             "group": translate("PlanText", "streamed to the GPU layer by layer"),
             "sequential": translate("PlanText", "streamed to the GPU module by module")}[plan.offload]
    if plan.transformer_int8:
        form += " " + translate("PlanText", "as int8 layers")
    parts = [f"{form} {where}"]
    if plan.device != "cpu":
        parts.append({"device": translate("PlanText", "text encoder on the GPU"),
                      "offload": translate("PlanText", "text encoder moved to the GPU only to encode"),
                      "cpu": translate("PlanText", "text encoder on the CPU")}[plan.text_encoder])
        if plan.device == "mps":  # why it sits there (the planner's _mps_encoder)
            parts[-1] += " (" + mps_encoder_reason(plan) + ")"
    if plan.text_encoder_is_gguf:
        parts.append(translate("PlanText", "GGUF %1 text encoder, kept quantized").replace("%1", plan.text_encoder_form))
    if plan.vae_tiling:
        parts.append(translate("PlanText", "tiled VAE"))
    if plan.compute_dtype == "float16":
        parts.append(translate("PlanText", "float16 compute (float32 if it overflows)"))
    elif plan.compute_dtype == "float32":
        parts.append(translate("PlanText", "float32 compute"))
    memory = plan_memory(plan)
    return translate("PlanText", ", ").join(parts) + " — " + memory


def mps_encoder_reason(plan: MemoryPlan) -> str:
    """Why an Apple Silicon plan puts the text encoder where it does."""
    if plan.text_encoder == "cpu" and plan.mps_encoder_over:
        share, limit = plan.mps_encoder_over
        return (translate("PlanText", "the GPU's share with it would be %1 GiB, over the %2 GiB macOS lets the GPU use")
                .replace("%1", f"{share:.1f}").replace("%2", f"{limit:.1f}"))
    return translate("PlanText", "unified memory: on the CPU it would take the same memory and run slower")


def plan_memory(plan: MemoryPlan) -> str:
    """The plan's predicted peaks in a few words ("peak ≈ 6.8 GiB VRAM, 10.2 GiB RAM")."""
    if plan.device == "cpu":
        memory = translate("PlanText", "≈ %1 GiB RAM").replace("%1", f"{plan.predicted_ram_gib:.1f}")
    else:
        memory = (translate("PlanText", "peak ≈ %1 GiB VRAM, %2 GiB RAM").replace("%1", f"{plan.predicted_vram_gib:.1f}")
                  .replace("%2", f"{plan.predicted_ram_gib:.1f}"))
    profile = PROFILES.get(plan.profile)
    over_ram = plan.device in ("cpu", "mps") and plan.ram_limit_gib and plan.predicted_ram_gib > plan.ram_limit_gib
    if over_ram or (profile and profile.budget_gib and plan.predicted_vram_gib > profile.budget_gib):
        memory += " · " + translate("PlanText", "may not fit")  # as the engine's sentence says (plan_explain)
    return memory


def residency_cells(plan: MemoryPlan, width: int = 1024, height: int = 1024,
                    parts: RequestParts = DISPLAY_PARTS) -> tuple[list[str], list[list[str]]]:
    """The plan's residency table for display: headers (component, form, size, load, one per phase,
    peak) and rows: one per component (its form and size as held, where it is while loading and in
    each phase), then the predicted VRAM and RAM per phase with their peaks. ``parts``: what a
    request adds (engine/request_table.py); by default the edit's VAE encode, so every phase the
    plan can run shows (the LoRA row when the plan was made with LoRAs)."""
    table = request_table(plan, parts)
    where = table.where()
    memory = table.phase_memory(width, height)
    names = {"text_encoder": translate("PlanText", "Text encoder"), "transformer": translate("PlanText", "Transformer"),
             "vae": translate("PlanText", "VAE"), "lora": translate("PlanText", "LoRA matrices"),
             "lora_backup": translate("PlanText", "LoRA backup"),
             "lora_cache": translate("PlanText", "Earlier LoRA files"), "controlnet": translate("PlanText", "ControlNet")}
    phases = {"enhance": translate("PlanText", "Enhance"), "encode": translate("PlanText", "Encode"),
              "vae-encode": translate("PlanText", "Encode picture"),
              "denoise": translate("PlanText", "Denoise"), "decode": translate("PlanText", "Decode")}
    places = {"device": table.device.upper() if table.accelerator else "CPU", "ram": translate("PlanText", "RAM"),
              "stream": translate("PlanText", "streamed"), "cpu": "CPU", "gone": "—"}
    headers = ["", translate("PlanText", "Form"), translate("PlanText", "Size GiB"), translate("PlanText", "Load"),
               *(phases.get(p, p) for p in where), translate("PlanText", "Peak")]
    rows = []
    for c in table.components:
        form = c.form + (" · " + translate("PlanText", "pinned") if c.pinned else "")
        form += " · " + translate("PlanText", "copy in RAM") if c.ram_copy else ""
        load = translate("PlanText", "RAM") + (f" ×{c.load_copies}" if c.load_copies > 1 and table.accelerator else "")
        load = "—" if c.arrives else load  # a request brings it later (a LoRA set, a ControlNet)
        rows.append([names.get(c.name, c.name), form, f"{c.gib:.2f}", load,
                     *(places[where[p][c.name]] for p in where), ""])
    vram, ram = table.peaks(width, height)
    if table.accelerator:  # a CPU plan has no VRAM row to show
        rows.append([translate("PlanText", "VRAM GiB"), "", "", f"{memory['load'][0]:.1f}",
                     *(f"{memory[p][0]:.1f}" for p in where), f"{vram:.1f}"])
    rows.append([translate("PlanText", "RAM GiB"), "", "", f"{memory['load'][1]:.1f}",
                 *(f"{memory[p][1]:.1f}" for p in where), f"{ram:.1f}"])
    return headers, rows
