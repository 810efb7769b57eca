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


def test_the_window_offers_a_choice_of_model_when_the_folder_holds_two(qtbot, tmp_path, comfy_copy):
    """Turbo and the base model side by side: the model row lists both files; picking the base model
    shows its fields and default steps, and the request names its file, which is what loads."""
    from zimage_desktop.app import run_app
    from zimage_desktop.devkit.tiny import BASE_TINY_TRANSFORMER, add_base_model
    from zimage_desktop.engine.generator import Generator

    add_base_model(comfy_copy)
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en", "models_dir": str(comfy_copy)}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    picker = win.form.model_picker
    qtbot.waitUntil(lambda: picker.isVisible(), timeout=20000)
    names = [picker.itemData(i) for i in range(picker.count())]
    assert names[0] is None and BASE_TINY_TRANSFORMER in names and len(names) >= 3
    assert picker.itemText(0) == "Automatic: Z-Image-Turbo" and not win.form.guidance.isVisible()
    win.prompt.setPlainText("a heron")
    assert win.build_request().transformer is None  # the planner chooses among Turbo's files

    picker.setCurrentIndex(names.index(BASE_TINY_TRANSFORMER))
    assert win.form.guidance.isVisible() and win.steps_spin.value() == Z_IMAGE_BASE.default_steps
    request = win.build_request()
    assert request.transformer == BASE_TINY_TRANSFORMER and request.cfg == Z_IMAGE_BASE.default_cfg
    _, found = Generator(comfy_copy, device="cpu").make_plan(request.transformer)
    assert found.arch == "z-image-base"

    win.form.apply(GenerationRequest(prompt="again", steps=3, seed=2))  # an image made with "Automatic"
    assert picker.currentIndex() == 0 and not win.form.guidance.isVisible() and win.steps_spin.value() == 3
    win.form.apply(GenerationRequest(prompt="again", steps=4, seed=2, transformer=BASE_TINY_TRANSFORMER))
    assert picker.chosen_name() == BASE_TINY_TRANSFORMER and win.steps_spin.value() == 4
    win.close()
