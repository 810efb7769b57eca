"""The planner's predictions for editing, per profile: image-to-image / inpaint at 1024² and an upscale to
2048² (one pass where the model stays resident, 1024² tiles elsewhere), from the residency table
(engine/edit_plan.py). Prints the markdown table of docs/PERFORMANCE.md; no model, no GPU needed.

Each GPU profile is planned as the app would for a bf16-capable card of 24 GB forced to that profile,
with every transformer form installed (so the profile's preferred form is the one counted), the CPU plan
for a 32 GB machine with the Q8_0 file. A prediction above the profile's budget is marked and makes the
script exit 1.

Usage: python bench/edit_plan_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIB = 1024**3
EVERYTHING = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}
GPU_PROFILES = ("24gb", "16gb", "12gb", "8gb", "6gb", "4gb")


def rows() -> list[tuple[str, str, bool, float, float, float, float, float]]:
    """(profile, form, VAE tiled, budget, txt2img, edit, upscale 2048², upscale RAM) — VRAM in GiB (RAM
    for the CPU plan)."""
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo
    from zimage_desktop.engine.edit_plan import edit_peaks, upscale_peaks
    from zimage_desktop.engine.planner import PROFILES, make_plan

    card = MachineInfo(gpus=(GpuInfo(0, "GeForce RTX 4090", 24 * GIB, 23 * GIB, (8, 9), True),), total_ram=64 * GIB)
    out = []
    for name in GPU_PROFILES:
        plan = make_plan(card, EVERYTHING, name)
        up_vram, up_ram = upscale_peaks(plan, 2048, 2048)
        out.append((name, plan.transformer_form, plan.vae_tiling, PROFILES[name].budget_gib,
                    plan.predicted_peaks(1024, 1024, enhance=False)[0], edit_peaks(plan)[0], up_vram, up_ram))
    cpu = make_plan(MachineInfo(total_ram=32 * GIB), {"Q8_0"}, "cpu")
    up_ram = upscale_peaks(cpu, 2048, 2048)[1]
    out.append(("cpu (32 GB RAM)", cpu.transformer_form, cpu.vae_tiling, 0.0,
                cpu.predicted_peaks(1024, 1024, enhance=False)[1], edit_peaks(cpu)[1], up_ram, up_ram))
    return out


def main() -> int:
    over = 0
    print("| Profile | Form | VAE encode | txt2img 1024² | img2img / inpaint 1024² | upscale → 2048² | "
          "upscale RAM GiB | Budget |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name, form, tiled, budget, txt, edit, up, up_ram in rows():
        ram = name.startswith("cpu")
        unit = "RAM " if ram else ""
        fits = ram or (edit <= budget and up <= budget)
        over += not fits
        print(f"| {name} | {form} | {'tiled' if tiled else 'whole'} | {unit}{txt:.2f} | {unit}{edit:.2f} | "
              f"{unit}{up:.2f} | {up_ram:.2f} | {'—' if ram else f'{budget:.1f}'}{'' if fits else ' **over**'} |")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
