"""The window's memory plan follows the engine's plan (issue 27): a request that adds, changes or
drops LoRAs changes the plan's figures after the model loaded, and the line under the status line
must say the plan as it is now, through the real worker thread and the real engine."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.devkit.tiny import build_tiny_pipeline
from zimage_desktop.engine import generator as generator_module
from zimage_desktop.engine.request import GenerationRequest, LoraRef
from zimage_desktop.ui.plan_text import explain_plan

LORA_GIB = 1.5


@pytest.fixture
def styled_window(window, monkeypatch):
    """The loaded window with a LoRA in its loras folder. The tiny file is a few KB; the planner counts
    it as LORA_GIB (its only input about the set: ``loras_gib``) so the plan's figures move by an amount
    the one-decimal sentence shows — the engine, the worker and the window run unchanged."""
    loras = window.settings.models_path(window.paths) / "loras"
    loras.mkdir(exist_ok=True)
    tl.write_peft_lora(build_tiny_pipeline(0).transformer, loras / "style.safetensors", 2, 2.0, seed=4)
    real = generator_module.loras_gib
    monkeypatch.setattr(generator_module, "loras_gib", lambda paths: real(paths) + LORA_GIB * len(paths))
    return window


def _run(window, qtbot, loras=()):
    done = len([e for e in window.events if e.kind in ("finished", "failed")])
    window.submit(GenerationRequest(prompt="a small house by a lake", seed=3, width=256, height=256, steps=1,
                                    loras=loras), None)
    qtbot.waitUntil(lambda: len([e for e in window.events if e.kind in ("finished", "failed")]) > done,
                    timeout=60000)
    assert window.events[-1].kind == "finished", [getattr(e, "message", "") for e in window.events]
    plan = window.worker.generator.plan
    assert plan is not None
    return plan


def test_the_window_shows_the_plan_a_lora_set_changes(styled_window, qtbot):
    window = styled_window
    label = window.findChild(QLabel, "planLabel")
    loaded = window.worker.generator.plan
    assert loaded is not None and loaded.lora_gib == 0.0
    at_load = label.text()
    assert at_load.endswith(explain_plan(loaded)) and f"{loaded.predicted_ram_gib:.1f} GiB RAM" in at_load

    plan = _run(window, qtbot, (LoraRef("style", 0.8),))
    assert plan.lora_gib == pytest.approx(LORA_GIB, abs=0.01)
    assert round(plan.predicted_ram_gib, 1) > round(loaded.predicted_ram_gib, 1)
    qtbot.waitUntil(lambda: label.text() != at_load, timeout=5000)
    assert label.text().endswith(explain_plan(plan)) and f"{plan.predicted_ram_gib:.1f} GiB RAM" in label.text()
    assert window.findChild(QLabel, "statusLabel").text().startswith("Done")  # the status line keeps its own text

    plan = _run(window, qtbot)  # the set dropped: the figures go back down (the file stays cached, counted)
    assert plan.lora_gib == 0.0
    qtbot.waitUntil(lambda: label.text().endswith(explain_plan(plan)), timeout=5000)
    assert f"{plan.predicted_ram_gib:.1f} GiB RAM" in label.text()
