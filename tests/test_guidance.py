"""Negative prompt and CFG (issue 25 item 3): Z-Image base samples with classifier-free guidance
exactly as diffusers' ZImagePipeline does; Turbo's pictures do not change with the new fields."""

import shutil

import numpy as np
import pytest
import torch

from zimage_desktop.engine import architectures, guidance
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.planner import make_plan, reference_plan
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.engine.sampling import initial_latents
from zimage_desktop.errors import BadInputError

REQUEST = dict(prompt="a red kite over a lake", width=256, height=256, seed=7, steps=4, scheduler="diffusers")


@pytest.fixture(scope="module")
def base_folder(tiny_models, tmp_path_factory):
    """The tiny diffusers pipeline folder named as Z-Image base's (the folder name picks the entry)."""
    folder = tmp_path_factory.mktemp("kit") / "tiny-z-image-base"
    shutil.copytree(tiny_models.diffusers, folder)
    return folder


@pytest.fixture(scope="module")
def base_gen(base_folder):
    return Generator(base_folder, device="cpu", plan=reference_plan("cpu"), previews=False)


def _pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64)


def test_cfg_with_a_negative_matches_diffusers_and_changes_the_picture(base_folder, base_gen):
    from diffusers import ZImagePipeline

    ours = base_gen.run(GenerationRequest(negative_prompt="blurry, grey", cfg=4.0, **REQUEST)).images[0]
    assert ours.model["arch"] == "z-image-base" and ours.request.cfg == 4.0
    pipe = ZImagePipeline.from_pretrained(base_folder, torch_dtype=torch.float32)
    latents = initial_latents(REQUEST["seed"], 256, 256, torch.device("cpu"))
    theirs = pipe(prompt=REQUEST["prompt"], negative_prompt="blurry, grey", guidance_scale=3.0, height=256, width=256,
                  num_inference_steps=4, latents=latents).images[0]
    assert np.abs(_pixels(ours.image) - _pixels(theirs)).mean() <= 1.0
    # Guidance and the negative's words both matter.
    other = base_gen.run(GenerationRequest(negative_prompt="sharp, colourful", cfg=4.0, **REQUEST)).images[0]
    plain = base_gen.run(GenerationRequest(cfg=1.0, **REQUEST)).images[0]
    assert np.abs(_pixels(other.image) - _pixels(ours.image)).mean() > 1.0
    assert np.abs(_pixels(plain.image) - _pixels(ours.image)).mean() > 1.0


def test_the_base_model_default_cfg_is_recorded(base_gen):
    made = base_gen.run(GenerationRequest(**REQUEST)).images[0]
    assert made.request.cfg == architectures.Z_IMAGE_BASE.default_cfg
    assert made.request.negative_prompt == ""


def test_turbo_ignores_negative_and_cfg_and_says_so_once(generators):
    gen = generators["diffusers"]
    plain = gen.run(GenerationRequest(**REQUEST)).images[0]
    result = gen.run(GenerationRequest(negative_prompt="blurry", cfg=6.0, count=2, **REQUEST))
    assert np.array_equal(np.asarray(result.images[0].image), np.asarray(plain.image))
    assert result.images[0].request.negative_prompt == "blurry"  # kept with the image
    notes = [n for img in result.images for n in img.notes]
    assert len([n for n in notes if "no effect" in n]) == 1
    assert not plain.notes


def test_guidance_doubles_the_planned_denoising_activations():
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo

    gpu = GpuInfo(index=0, name="RTX 2060", total_vram=6 * 2**30, free_vram=6 * 2**30, capability=(7, 5), bf16=False)
    machine = MachineInfo(gpus=(gpu,), mps=False, total_ram=32 * 2**30)
    turbo = make_plan(machine, {"Q4_K"}, "6gb")
    base = make_plan(machine, {"Q4_K"}, "6gb", model="z-image-base")
    assert turbo.compute_dtype == "float16" and base.compute_dtype == "float32"  # no fp16 guard for base
    assert base.needs[0] == "base-transformer-gguf-q4_k_m" and base.needs[-1] == "base-configs"
    assert turbo.needs[0].startswith("transformer-gguf") and turbo.needs[-1] == "configs"
    single = turbo.predicted_peaks(1024, 1024, enhance=False)
    double = turbo.predicted_peaks(1024, 1024, enhance=False, cfg=True)
    assert double[0] == pytest.approx(single[0] + 0.4, abs=0.02)  # denoise: 0.4 GiB per Mpx more


@pytest.mark.parametrize("cfg", [float("nan"), -1.0, 0.0, 0.5, 31.0, "4", True])
def test_bad_cfg_is_one_sentence(cfg):
    """Below 1 ComfyUI mixes neg + cfg·(pos − neg) where diffusers samples unguided: refused, so every
    picture's recorded CFG is the one it was made with."""
    with pytest.raises(BadInputError, match="CFG scale"):
        GenerationRequest(prompt="x", cfg=cfg)
    assert GenerationRequest(prompt="x", cfg=1.0).cfg == 1.0


def test_a_recalled_cfg_below_one_falls_back_with_a_note(tmp_path):
    from PIL import Image, PngImagePlugin

    from zimage_desktop.history.metadata import read_png_metadata

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a heron\nSteps: 50, Sampler: Euler, CFG scale: 0.5, Seed: 3, Size: 64x64, "
                                "Model: z_image_bf16")
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png", pnginfo=info)
    found = read_png_metadata(tmp_path / "a.png")
    assert found.request is not None and found.request.seed == 3 and found.request.cfg is None
    assert any("CFG scale 0.5" in note for note in found.notes), found.notes


def test_guidance_fields_travel_in_the_saved_request():
    req = GenerationRequest(prompt="x", negative_prompt="低质量, blurry", cfg=4.5)
    assert GenerationRequest.from_json(req.to_json()) == req
    old = GenerationRequest.from_dict({"prompt": "x"})
    assert (old.negative_prompt, old.cfg) == ("", None)
    assert guidance.diffusers_guidance_scale(1.0) == 0.0 and guidance.diffusers_guidance_scale(5.0) == 4.0
