"""LoRAs on the tiny kit: every layout trainers write, against diffusers' own load_lora_weights;
FP8 and GGUF; strength 0; two at once; switching without reloading; bad files one sentence each."""

import os
import shutil

import numpy as np
import pytest
import torch

from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.devkit.tiny import build_tiny_pipeline, write_comfy_folder
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.request import GenerationRequest, LoraRef
from zimage_desktop.errors import BadInputError, ModelFilesError

RANK, ALPHA = 4, 8.0
SMALL = dict(width=256, height=256, steps=2, seed=5)


def pixels(img):
    return np.asarray(img, dtype=np.float64)


@pytest.fixture(scope="module")
def kit(tmp_path_factory, tiny_models):
    """The comfy (bf16), FP8 and GGUF folders of the kit's weights, sharing one loras/ folder with
    the same LoRA in every layout, a second LoRA, and files that must be refused."""
    root = tmp_path_factory.mktemp("lora-kit")
    pipe = build_tiny_pipeline(0)  # the kit's weights (same seed)
    folders = {"bf16": root / "bf16", "gguf": root / "gguf", "fp8": root / "fp8"}
    shutil.copytree(tiny_models.comfy, folders["bf16"])
    shutil.copytree(tiny_models.gguf, folders["gguf"])
    write_comfy_folder(pipe, folders["fp8"], transformer="fp8")
    loras = root / "loras"
    state = tl.shared_qkv_down(tl.write_peft_lora(pipe.transformer, root / "unused.safetensors", RANK, ALPHA))
    tl.write_peft_state(state, loras / "style_peft.safetensors", RANK, ALPHA)
    for fmt in tl.FORMATS[1:]:
        tl.write_format(state, fmt, loras / f"style_{fmt}.safetensors", RANK, ALPHA)
    tl.write_peft_lora(pipe.transformer, loras / "detail.safetensors", 2, 2.0, seed=7, magnitude=0.25,
                       metadata={"ss_tag_frequency": '{"img": {"zzdetail": 9, "sharp": 3}}'})
    for folder in folders.values():
        os.symlink(loras, folder / "loras")
    return folders


@pytest.fixture(scope="module")
def gens(kit):
    plan = reference_plan("cpu")
    return {form: Generator(folder, device="cpu", plan=plan) for form, folder in kit.items()}


def run(gen, **kwargs):
    values = {"prompt": "a red fox in snow", **SMALL, **kwargs}
    return pixels(gen.run(GenerationRequest(**values)).images[0].image)


def diffusers_reference(gen, files_and_weights):
    """The picture with diffusers' own load_lora_weights (PEFT layers) on the same pipeline."""
    pipe = gen.pipe
    names = []
    for i, (path, _) in enumerate(files_and_weights):
        pipe.load_lora_weights(str(path), adapter_name=f"a{i}")
        names.append(f"a{i}")
    pipe.set_adapters(names, [w for _, w in files_and_weights])
    try:
        return run(gen)
    finally:
        pipe.unload_lora_weights()


@pytest.mark.parametrize("fmt", tl.FORMATS)
def test_every_layout_equals_diffusers_load_lora_weights(gens, kit, fmt):
    gen = gens["bf16"]
    plain = run(gen)
    reference = diffusers_reference(gen, [(kit["bf16"] / "loras" / "style_peft.safetensors", 1.0)])
    ours = run(gen, loras=(LoraRef(f"style_{fmt}", 1.0),))
    assert np.abs(reference - plain).mean() > 2  # the LoRA changes the picture
    assert np.abs(ours - reference).mean() <= 1.0, fmt  # ≤ 1/255 mean


def test_strength_zero_is_no_lora_and_strengths_scale(gens):
    gen = gens["bf16"]
    plain = run(gen)
    assert np.array_equal(run(gen, loras=(LoraRef("style_kohya", 0.0),)), plain)
    half = run(gen, loras=(LoraRef("style_kohya", 0.5),))
    full = run(gen, loras=(LoraRef("style_kohya", 1.0),))
    assert 0 < np.abs(half - plain).mean() < np.abs(full - plain).mean()
    assert np.array_equal(run(gen), plain)  # removed again: the base weights were never touched


def test_two_loras_compose_like_diffusers_adapters(gens, kit):
    gen = gens["bf16"]
    loras = kit["bf16"] / "loras"
    reference = diffusers_reference(gen, [(loras / "style_peft.safetensors", 0.7),
                                          (loras / "detail.safetensors", -1.2)])
    ours = run(gen, loras=(LoraRef("style_comfy_down_up", 0.7), LoraRef("detail", -1.2)))
    alone = run(gen, loras=(LoraRef("style_comfy_down_up", 0.7),))
    assert np.abs(ours - alone).mean() > 1
    assert np.abs(ours - reference).mean() <= 1.0


def test_prompt_tag_applies_the_lora_and_is_not_encoded(gens):
    gen = gens["bf16"]
    listed = run(gen, loras=(LoraRef("detail", 0.8),))
    tagged = gen.run(GenerationRequest(prompt="a red fox <lora:detail:0.8> in snow", **SMALL)).images[0]
    assert np.array_equal(pixels(tagged.image), listed)
    assert tagged.request.loras[0].name == "detail" and tagged.request.loras[0].strength == 0.8
    assert len(tagged.request.loras[0].sha256_10 or "") == 10
    # with strength 0 the tag changes nothing: the encoder never saw its text
    assert np.array_equal(run(gen, prompt="a red fox in snow <lora:detail:0>"), run(gen))


@pytest.mark.parametrize("form", ["fp8", "gguf"])
def test_quantized_forms_apply_the_lora_within_their_own_error(gens, form):
    bf16, other = gens["bf16"], gens[form]
    with_lora = dict(loras=(LoraRef("style_diffusion_pipe", 1.0),))
    form_error = np.abs(run(other) - run(bf16)).mean()
    lora_error = np.abs(run(other, **with_lora) - run(bf16, **with_lora)).mean()
    assert np.abs(run(other, **with_lora) - run(other)).mean() > 2  # applied on this form too
    assert lora_error <= form_error * 1.5 + 0.5, (form, lora_error, form_error)


def test_switching_does_not_reload_the_transformer(kit):
    gen = Generator(kit["gguf"], device="cpu", plan=reference_plan("cpu"))
    loads = []
    gen.on_loaded.append(loads.append)
    run(gen)
    transformer = gen.pipe.transformer
    for loras in [("style_kohya", 1.0)], [("style_kohya", 0.3), ("detail", 1.0)], [("detail", -1.0)], []:
        run(gen, loras=tuple(LoraRef(n, s) for n, s in loras))
    assert len(loads) == 1 and gen.pipe.transformer is transformer
    assert gen.lora_patcher.files_read == 2  # each file read once, then cached
    assert gen.lora_patcher.hooked == 0  # no LoRA: no hook left


def _refusal(gen, tmp_loras, name):
    with pytest.raises(ModelFilesError) as caught:
        run(gen, loras=(LoraRef(name, 1.0),))
    text = str(caught.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_bad_files_are_one_sentence_each(kit, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(kit["bf16"], models, symlinks=False, ignore=shutil.ignore_patterns("loras"))
    loras = models / "loras"
    loras.mkdir()
    good = (kit["bf16"] / "loras" / "style_kohya.safetensors").read_bytes()
    (loras / "cut.safetensors").write_bytes(good[: len(good) // 2])
    (loras / "garbage.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    from safetensors.torch import save_file

    save_file({"foo.bar.lora_down.weight": torch.ones(2, 4), "foo.bar.lora_up.weight": torch.ones(4, 2)},
              str(loras / "nomatch.safetensors"))
    save_file({"lora_unet_layers_0_attention_to_q.lora_down.weight": torch.ones(4, 50),
               "lora_unet_layers_0_attention_to_q.lora_up.weight": torch.ones(96, 4)}, str(loras / "shape.safetensors"))
    nan = torch.ones(4, 96)
    nan[0, 0] = float("nan")
    save_file({"lora_unet_layers_0_attention_to_q.lora_down.weight": nan,
               "lora_unet_layers_0_attention_to_q.lora_up.weight": torch.ones(96, 4)}, str(loras / "nan.safetensors"))
    tl.write_lokr_tucker(loras / "lokr.safetensors")
    tl.write_sdxl(loras / "sdxl.safetensors")
    huge = loras / "huge.safetensors"
    shutil.copy(loras / "shape.safetensors", huge)
    os.truncate(huge, 3 * 1024**3)  # sparse: claims 3 GB
    gen = Generator(models, device="cpu", plan=reference_plan("cpu"))
    assert "incomplete" in _refusal(gen, loras, "cut")
    assert "not a readable safetensors" in _refusal(gen, loras, "garbage")
    text = _refusal(gen, loras, "nomatch")
    assert "matches a layer" in text and "foo.bar.lora_down.weight" in text
    assert "does not fit" in _refusal(gen, loras, "shape")
    assert "not finite" in _refusal(gen, loras, "nan")
    assert "LoKr" in _refusal(gen, loras, "lokr")
    assert "SDXL" in _refusal(gen, loras, "sdxl")
    assert "far larger than any LoRA" in _refusal(gen, loras, "huge")
    assert "is not in" in _refusal(gen, loras, "absent")
    assert len(run(gen)) > 0  # the model still works after every refusal


def test_request_round_trips_and_validates():
    req = GenerationRequest(prompt="x", loras=(LoraRef("a", 0.8, "0123456789"), LoraRef("b", -1.5)))
    assert GenerationRequest.from_json(req.to_json()) == req
    assert GenerationRequest.from_dict({"prompt": "x"}).loras == ()  # old requests load
    for bad in ((LoraRef("a", 2.5),), (LoraRef("../a", 1.0),), (LoraRef("a", 1.0, "xyz"),),
                (LoraRef("a", 1.0), LoraRef("a", 0.5)), (LoraRef("a", float("nan")),)):
        with pytest.raises(BadInputError):
            GenerationRequest(prompt="x", loras=bad)
