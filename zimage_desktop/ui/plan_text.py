"""A memory plan in the user's language (the engine's own explanation is English, for logs/CLI)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from ..engine.planner import PROFILES, MemoryPlan


translate = QCoreApplication.translate  # lupdate collects the translate("PlanText", "…") calls


def explain_plan(plan: MemoryPlan) -> str:
    form = {"bf16": translate("PlanText", "bf16 transformer"), "fp8": translate("PlanText", "FP8-stored transformer")}.get(
        plan.transformer_form, translate("PlanText", "GGUF %1 transformer").replace("%1", plan.transformer_form))
    where = {"none": {"cuda": translate("PlanText", "on the GPU"), "mps": translate("PlanText", "on the Apple GPU"),
                      "cpu": translate("PlanText", "on the CPU")}[plan.device],
             "model": translate("PlanText", "swapped in and out of the GPU per stage"),
             "group": translate("PlanText", "streamed to the GPU layer by layer"),
             "sequential": translate("PlanText", "streamed to the GPU module by module")}[plan.offload]
    parts = [f"{form} {where}"]
    if plan.device != "cpu":
        parts.append({"device": translate("PlanText", "text encoder on the GPU"),
                      "offload": translate("PlanText", "text encoder moved to the GPU only to encode"),
                      "cpu": translate("PlanText", "text encoder on the CPU")}[plan.text_encoder])
    if plan.text_encoder_is_gguf:
        parts.append(translate("PlanText", "GGUF %1 text encoder, kept quantized").replace("%1", plan.text_encoder_form))
    if plan.vae_tiling:
        parts.append(translate("PlanText", "tiled VAE"))
    if plan.compute_dtype == "float16":
        parts.append(translate("PlanText", "float16 compute (float32 if it overflows)"))
    elif plan.compute_dtype == "float32":
        parts.append(translate("PlanText", "float32 compute"))
    profile = PROFILES.get(plan.profile)
    budget = profile.budget_gib if profile else 0
    if plan.device == "cpu":
        memory = translate("PlanText", "≈ %1 GiB RAM").replace("%1", f"{plan.predicted_ram_gib:.1f}")
    else:
        memory = (translate("PlanText", "peak ≈ %1 GiB VRAM, %2 GiB RAM").replace("%1", f"{plan.predicted_vram_gib:.1f}")
                  .replace("%2", f"{plan.predicted_ram_gib:.1f}"))
    if budget and plan.predicted_vram_gib > budget:
        memory += " · " + translate("PlanText", "may not fit")
    return translate("PlanText", ", ").join(parts) + " — " + memory


def residency_cells(plan: MemoryPlan, width: int = 1024, height: int = 1024) -> tuple[list[str], list[list[str]]]:
    """The plan's residency table for display: headers (component, form, then one per phase) and
    rows (one per component saying where it is in each phase, then predicted VRAM and RAM)."""
    table = plan.table()
    where = table.where()
    memory = table.phase_memory(width, height)
    names = {"text_encoder": translate("PlanText", "Text encoder"), "transformer": translate("PlanText", "Transformer"),
             "vae": translate("PlanText", "VAE")}
    phases = {"enhance": translate("PlanText", "Enhance"), "encode": translate("PlanText", "Encode"),
              "denoise": translate("PlanText", "Denoise"), "decode": translate("PlanText", "Decode")}
    places = {"device": table.device.upper() if table.accelerator else "CPU", "ram": translate("PlanText", "RAM"),
              "stream": translate("PlanText", "streamed"), "cpu": "CPU"}
    headers = ["", translate("PlanText", "Load"), *(phases.get(p, p) for p in where)]
    rows = []
    for c in table.components:
        held = f"{c.form} {c.gib:.1f} GiB" + (" · " + translate("PlanText", "pinned") if c.pinned else "")
        rows.append([names.get(c.name, c.name), held, *(places[where[p][c.name]] for p in where)])
    rows.append([translate("PlanText", "VRAM GiB"), "", *(f"{memory[p][0]:.1f}" for p in where)])
    rows.append([translate("PlanText", "RAM GiB"), f"{memory['load'][1]:.1f}", *(f"{memory[p][1]:.1f}" for p in where)])
    return headers, rows
