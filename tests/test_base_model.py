"""Z-Image (the base model) as a second catalog model: its files are recognised, planned and
offered as optional downloads, on a tiny kit variant of the base model (devkit.tiny.add_base_model)."""

import shutil

import pytest

from zimage_desktop.devkit.tiny import BASE_TINY_TRANSFORMER, add_base_model
from zimage_desktop.engine.architectures import ARCHITECTURES, Z_IMAGE_BASE
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.model_files import installed_architecture, resolve_model_set
from zimage_desktop.models.catalog import load_catalog
from zimage_desktop.models.store import recognise


@pytest.fixture
def both(comfy_copy):
    add_base_model(comfy_copy)
    return comfy_copy


def test_the_base_model_is_registered_with_its_own_facts():
    assert ARCHITECTURES["z-image-base"] is Z_IMAGE_BASE
    assert Z_IMAGE_BASE.uses_cfg and not ARCHITECTURES["z-image-turbo"].uses_cfg
    assert (Z_IMAGE_BASE.default_steps, Z_IMAGE_BASE.default_cfg, Z_IMAGE_BASE.fp16_safe) == (50, 5.0, False)


def test_its_files_are_found_beside_turbos(both, monkeypatch):
    assert resolve_model_set(both).arch == "z-image-turbo"  # the default model first
    base = resolve_model_set(both, model="z-image-base")
    assert (base.arch, base.transformer.name) == ("z-image-base", BASE_TINY_TRANSFORMER)
    assert base.config_dir == both / "configs" / "z-image-base"
    assert resolve_model_set(both, transformer=BASE_TINY_TRANSFORMER).arch == "z-image-base"
    # Importing a file: only Turbo's configs are shipped (here the tiny kit's); the base model shares
    # Turbo's transformer shape, so its file is recognised with them.
    from zimage_desktop.engine import model_files as mf

    monkeypatch.setattr(mf, "shipped_config_dir", lambda model="z-image-turbo": both / "configs" / (
        "z-image-turbo" if model == "z-image-turbo" else "absent"))
    assert recognise(both / "diffusion_models" / BASE_TINY_TRANSFORMER) == "transformer"


def test_a_folder_with_only_the_base_model_plans_its_components(both):
    for path in (both / "diffusion_models").iterdir():
        if path.name != BASE_TINY_TRANSFORMER:
            path.unlink()
    shutil.rmtree(both / "configs" / "z-image-turbo")
    assert installed_architecture(both) is Z_IMAGE_BASE
    plan, found = Generator(both, device="cpu").make_plan()
    assert found.arch == "z-image-base"
    assert plan.needs[0].startswith("base-transformer-") and plan.needs[-1] == "base-configs"
    assert not plan.missing or all(c.startswith("base-") or c.startswith("text-encoder") for c in plan.missing)


def test_the_catalog_offers_its_files_as_optional():
    catalog = load_catalog()
    base = {cid: c for cid, c in catalog.components.items() if c.model == "z-image-base"}
    assert {"base-transformer-bf16", "base-configs"} <= set(base)
    assert all(c.optional for c in base.values())
    assert all(c.kind for c in base.values())
    # Turbo's recommended sets stay Turbo's
    assert not any(cid in base for ids in catalog.sets.values() for cid in ids)
    dests = [f.dest for c in base.values() for f in c.files]
    assert "diffusion_models/z_image_bf16.safetensors" in dests
    assert all(d.startswith("configs/z-image-base/") for d in (f.dest for f in catalog.components["base-configs"].files))


def test_a_control_with_guidance_is_refused_before_the_model_loads(both, tmp_path):
    from PIL import Image

    from zimage_desktop.errors import BadInputError
    from zimage_desktop.engine.request import ControlRef, GenerationRequest

    drawing = tmp_path / "drawing.png"
    Image.new("RGB", (64, 64), "white").save(drawing)
    gen = Generator(both, device="cpu")
    req = GenerationRequest(prompt="a logo", transformer=BASE_TINY_TRANSFORMER, seed=1,
                            controls=(ControlRef("canny", str(drawing)),))
    with pytest.raises(BadInputError, match="CFG scale to 1"):
        gen.run(req)  # the base model samples at CFG 5 by default
    assert gen.pipe is None  # nothing was loaded for it
