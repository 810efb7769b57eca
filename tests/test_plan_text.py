"""The plan in the user's language says why an Apple Silicon plan puts the text encoder where it
does — the same reason the engine's English explanation gives (issue 28)."""

import pytest

from zimage_desktop.engine.devices import MachineInfo
from zimage_desktop.engine.planner import make_plan
from zimage_desktop.ui.plan_text import explain_plan
from zimage_desktop.ui.translations import Translations

G = 1024**3


@pytest.fixture
def chinese(qapp):
    Translations.for_app(qapp).apply("zh_CN")
    yield
    Translations.for_app(qapp).apply("en")


def _plans():
    roomy = make_plan(MachineInfo(mps=True, total_ram=32 * G), {"Q4_K"}, "mps", present_te_forms={"Q6_K"})
    small = make_plan(MachineInfo(mps=True, total_ram=8 * G), {"Q4_K"}, "mps", present_te_forms={"bf16"})
    assert roomy.text_encoder == "device" and small.text_encoder == "cpu"
    return roomy, small


def test_mps_plan_text_gives_the_encoders_reason_in_english(qapp):
    roomy, small = _plans()
    assert "text encoder on the GPU (unified memory: on the CPU it would take the same memory and run slower)" \
        in explain_plan(roomy)
    share, limit = small.mps_encoder_over
    assert limit == pytest.approx(8 * 0.7, abs=0.05) and share > limit
    text = explain_plan(small)
    assert f"text encoder on the CPU (the GPU's share with it would be {share:.1f} GiB, over the 5.6 GiB" in text
    assert f"{share:.1f} GiB, over the {limit:.1f} GiB" in small.explanation  # the engine's own words agree
    # Other devices' plans have no such clause.
    cuda = make_plan(MachineInfo(), {"Q4_K"}, "cpu", present_te_forms={"Q6_K"})
    assert "unified memory" not in explain_plan(cuda)


def test_mps_plan_text_gives_the_encoders_reason_in_chinese(chinese):
    roomy, small = _plans()
    for plan in (roomy, small):
        text = explain_plan(plan)
        assert "unified memory" not in text and "macOS lets" not in text and "share" not in text
    assert "统一内存" in explain_plan(roomy)
    share, limit = small.mps_encoder_over
    assert f"{share:.1f}" in explain_plan(small) and f"{limit:.1f}" in explain_plan(small)


def test_the_window_and_the_engine_say_may_not_fit_for_the_same_figures(qapp):
    """Issue 27: a CPU plan whose RAM peak passes the limit it was made under (a LoRA set's figures
    replaced by the engine) says "may not fit" in both sentences, and neither says it before."""
    from dataclasses import replace

    plan = make_plan(MachineInfo(total_ram=16 * G), {"Q8_0"}, "cpu", present_te_forms={"Q8_0"})
    assert plan.ram_limit_gib and "may not fit" not in explain_plan(plan) and "may not fit" not in plan.explanation
    grown = replace(plan, lora_gib=4.0, predicted_ram_gib=plan.ram_limit_gib + 1.0)
    assert "may not fit" in explain_plan(grown) and "may not fit" in grown.explanation
    assert f"{grown.predicted_ram_gib:.1f} GiB RAM" in explain_plan(grown)
