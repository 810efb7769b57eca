"""A second registered model is picked up by the engine from its registry entry, its configs and
its files alone (docs/ARCHITECTURE.md, "How to add a model").

The second entry here stands for Z-Image base: the same tensors as Turbo (so the file name decides),
its own configs folder with another scheduler shift, and another conditioning layer. Nothing in the
engine is told about it except through ``ARCHITECTURES``.
"""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from zimage_desktop.engine import architectures
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.models.store import recognise

BASE = replace(architectures.Z_IMAGE_TURBO, id="z-image-base", title="Z-Image", file_name_hints=("base",),
               default_steps=28, text_hidden_layer=-3)


@pytest.fixture
def two_models(tiny_models, tmp_path, monkeypatch):
    """A ComfyUI folder holding Turbo's files plus a "base" transformer and configs/z-image-base/."""
    monkeypatch.setitem(architectures.ARCHITECTURES, BASE.id, BASE)
    folder = tmp_path / "models"
    shutil.copytree(tiny_models.comfy, folder)
    turbo_file = folder / "diffusion_models" / "tiny_zimage_bf16.safetensors"
    shutil.copyfile(turbo_file, folder / "diffusion_models" / "tiny_zimage_base_bf16.safetensors")
    configs = folder / "configs" / BASE.id
    shutil.copytree(folder / "configs" / architectures.DEFAULT.id, configs)
    scheduler = configs / "scheduler" / "scheduler_config.json"
    data = json.loads(scheduler.read_text())
    data["shift"] = 6.0
    scheduler.write_text(json.dumps(data))
    return folder


def test_the_file_name_picks_among_models_with_the_same_tensors(two_models):
    turbo = resolve_model_set(two_models)  # the default model first
    assert (turbo.arch, turbo.transformer.name) == ("z-image-turbo", "tiny_zimage_bf16.safetensors")
    assert turbo.config_dir == two_models / "configs" / "z-image-turbo"
    base = resolve_model_set(two_models, model=BASE.id)
    assert (base.arch, base.transformer.name) == ("z-image-base", "tiny_zimage_base_bf16.safetensors")
    assert base.config_dir == two_models / "configs" / "z-image-base" and base.architecture is BASE
    named = resolve_model_set(two_models, transformer="tiny_zimage_base_bf16.safetensors")
    assert named.arch == "z-image-base"
    # The planner's sizes describe the chosen model's files only.
    assert dict(base.form_gib)["bf16"] == pytest.approx(dict(turbo.form_gib)["bf16"])


def test_a_folder_with_only_the_second_model_resolves_to_it(two_models):
    (two_models / "diffusion_models" / "tiny_zimage_bf16.safetensors").unlink()
    assert resolve_model_set(two_models).arch == "z-image-base"


def test_recognising_a_file_for_import_knows_every_model(two_models, monkeypatch):
    from zimage_desktop.engine import model_files as mf

    # Only the second model has (tiny) shipped configs here: the file is a transformer only if
    # recognising tries that entry too.
    monkeypatch.setattr(mf, "shipped_config_dir", lambda model=architectures.DEFAULT.id: two_models / "configs" / (
        model if model == BASE.id else "absent"))
    assert recognise(two_models / "diffusion_models" / "tiny_zimage_base_bf16.safetensors") == "transformer"


def test_generating_uses_the_entry_its_configs_and_its_layer(two_models):
    plan = reference_plan("cpu")
    request = dict(prompt="a red kite", width=256, height=256, seed=5)
    turbo = Generator(two_models, device="cpu", plan=plan, previews=False)
    turbo_image = turbo.run(GenerationRequest(**request)).images[0]
    base = Generator(two_models, device="cpu", plan=plan, previews=False)
    base_image = base.run(GenerationRequest(transformer="tiny_zimage_base_bf16.safetensors", **request)).images[0]

    assert turbo_image.model["arch"] == "z-image-turbo" and base_image.model["arch"] == "z-image-base"
    assert turbo.pipe.scheduler.config.shift == 3.0 and base.pipe.scheduler.config.shift == 6.0
    assert (turbo.prompts.hidden_layer, base.prompts.hidden_layer) == (-2, -3)
    # Same weights, same seed: only the entry's facts differ, and they change the picture.
    assert not np.array_equal(np.asarray(turbo_image.image), np.asarray(base_image.image))
    again = Generator(two_models, device="cpu", plan=plan, previews=False)
    assert np.array_equal(np.asarray(again.run(GenerationRequest(**request)).images[0].image),
                          np.asarray(turbo_image.image))
