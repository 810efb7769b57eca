"""The window's negative prompt and CFG fields: shown for Z-Image (base), hidden for Turbo, in the
request the window builds, filled back from a past request."""

import json
import shutil

from zimage_desktop.engine.architectures import Z_IMAGE_BASE, Z_IMAGE_TURBO
from zimage_desktop.engine.request import GenerationRequest


def test_fields_follow_the_model(qtbot):
    from zimage_desktop.ui.parameters_form import ParametersForm

    form = ParametersForm()
    qtbot.addWidget(form)
    form.show()
    guidance = form.guidance
    assert not guidance.isVisible() and form.steps_spin.value() == Z_IMAGE_TURBO.default_steps
    assert form.values()["cfg"] is None

    form.set_model(Z_IMAGE_BASE)
    assert guidance.negative.isVisible() and guidance.cfg_spin.isVisible()
    assert form.steps_spin.value() == Z_IMAGE_BASE.default_steps and guidance.cfg_spin.value() == Z_IMAGE_BASE.default_cfg
    qtbot.keyClicks(guidance.negative, "blurry, ")
    guidance.negative.insertPlainText("低质量")  # (typing CJK through QTest aborts offscreen)
    guidance.cfg_spin.setValue(3.5)
    values = form.values()
    assert (values["negative_prompt"], values["cfg"]) == ("blurry, 低质量", 3.5)
    GenerationRequest(prompt="x", **{k: values[k] for k in ("negative_prompt", "cfg", "steps")})  # valid

    form.apply(GenerationRequest(prompt="y", negative_prompt="watermark", cfg=4.0, seed=1))
    assert guidance.negative.toPlainText() == "watermark" and guidance.cfg_spin.value() == 4.0

    form.set_model(Z_IMAGE_TURBO)
    assert not guidance.isVisible() and form.steps_spin.value() == Z_IMAGE_TURBO.default_steps
    values = form.values()
    assert values["cfg"] is None and values["negative_prompt"] == "watermark"  # kept, not used by Turbo


def test_window_shows_the_fields_for_a_base_model_folder(qtbot, tmp_path, tiny_models):
    from zimage_desktop.app import run_app

    data = tmp_path / "data"
    data.mkdir()
    models = tmp_path / "tiny-z-image-base"
    shutil.copytree(tiny_models.diffusers, models)
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en", "models_dir": str(models)}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    qtbot.waitUntil(lambda: any(e.kind in ("loaded", "failed") for e in events), timeout=30000)
    assert win.findChild(type(win.form.guidance.negative), "negativeEdit").isVisible()
    assert win.steps_spin.value() == Z_IMAGE_BASE.default_steps
    win.close()
