"""The planner's predictions for image-to-image and inpaint at 1024²: the VAE encode pass and the
edit buffers counted, and each profile still inside its budget."""

import pytest

from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.planner import (
    EDIT_BUFFERS_GIB, ENCODE_ACT_GIB, PROFILES, edit_peaks, edit_tile_pixels, make_plan, reference_plan,
)

G = 1024**3
BIG = MachineInfo(gpus=(GpuInfo(0, "GeForce RTX 4090", int(24 * G), int(23 * G), (8, 9), True),), total_ram=64 * G)
EVERYTHING = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}


@pytest.mark.parametrize("name", ["24gb", "16gb", "12gb", "8gb", "6gb", "4gb"])
def test_edits_at_1024_stay_inside_each_profiles_budget(name):
    plan = make_plan(BIG, EVERYTHING, name)
    vram, ram = edit_peaks(plan)
    assert plan.predicted_vram_gib < vram <= PROFILES[name].budget_gib
    assert ram >= plan.predicted_ram_gib


def test_an_untiled_encode_bigger_than_the_other_phases_raises_the_peak():
    plan = reference_plan("cuda", "float32")
    vram, _ = edit_peaks(plan)
    assert vram == pytest.approx(plan.predicted_vram_gib + EDIT_BUFFERS_GIB, abs=0.01)  # decode 2.6 > encode 1.3
    assert ENCODE_ACT_GIB[True] < ENCODE_ACT_GIB[False]


def test_cpu_plans_count_the_edit_in_ram_and_tile_upscales_at_1024():
    cpu = make_plan(MachineInfo(total_ram=32 * G), {"Q8_0"}, "cpu")
    vram, ram = edit_peaks(cpu)
    assert vram == 0 and ram > cpu.predicted_ram_gib
    assert edit_tile_pixels(cpu) == 1024 * 1024
    assert edit_tile_pixels(make_plan(BIG, EVERYTHING, "24gb")) == 2048 * 2048
    assert edit_tile_pixels(make_plan(BIG, EVERYTHING, "6gb")) == 1024 * 1024
