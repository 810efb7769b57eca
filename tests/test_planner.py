"""The planner's choices for a table of real machines, checked against its predicted peaks."""

import pytest

from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.planner import (
    PROFILES, lighter_profile, make_plan,
)
from zimage_desktop.errors import BadInputError

G = 1024**3


def gpu(name, gib, cc, bf16):
    return MachineInfo(gpus=(GpuInfo(0, name, int(gib * G), int(gib * G * 0.95), cc, bf16),), total_ram=16 * G)


MACHINES = {
    # name: (machine, profile, compute dtype, transformer form, VRAM limit GiB)
    "GTX 1060 6GB": (gpu("GeForce GTX 1060 6GB", 5.93, (6, 1), False), "6gb", "float32", "Q3_K", 5.5),
    "RTX 2060 6GB": (gpu("GeForce RTX 2060", 5.79, (7, 5), False), "6gb", "float16", "Q4_K", 5.5),
    "RTX 3060 12GB": (gpu("GeForce RTX 3060", 11.76, (8, 6), True), "12gb", "bfloat16", "fp8", 10.5),
    "RTX 4090 24GB": (gpu("GeForce RTX 4090", 23.99, (8, 9), True), "24gb", "bfloat16", "bf16", 22.0),
    "M2 16GB": (MachineInfo(mps=True, total_ram=16 * G), "mps", "bfloat16", "Q4_K", None),
    "CPU 16GB": (MachineInfo(total_ram=16 * G), "cpu", "float32", "Q3_K", None),
}


@pytest.mark.parametrize("name", MACHINES)
def test_auto_plan_for_machine(name):
    machine, profile, dtype, form, vram_limit = MACHINES[name]
    plan = make_plan(machine, present_forms={form} | ({"fp8"} if form == "bf16" else set()))
    assert (plan.profile, plan.compute_dtype, plan.transformer_form) == (profile, dtype, form)
    assert plan.missing == () and not plan.warnings
    if vram_limit is not None:
        assert 0 < plan.predicted_vram_gib <= vram_limit
        assert plan.predicted_vram_gib <= machine.gpus[0].total_vram / G
    assert plan.predicted_ram_gib <= machine.total_ram / G
    assert plan.explanation and "GiB" in plan.explanation


def test_profile_targets_on_a_big_gpu():
    """Forcing each profile on a 24 GB card keeps each within its own budget (6gb ≤ 5.5, 4gb ≤ 3.8)."""
    machine = MACHINES["RTX 4090 24GB"][0]
    everything = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}
    for name in ("24gb", "16gb", "12gb", "8gb", "6gb", "4gb"):
        plan = make_plan(machine, everything, name)
        assert plan.predicted_vram_gib <= PROFILES[name].budget_gib, name
    assert make_plan(machine, everything, "6gb").predicted_vram_gib <= 5.5
    assert make_plan(machine, everything, "4gb").predicted_vram_gib <= 3.8
    assert make_plan(machine, everything, "4gb").offload == "group"


def test_plan_names_what_to_download_when_files_are_missing():
    plan = make_plan(MACHINES["RTX 2060 6GB"][0], present_forms=set(), have_text_encoder=False)
    assert plan.transformer_form == "Q4_K"
    assert plan.needs == ("transformer-gguf-q4_k_m", "text-encoder-bf16", "vae", "configs")
    assert plan.missing == ("transformer-gguf-q4_k_m", "text-encoder-bf16")


def test_uses_what_is_installed_rather_than_refusing():
    plan = make_plan(MACHINES["RTX 2060 6GB"][0], present_forms={"Q8_0"})
    assert plan.transformer_form == "Q8_0" and plan.warnings
    assert "may not fit" in plan.explanation
    assert plan.missing == ("transformer-gguf-q4_k_m",)  # what to download for the profile


def test_fp16_plans_retry_in_fp32():
    assert make_plan(MACHINES["RTX 2060 6GB"][0]).fp16_retry_fp32
    assert not make_plan(MACHINES["RTX 3060 12GB"][0]).fp16_retry_fp32


def test_unknown_profile():
    with pytest.raises(BadInputError, match="Unknown profile"):
        make_plan(MachineInfo(), override="2gb")


def test_lighter_profiles_chain_down_to_cpu():
    chain, name = [], "24gb"
    while name:
        chain.append(name)
        name = lighter_profile(name)
    assert chain == ["24gb", "16gb", "12gb", "8gb", "6gb", "4gb", "cpu"]
