"""Edit modes on the tiny kit: every mode on bf16, FP8 and GGUF weights, pixels outside the
feathered mask kept, the requested sizes, strength deciding the steps as diffusers does, no second
copy of the weights, and "re-run exactly" from the saved request."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from zimage_desktop.engine.edit_run import edit_pipeline, steps_run
from zimage_desktop.engine.editing import feathered_mask
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import BadInputError
from zimage_desktop.history.edit_inputs import keep_edit_inputs, resolve_edit_inputs

BASE = dict(prompt="a red apple on a table", width=256, height=256, steps=2, seed=5)


@pytest.fixture(scope="module")
def files(tmp_path_factory, generators):
    folder = tmp_path_factory.mktemp("edit-inputs")
    source = generators["comfy"].run(GenerationRequest(**BASE)).images[0].image
    source.save(folder / "source.png")
    mask = Image.new("L", source.size, 0)
    mask.paste(255, (96, 96, 160, 144))
    mask.save(folder / "mask.png")
    return folder


@pytest.fixture(scope="module")
def fp8_generator(tiny_models):
    return Generator(tiny_models.comfy, device="cpu", plan=replace(reference_plan(), transformer_form="fp8"))


def edit_request(files, mode, **more):
    fields = dict(BASE, mode=mode, source=str(files / "source.png"), strength=0.5, seed=9)
    if mode == "inpaint":
        fields.update(mask=str(files / "mask.png"), strength=1.0)
    if mode == "outpaint":
        fields.update(outpaint=(64, 0, 0, 0), width=320, strength=1.0)
    if mode == "upscale":
        fields.update(upscale=2.0, width=512, height=512, strength=0.5)
    fields.update(more)
    return GenerationRequest(**fields)


def _pixels(image):
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _check(mode, image, files):
    source = Image.open(files / "source.png").convert("RGB")
    out = _pixels(image)
    if mode == "inpaint":
        assert image.size == source.size
        hard = Image.open(files / "mask.png")
        outside = np.asarray(feathered_mask(hard, 8)) == 0
        assert np.array_equal(out[outside], _pixels(source)[outside])  # untouched, exactly
        assert np.abs(out[~outside] - _pixels(source)[~outside]).mean() > 1  # the masked area was redrawn
    elif mode == "outpaint":
        assert image.size == (320, 256)
        assert np.array_equal(out[:, 72:], _pixels(source)[:, 8:])  # beyond the feather: the source
    elif mode == "upscale":
        assert image.size == (512, 512)
        assert out.std() > 1
    else:
        assert image.size == (256, 256) and 0 < np.abs(out - _pixels(source)).mean()


@pytest.mark.parametrize("weights", ["bf16", "fp8", "gguf"])
@pytest.mark.parametrize("mode", ["img2img", "inpaint", "outpaint", "upscale"])
def test_every_mode_on_every_weight_form(generators, fp8_generator, files, weights, mode):
    gen = {"bf16": generators["comfy"], "fp8": fp8_generator, "gguf": generators["gguf"]}[weights]
    result = gen.run(edit_request(files, mode))
    (image,) = result.images
    _check(mode, image.image, files)
    if weights == "fp8":
        assert gen.pipe.transformer.layers[0].feed_forward.w1.weight.dtype == torch.float8_e4m3fn


def test_edit_pipelines_share_the_loaded_weights(generators, files):
    gen = generators["gguf"]
    gen.run(edit_request(files, "img2img"))
    before = {name: p.data_ptr() for name, p in gen.pipe.transformer.named_parameters()}
    for inpaint in (False, True):
        edit = edit_pipeline(gen, inpaint)
        assert edit.transformer is gen.pipe.transformer and edit.vae is gen.pipe.vae
        assert {n: p.data_ptr() for n, p in edit.transformer.named_parameters()} == before


@pytest.mark.parametrize("strength", [0.1, 0.25, 0.5, 0.8, 1.0])
def test_strength_decides_the_steps_as_diffusers_does(generators, files, strength):
    gen = generators["comfy"]
    steps = []
    request = edit_request(files, "img2img", strength=strength, steps=8)
    if steps_run(8, strength) < 1:
        pytest.skip("no step runs")
    gen.run(request, on_step=lambda e: steps.append((e.step, e.total_steps)))
    pipe = edit_pipeline(gen, False)  # diffusers' own arithmetic on its own scheduler
    pipe.scheduler.set_timesteps(sigmas=np.linspace(1, 0.1, 8), device="cpu")
    _, expected = pipe.get_timesteps(8, strength, "cpu")
    assert steps == [(i, expected) for i in range(1, expected + 1)]


@pytest.mark.parametrize("mode", ["img2img", "inpaint", "outpaint", "upscale"])
def test_rerun_exactly_from_the_saved_request_gives_identical_pixels(generators, files, tmp_path, mode):
    gen = generators["gguf"]
    first_request = keep_edit_inputs(edit_request(files, mode, steps=2, strength=1.0), tmp_path)
    first = gen.run(first_request).images[0]
    saved = GenerationRequest.from_json(first.request.to_json())  # as the history and the PNG keep it
    assert saved.source is None and saved.source_sha256 == first_request.source_sha256
    again = gen.run(resolve_edit_inputs(saved, tmp_path)).images[0]
    assert np.array_equal(_pixels(first.image), _pixels(again.image))


def test_only_the_masked_area_changes_only_around_the_mask(generators, files):
    gen = generators["gguf"]
    result = gen.run(edit_request(files, "inpaint", only_masked=True, only_masked_padding=16, steps=2))
    _check("inpaint", result.images[0].image, files)


def test_upscale_in_tiles_reports_every_tiles_steps(generators, files):
    gen = generators["gguf"]
    gen.tile_pixels = 256 * 256
    try:
        events = []
        result = gen.run(edit_request(files, "upscale", steps=2, strength=0.5),
                         on_step=lambda e: events.append((e.step, e.total_steps)))
    finally:
        gen.tile_pixels = None
    assert result.images[0].image.size == (512, 512)
    total = events[-1][1]
    assert total == 9 and [s for s, _ in events] == list(range(1, total + 1))  # 3×3 tiles, 1 step each


def test_cancel_during_an_edit_returns_nothing_and_the_engine_stays_usable(generators, files):
    gen = generators["gguf"]
    result = gen.run(edit_request(files, "inpaint", steps=4), is_cancelled=lambda: True)
    assert result.cancelled and not result.images
    assert gen.run(edit_request(files, "img2img", steps=2)).images


def test_a_missing_source_is_one_sentence(generators, files):
    saved = GenerationRequest.from_json(edit_request(files, "img2img", source_sha256="ab" * 32).to_json())
    with pytest.raises(BadInputError, match="needs its source image"):
        generators["gguf"].run(saved)


@pytest.mark.parametrize("offload", ["model", "group"])
def test_edits_run_under_offload_and_vae_tiling(tiny_models, files, offload):
    """The edit pipelines use the loaded modules' placement hooks (swap ring / group offload) and the
    VAE's tiling for the encode pass as well."""
    plan = replace(reference_plan(), offload=offload, text_encoder="cpu", vae_tiling=True)
    gen = Generator(tiny_models.gguf, device="cpu", plan=plan)
    _check("inpaint", gen.run(edit_request(files, "inpaint", steps=1)).images[0].image, files)
