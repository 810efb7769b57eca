"""The planner's choices for a table of real machines, checked against its predicted peaks."""

from dataclasses import replace

import pytest

from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.planner import (
    AUTO_THRESHOLDS_GIB, PROFILES, TEXT_ENCODER_FORMS_GIB, TRANSFORMER_GIB, lighter_profile, make_plan,
)
from zimage_desktop.engine.residency import CUDA_CONTEXT_GIB, PROCESS_RAM_GIB, Component
from zimage_desktop.errors import BadInputError

G = 1024**3


def gpu(name, gib, cc, bf16, ram=16):
    return MachineInfo(gpus=(GpuInfo(0, name, int(gib * G), int(gib * G * 0.95), cc, bf16),), total_ram=ram * G)


MACHINES = {
    # name: (machine, profile, compute dtype, transformer form, VRAM limit GiB)
    # Q4_K (4.64 GiB) + its activations (0.65) + the CUDA context (0.5) is 5.8 GiB: over a 6 GB
    # card's 5.4 budget, so the table takes Q3_K; in fp32 (Pascal) even Q3_K is over (warned).
    "RTX 2060 6GB": (gpu("GeForce RTX 2060", 5.79, (7, 5), False), "6gb", "float16", "Q3_K", 5.4),
    "RTX 3060 12GB": (gpu("GeForce RTX 3060", 11.76, (8, 6), True), "12gb", "bfloat16", "fp8", 10.5),
    # Loading builds the bf16 transformer and encoder in RAM before they move: 20.6 GiB.
    "RTX 4090 24GB": (gpu("GeForce RTX 4090", 23.99, (8, 9), True, ram=32), "24gb", "bfloat16", "bf16", 22.0),
    "M2 16GB": (MachineInfo(mps=True, total_ram=16 * G), "mps", "bfloat16", "Q4_K", None),
    # With the GGUF Q8_0 encoder (4 GiB instead of a bf16 one held in fp32, 15 GiB) Q8_0 fits 16 GB.
    "CPU 16GB": (MachineInfo(total_ram=16 * G), "cpu", "float32", "Q8_0", None),
}


@pytest.mark.parametrize("name", MACHINES)
def test_auto_plan_for_machine(name):
    machine, profile, dtype, form, vram_limit = MACHINES[name]
    plan = make_plan(machine, present_forms={form} | ({"fp8"} if form == "bf16" else set()),
                     present_te_forms=set(TEXT_ENCODER_FORMS_GIB))
    assert (plan.profile, plan.compute_dtype, plan.transformer_form) == (profile, dtype, form)
    assert plan.text_encoder_form == PROFILES[profile].te_forms[0]
    assert plan.missing == () and not plan.warnings
    if vram_limit is not None:
        assert 0 < plan.predicted_vram_gib <= vram_limit
        assert plan.predicted_vram_gib <= machine.gpus[0].total_vram / G
    assert plan.predicted_ram_gib <= machine.total_ram / G
    assert plan.explanation and "GiB" in plan.explanation


def test_profile_targets_on_a_big_gpu():
    """Forcing each profile on a 24 GB card keeps each within its own budget (6gb ≤ 5.4, 4gb ≤ 3.5)."""
    machine = MACHINES["RTX 4090 24GB"][0]
    everything = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}
    for name in ("24gb", "16gb", "12gb", "8gb", "6gb", "4gb"):
        plan = make_plan(machine, everything, name)
        assert plan.predicted_vram_gib <= PROFILES[name].budget_gib, name
    assert make_plan(machine, everything, "6gb").predicted_vram_gib <= 5.4
    assert make_plan(machine, everything, "4gb").predicted_vram_gib <= 3.5
    assert make_plan(machine, everything, "4gb").offload == "group"


def test_plan_names_what_to_download_when_files_are_missing():
    plan = make_plan(MACHINES["RTX 2060 6GB"][0], present_forms=set(), have_text_encoder=False)
    assert plan.transformer_form == "Q3_K" and plan.text_encoder_form == "Q6_K"
    assert plan.needs == ("transformer-gguf-q3_k_s", "text-encoder-gguf-q6_k", "vae", "configs")
    assert plan.missing == ("transformer-gguf-q3_k_s", "text-encoder-gguf-q6_k")


def test_uses_what_is_installed_rather_than_refusing():
    plan = make_plan(MACHINES["RTX 2060 6GB"][0], present_forms={"Q8_0"}, present_te_forms={"Q6_K"})
    assert plan.transformer_form == "Q8_0" and plan.warnings
    assert "may not fit" in plan.explanation
    assert plan.missing == ("transformer-gguf-q3_k_s",)  # what to download for the profile
    # Only the bf16 encoder installed: it runs (on the CPU), and the GGUF one is what to download.
    plan = make_plan(MACHINES["RTX 2060 6GB"][0], present_forms={"Q3_K"})
    assert (plan.text_encoder_form, plan.text_encoder, plan.offload) == ("bf16", "cpu", "model")
    assert plan.missing == ("text-encoder-gguf-q6_k",)


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


def test_6gb_plan_with_the_gguf_encoder_meets_the_targets():
    """Issue 11: a GGUF transformer + Q6_K encoder swapped on the GPU; VRAM ≤ 5.4 (CUDA context
    included), RAM ≤ 10 GiB. An installed Q4_K still runs, with a warning from the table."""
    for machine in (MACHINES["RTX 2060 6GB"][0], MACHINES["RTX 4090 24GB"][0]):
        plan = make_plan(machine, {"Q3_K", "Q4_K"}, "6gb", present_te_forms={"Q6_K", "bf16"})
        assert (plan.transformer_form, plan.text_encoder_form) == ("Q3_K", "Q6_K")
        assert (plan.text_encoder, plan.offload) == ("offload", "model")
        assert plan.predicted_vram_gib <= 5.4 and plan.predicted_ram_gib <= 10.0
        assert "GGUF Q6_K text encoder" in plan.explanation and not plan.missing and not plan.warnings
        q4 = make_plan(machine, {"Q4_K"}, "6gb", present_te_forms={"Q6_K"})
        assert q4.transformer_form == "Q4_K" and q4.predicted_vram_gib > 5.4
        assert any("may not fit" in str(w) for w in q4.warnings)
    bf16 = make_plan(MACHINES["RTX 2060 6GB"][0], {"Q3_K"}, "6gb", present_te_forms={"bf16"})
    assert bf16.predicted_ram_gib > plan.predicted_ram_gib + 4  # what the GGUF encoder saves


def test_8gb_plan_swaps_a_gguf_encoder_and_says_why_it_took_its_transformer():
    machine = gpu("GeForce RTX 4060 Laptop", 7.6, (8, 9), True)
    plan = make_plan(machine, {"Q6_K", "fp8", "bf16"}, present_te_forms={"Q6_K"})
    # The transformer stays on the GPU between images; only a new prompt's encoder swaps in for it.
    assert plan.profile == "8gb" and plan.transformer_form == "Q6_K" and plan.offload == "none"
    assert plan.text_encoder == "offload" and plan.predicted_vram_gib <= 7.0
    assert "(the best that fits)" in plan.explanation
    fp8 = make_plan(machine, {"fp8", "bf16"}, present_te_forms={"Q6_K"})  # the seed's FP8 file
    # 5.73 GiB + the VAE + activations + the CUDA context is just over the 7.0 budget: it runs,
    # and says so.
    assert fp8.transformer_form == "fp8"
    assert "FP8-stored transformer (bf16 compute) (installed)" in fp8.explanation
    assert "may not fit" in str(fp8.warnings[0])


def test_explanations_never_contradict_the_compute_dtype():
    for name, (machine, *_rest) in MACHINES.items():
        for profile in PROFILES:
            plan = make_plan(machine, {"bf16", "fp8", "Q8_0", "Q6_K", "Q4_K", "Q3_K"}, profile, force_form="fp8")
            short = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}[plan.compute_dtype]
            assert f"({short} compute)" in plan.explanation, (name, profile, plan.explanation)
            other = {"bf16", "fp16", "fp32"} - {short}
            assert not any(f"{o} compute" in plan.explanation for o in other), plan.explanation
            assert "float32 compute" not in plan.explanation or short == "fp32"


def test_cpu_plan_does_not_store_a_small_model_in_fp8():
    """A bf16 file that fits RAM comfortably runs as bf16 on the CPU, not FP8-stored."""
    plan = make_plan(MachineInfo(total_ram=64 * G), {"bf16", "fp8"}, "cpu", present_te_forms={"bf16"})
    assert plan.transformer_form == "bf16"
    small = make_plan(MachineInfo(total_ram=16 * G), {"bf16", "fp8"}, "cpu", present_te_forms={"Q8_0"})
    assert small.transformer_form == "fp8" and "may not fit" not in small.warnings[0]  # 23 GiB of fp32 does not fit 16


def test_installed_sizes_replace_the_full_size_figures(tiny_models):
    """A 30 MB test model fits any RAM: the CPU plan runs its bf16 file as bf16, not FP8-stored."""
    from zimage_desktop.engine.model_files import resolve_model_set

    found = resolve_model_set(tiny_models.comfy)
    sizes = dict(found.form_gib)
    assert 0 < sizes["bf16"] < 0.1 and sizes["fp8"] == sizes["bf16"] / 2 and 0 < sizes["te:bf16"] < 0.1
    plan = make_plan(MachineInfo(total_ram=8 * G), found.available_forms, "cpu",
                     present_te_forms=found.text_encoder_forms, installed_gib=sizes)
    assert plan.transformer_form == "bf16" and plan.predicted_ram_gib < 5
    assert make_plan(MachineInfo(total_ram=8 * G), found.available_forms, "cpu").transformer_form == "fp8"


# -- the residency table ------------------------------------------------------------------------

EVERYTHING = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}


def test_pascal_6gb_card_is_warned_that_even_q3_may_not_fit():
    plan = make_plan(gpu("GeForce GTX 1060 6GB", 5.93, (6, 1), False), EVERYTHING, present_te_forms={"Q6_K"})
    assert (plan.profile, plan.compute_dtype, plan.transformer_form) == ("6gb", "float32", "Q3_K")
    assert plan.predicted_vram_gib > PROFILES["6gb"].budget_gib
    assert any("may run out of memory" in str(w) for w in plan.warnings)


def test_swap_profiles_count_both_members_in_ram_while_they_swap():
    """16gb/bf16: the encoder leaves for RAM while the transformer is still there (issue 27)."""
    machine = gpu("RTX 4080", 15.6, (8, 9), True)
    plan = make_plan(machine, {"bf16", "fp8"}, "16gb")
    table = plan.table()
    assert {c.name: c.mode for c in table.components} == {"text_encoder": "swap", "transformer": "swap",
                                                          "vae": "resident"}
    where = table.where()
    assert where["encode"]["text_encoder"] == "device" and where["encode"]["transformer"] == "ram"
    assert where["denoise"]["transformer"] == "device" and where["denoise"]["text_encoder"] == "ram"
    both = TEXT_ENCODER_FORMS_GIB["bf16"] + TRANSFORMER_GIB["bf16"]
    assert plan.predicted_ram_gib >= both + PROCESS_RAM_GIB - 0.01  # not max(encoder, transformer)
    assert any("RAM" in str(w) for w in plan.warnings)  # a 16 GB machine cannot hold 20 GiB


def test_the_4gb_stream_counts_the_pinned_copy_while_loading():
    plan = make_plan(MACHINES["RTX 4090 24GB"][0], EVERYTHING, "4gb", present_te_forms={"Q6_K"})
    transformer = plan.table().component("transformer")
    assert transformer.mode == "stream" and transformer.pinned and transformer.load_copies == 2
    memory = plan.table().phase_memory()
    assert memory["load"][1] - memory["denoise"][1] >= transformer.gib - 0.01


def test_budgets_hold_the_cuda_context_and_stay_below_their_thresholds():
    thresholds = dict(AUTO_THRESHOLDS_GIB)
    for name, profile in PROFILES.items():
        if profile.device == "cuda":
            assert profile.budget_gib <= thresholds[name], name
    plan = make_plan(MACHINES["RTX 3060 12GB"][0], EVERYTHING, "12gb")
    without = replace(plan.table(), context_gib=0.0).peaks()[0]
    assert plan.predicted_vram_gib == round(without + CUDA_CONTEXT_GIB, 2)


def test_prediction_grows_with_the_image_size():
    plan = make_plan(MACHINES["RTX 4090 24GB"][0], EVERYTHING, "8gb", present_te_forms={"Q6_K"})
    small, big = plan.predicted_peaks(256, 256), plan.predicted_peaks(1536, 1536)
    assert small[0] < plan.predicted_vram_gib < big[0]
    assert plan.predicted_peaks() == (plan.predicted_vram_gib, plan.predicted_ram_gib)


def test_one_chosen_gpu_decides_profile_dtype_and_device():
    """A 4 GB Pascal card at index 0 beside a 4090: auto takes the 4090 (cuda:1) for everything;
    choosing card 0 gives card 0's profile and dtype."""
    machine = MachineInfo(gpus=(GpuInfo(0, "GTX 1050 Ti", 4 * G, 4 * G, (6, 1), False),
                                GpuInfo(1, "RTX 4090", 24 * G, 24 * G, (8, 9), True)), total_ram=64 * G)
    auto = make_plan(machine, EVERYTHING)
    assert (auto.profile, auto.compute_dtype, auto.device_name) == ("24gb", "bfloat16", "cuda:1")
    assert auto.table().device == "cuda:1"
    small = make_plan(machine, EVERYTHING, gpu_index=0)
    assert (small.profile, small.compute_dtype, small.device_name) == ("4gb", "float32", "cuda:0")
    with pytest.raises(BadInputError, match="no CUDA GPU 2"):
        make_plan(machine, EVERYTHING, gpu_index=2)


def test_a_new_phase_and_component_join_the_table():
    """Other features add rows (LoRA weights) and phases; the peaks follow without new code."""
    plan = make_plan(MACHINES["RTX 3060 12GB"][0], EVERYTHING, "12gb")
    lora = Component("lora", 0.3, "bf16", "bfloat16", "resident", ("denoise",))
    table = plan.table().with_component(lora)
    assert table.peaks()[0] == pytest.approx(plan.predicted_vram_gib + 0.3, abs=0.011)
    assert table.where()["denoise"]["lora"] == "device"


def test_the_sentence_follows_the_plans_own_figures():
    """Issue 27: a plan whose figures change after it was made (a LoRA set's peaks, replaced by the
    engine; an fp32 retry) says the new figures, and "may not fit" once they pass the budget — the
    sentence is never the one of the plan as first made."""
    plan = make_plan(MACHINES["RTX 3060 12GB"][0], {"fp8"}, present_te_forms={"bf16"})
    assert f"{plan.predicted_vram_gib:.1f} GiB VRAM" in plan.explanation and "may not fit" not in plan.explanation
    grown = replace(plan, lora_gib=1.5, predicted_vram_gib=plan.predicted_vram_gib + 0.6,
                    predicted_ram_gib=plan.predicted_ram_gib + 3.0)
    assert f"peak ≈ {grown.predicted_vram_gib:.1f} GiB VRAM, {grown.predicted_ram_gib:.0f} GiB RAM" in grown.explanation
    assert f"{plan.predicted_vram_gib:.1f} GiB VRAM" not in grown.explanation
    over = replace(plan, predicted_vram_gib=PROFILES[plan.profile].budget_gib + 1.0)
    assert "may not fit 12 GB" in over.explanation and "may not fit" not in plan.explanation
    fp32 = replace(plan, compute_dtype="float32")
    assert "(fp32 compute)" in fp32.explanation and "(bf16 compute)" not in fp32.explanation
    cpu = make_plan(MACHINES["CPU 16GB"][0], {"Q8_0"}, present_te_forms={"Q8_0"})
    assert f"≈ {cpu.predicted_ram_gib + 20:.0f} GiB RAM" in replace(cpu, predicted_ram_gib=cpu.predicted_ram_gib + 20).explanation
