"""The planner's predictions for editing (engine/edit_plan.py), from the residency table: the VAE encode
pass where the table puts the VAE, the edit buffers, upscales in tiles, each profile inside its budget;
and bench/edit_plan_table.py, which prints docs/PERFORMANCE.md's table from them."""

import subprocess
import sys
from pathlib import Path

import pytest

from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.edit_plan import (
    EDIT_BUFFERS_GIB, ENCODE, UPSCALE_CANVAS_BYTES_PER_PIXEL, edit_peaks, edit_tile_pixels, upscale_peaks,
)
from zimage_desktop.engine.planner import PROFILES, make_plan, reference_plan
from zimage_desktop.engine.residency import PHASES

G = 1024**3
BIG = MachineInfo(gpus=(GpuInfo(0, "GeForce RTX 4090", int(24 * G), int(23 * G), (8, 9), True),), total_ram=64 * G)
EVERYTHING = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["24gb", "16gb", "12gb", "8gb", "6gb", "4gb"])
def test_edits_at_1024_and_upscales_to_2048_stay_inside_each_profiles_budget(name):
    plan = make_plan(BIG, EVERYTHING, name)
    txt2img = plan.predicted_peaks(1024, 1024, enhance=False)
    vram, ram = edit_peaks(plan)
    assert txt2img[0] < vram <= PROFILES[name].budget_gib
    assert ram > txt2img[1]
    up_vram, up_ram = upscale_peaks(plan, 2048, 2048)
    assert vram <= up_vram <= PROFILES[name].budget_gib and up_ram > ram


def test_the_encode_pass_is_a_phase_of_the_residency_table():
    """Whole (untiled) at 1024² in fp32 the encoder's activations (2.6 GiB) stay under the decoder's (5.2):
    only the buffers are added. At 2048² whole they do not either; tiled, encode and decode stop growing."""
    plan = reference_plan("cuda", "float32")
    assert not plan.vae_tiling
    vram, _ = edit_peaks(plan)
    assert vram == pytest.approx(plan.predicted_peaks(1024, 1024, enhance=False)[0] + EDIT_BUFFERS_GIB, abs=0.011)
    decode = next(p for p in PHASES if p.name == "decode")
    assert ENCODE.activations(1024 * 1024, True, 1.0) == pytest.approx(0.3)
    assert ENCODE.activations(1024 * 1024, False, 1.0) == pytest.approx(1.3)
    assert ENCODE.activations(4 * 1024 * 1024, True, 1.0) == ENCODE.activations(1024 * 1024, True, 1.0)
    assert ENCODE.activations(1024 * 1024, False, 1.0) < decode.activations(1024 * 1024, False, 1.0)
    # tiled (every GPU profile today): the encode pass (0.3 GiB) stays under the tiled decode (0.45 GiB)
    tiled = make_plan(BIG, EVERYTHING, "24gb")
    assert tiled.vae_tiling
    base = edit_peaks(tiled)[0]
    assert base - tiled.predicted_peaks(1024, 1024, enhance=False)[0] == pytest.approx(EDIT_BUFFERS_GIB, abs=0.011)


def test_cpu_plans_count_the_edit_in_ram_and_tile_upscales_at_1024():
    cpu = make_plan(MachineInfo(total_ram=32 * G), {"Q8_0"}, "cpu")
    vram, ram = edit_peaks(cpu)
    assert vram == 0 and ram > cpu.predicted_ram_gib - 1  # RAM only
    assert edit_tile_pixels(cpu) == 1024 * 1024
    assert edit_tile_pixels(make_plan(BIG, EVERYTHING, "24gb")) == 2048 * 2048
    assert edit_tile_pixels(make_plan(BIG, EVERYTHING, "6gb")) == 1024 * 1024
    # a 2048² upscale on the CPU: one 1024² tile's pass plus the whole picture and its accumulators
    up_vram, up_ram = upscale_peaks(cpu, 2048, 2048)
    canvas = 2048 * 2048 * UPSCALE_CANVAS_BYTES_PER_PIXEL / G
    assert up_vram == 0 and up_ram == pytest.approx(ram + canvas, abs=0.011)
    # on 24gb the 2048² pass is one piece: its activations grow with the picture
    big = make_plan(BIG, EVERYTHING, "24gb")
    assert upscale_peaks(big, 2048, 2048)[0] == pytest.approx(edit_peaks(big, 2048, 2048)[0])
    assert edit_peaks(big, 2048, 2048)[0] > edit_peaks(big)[0] + 1


def test_the_table_script_prints_every_profile_inside_its_budget():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "edit_plan_table.py")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split("|")[1].strip() for line in proc.stdout.splitlines() if line.startswith("| ")][1:]
    assert rows == ["24gb", "16gb", "12gb", "8gb", "6gb", "4gb", "cpu (32 GB RAM)"]
    assert "**over**" not in proc.stdout
