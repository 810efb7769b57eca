"""The one English sentence that explains a plan (MemoryPlan.explanation): the transformer form
and where it runs, the text encoder, VAE tiling, the compute dtype and the predicted peaks.

The sentence is derived from the plan each time it is read (``plan_sentence``), never stored: the
engine replaces a plan's figures after it was made (a LoRA set's peaks, an fp32 retry), and a stored
sentence kept the figures of the plan as first made (issue 27)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .planner import MemoryPlan, Profile

FORM_TEXT = {"bf16": "bf16 transformer", "fp8": "FP8-stored transformer"}
TE_TEXT = {"device": "on the GPU", "offload": "moved to the GPU only to encode", "cpu": "on the CPU"}
OFFLOAD_TEXT = {"none": "", "model": "swapped in and out of the GPU per stage",
                "group": "streamed to the GPU layer by layer", "sequential": "streamed to the GPU module by module"}
SHORT_DTYPE = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def explain(profile: Profile, form: str, dtype: str, te: str, vram: float, ram: float, fits: bool = True,
            te_form: str = "bf16", offload: str | None = None, reason: str = "", te_why: str = "",
            int8: bool = False, released: bool = False) -> str:
    offload = offload or profile.offload
    parts = [FORM_TEXT.get(form, f"GGUF {form} transformer") + (" as int8 layers" if int8 else "")]
    if form == "fp8":  # stored in FP8, computed in the plan's dtype: say which, once
        parts[0] += f" ({SHORT_DTYPE[dtype]} compute)"
    if reason:
        parts[0] += f" ({reason})"
    where = {"cuda": "on the GPU", "mps": "on the Apple GPU", "cpu": "on the CPU"}[profile.device]
    parts[0] += f" {OFFLOAD_TEXT[offload] or where}"
    encoder = "bf16 text encoder" if te_form == "bf16" else f"GGUF {te_form} text encoder (kept quantized)"
    te_where = "on the Apple GPU" if profile.device == "mps" and te == "device" else TE_TEXT[te]
    parts.append(encoder + ("" if profile.device == "cpu" else f" {te_where}") + (f" ({te_why})" if te_why else "")
                 + (" let go once the prompt is encoded" if released else ""))
    if profile.vae_tiling:
        parts.append("tiled VAE")
    if dtype != "bfloat16" and form != "fp8":
        parts.append(f"{dtype} compute" + (" (fp32 if it overflows)" if dtype == "float16" else ""))
    elif dtype == "float16":
        parts.append("fp32 if it overflows")
    memory = f"peak ≈ {vram:.1f} GiB VRAM, {ram:.0f} GiB RAM" if profile.device != "cpu" else f"≈ {ram:.0f} GiB RAM"
    label = profile.label
    if not fits:  # "fits 8 GB" → "may not fit 8 GB"; the CPU and Apple labels name no size
        label = label.replace("fits", "may not fit") if "fits" in label else f"{label}, may not fit"
    return f"{', '.join(parts)} — {label} ({memory})"


def plan_sentence(plan: MemoryPlan, profile: Profile | None) -> str:
    """``explain`` for this plan's own fields and figures (``profile``: the plan's profile, None for
    a fixed plan); "may not fit" when its peaks pass the profile's budget (a GPU) or the RAM limit
    it was made under (Apple, CPU)."""
    if profile is None:  # a fixed plan (planner.reference_plan) says what it is in its note
        return plan.explanation_note
    if plan.device in ("mps", "cpu"):
        fits = not plan.ram_limit_gib or plan.predicted_ram_gib <= plan.ram_limit_gib
    else:
        fits = not profile.budget_gib or plan.predicted_vram_gib <= profile.budget_gib
    text = explain(profile, plan.transformer_form, plan.compute_dtype, plan.text_encoder, plan.predicted_vram_gib,
                   plan.predicted_ram_gib, fits, plan.text_encoder_form, plan.offload, plan.form_reason,
                   plan.encoder_reason, plan.transformer_int8, plan.encoder_released)
    return text + (f" [{plan.explanation_note}]" if plan.explanation_note else "")
