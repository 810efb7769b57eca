"""LyCORIS LoHa and LoKr on the tiny kit, written the way LyCORIS names them (``lycoris_`` +
diffusers names; kohya's ``lora_unet_`` + ComfyUI's fused qkv).

Independent references: ComfyUI's own ``comfy/weight_adapter`` run on the same files in the kit's
venv (the weight change of every module), and the picture with that change merged into the bf16
weights (what ComfyUI does) against ours applied by hooks. Strength 0 is no LoRA exactly; FP8 and
GGUF apply them within their own error; DoRA and Tucker factors are one sentence each.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.devkit.tiny import build_tiny_pipeline
from zimage_desktop.engine import request as request_module
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.lora_patch import LoraPatcher
from zimage_desktop.engine.lora_weights import linear_shapes, read_lora
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.request import GenerationRequest, LoraRef
from zimage_desktop.errors import ModelFilesError

from tests.fixtures.lora_kit import three_form_kit

SMALL = dict(width=128, height=128, steps=2, seed=5, prompt="a red fox in snow")
FILES = [(kind, naming) for kind in tl.LYCORIS_KINDS for naming in ("lycoris", "kohya")]


@pytest.fixture(autouse=True)
def small_images(monkeypatch):
    """128² pictures: four times faster than the app's smallest size on a shared 2-core CPU."""
    monkeypatch.setattr(request_module, "MIN_SIDE", 64)


def pixels(img):
    return np.asarray(img, dtype=np.float64)


@pytest.fixture(scope="module")
def transformer():
    return build_tiny_pipeline(0).transformer.to(torch.float32)


@pytest.fixture(scope="module")
def files(tmp_path_factory, transformer):
    """{(kind, naming): (path, {file prefix: our modules})} for every LoHa/LoKr variant."""
    root = tmp_path_factory.mktemp("lycoris")
    shapes = linear_shapes(transformer)
    return {(kind, naming): (root / f"{kind}_{naming}.safetensors",
                             tl.write_lycoris(shapes, root / f"{kind}_{naming}.safetensors", kind, naming))
            for kind, naming in FILES}


def our_delta(weights, modules):
    """The weight change we apply for one file prefix (q/k/v rows stacked for a fused qkv)."""
    return torch.cat([sum(layer.dense() for layer in weights.layers[m]) for m in modules])


@pytest.mark.comfy
@pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing())
def test_weight_change_equals_comfyui_weight_adapters(files, transformer, tmp_path):
    shapes = linear_shapes(transformer)
    jobs = [(path, {p: (sum(shapes[m][0] for m in ms), shapes[ms[0]][1]) for p, ms in targets.items()})
            for path, targets in files.values()]
    python = comfy_kit.kit_python()
    assert python is not None
    reference = comfy_kit.comfy_weight_deltas(python, jobs, tmp_path)
    for (path, targets), theirs in zip(files.values(), reference):
        assert set(theirs) == set(targets), path.name  # ComfyUI found an adapter for every module
        weights = read_lora(path, shapes)
        for prefix, modules in targets.items():
            ours = our_delta(weights, modules)
            assert theirs[prefix].abs().max() > 1e-3
            torch.testing.assert_close(ours, theirs[prefix], rtol=1e-5, atol=1e-7, msg=f"{path.name} {prefix}")


@pytest.mark.parametrize("kind,naming", FILES)
def test_hooks_add_exactly_the_weight_change(files, transformer, kind, naming):
    """What the on-the-fly hook adds to a layer's output is x·ΔWᵀ (LoKr's factored product, LoHa's
    per-call matrix, a fused qkv's rows) for every changed layer."""
    path, targets = files[(kind, naming)]
    patcher = LoraPatcher(transformer)
    weights = patcher.load(path)
    assert set(weights.layers) == {m for ms in targets.values() for m in ms}
    g = torch.Generator().manual_seed(0)
    try:
        for name in weights.layers:
            module = patcher._modules[name]
            x = torch.randn(3, 7, patcher.shapes[name][1], generator=g)
            patcher.apply([])
            base = module(x)
            patcher.apply([(path, -0.7)])
            changed = module(x)
            expected = torch.nn.functional.linear(x, our_delta(weights, [name])) * -0.7
            torch.testing.assert_close(changed - base, expected, rtol=1e-4, atol=1e-5, msg=name)
    finally:
        patcher.remove()


def write_loras(pipe, loras):
    shapes = linear_shapes(pipe.transformer)
    tl.write_lycoris(shapes, loras / "hada.safetensors", "loha", "kohya", magnitude=0.6)
    tl.write_lycoris(shapes, loras / "kron.safetensors", "lokr", "lycoris", magnitude=0.5)
    tl.write_lokr_tucker(loras / "tucker.safetensors")
    tl.write_dora(loras / "dora.safetensors")


@pytest.fixture(scope="module")
def kit(tmp_path_factory, tiny_models):
    return three_form_kit(tmp_path_factory.mktemp("lycoris-kit"), tiny_models, write_loras)


@pytest.fixture(scope="module")
def gens(kit):
    plan = reference_plan("cpu")
    return {form: Generator(folder, device="cpu", plan=plan) for form, folder in kit.items()}


def run(gen, **kwargs):
    return pixels(gen.run(GenerationRequest(**{**SMALL, **kwargs})).images[0].image)


def merged_reference(gen, path: Path, strength: float):
    """The picture with ComfyUI's way of applying a LyCORIS file: ΔW added to the bf16 weights
    (our ΔW, which equals ComfyUI's adapters, see above), then the weights put back bit for bit."""
    model = gen.pipe.transformer
    shapes = linear_shapes(model)
    weights = read_lora(path, shapes)
    modules = dict(model.named_modules())
    saved = {name: modules[name].weight.detach().clone() for name in weights.layers}
    with torch.no_grad():
        for name in weights.layers:
            weight = modules[name].weight
            weight.copy_((weight.float() + strength * our_delta(weights, [name])).to(weight.dtype))
    try:
        return run(gen)
    finally:
        with torch.no_grad():
            for name, weight in saved.items():
                modules[name].weight.copy_(weight)


@pytest.mark.parametrize("name", ["hada", "kron"])
def test_picture_equals_merged_weights_and_strength_zero_is_no_lora(gens, kit, name):
    gen = gens["bf16"]
    plain = run(gen)
    ours = run(gen, loras=(LoraRef(name, 0.8),))
    reference = merged_reference(gen, kit["bf16"] / "loras" / f"{name}.safetensors", 0.8)
    assert np.abs(reference - plain).mean() > 2  # the file changes the picture
    assert np.abs(ours - reference).mean() <= 1.0  # ≤ 1/255 mean, as for plain LoRAs
    assert np.array_equal(run(gen, loras=(LoraRef(name, 0.0),)), plain)
    assert np.array_equal(run(gen), plain)  # hooks gone, base weights untouched


@pytest.mark.parametrize("form", ["fp8", "gguf"])
def test_quantized_forms_apply_loha_and_lokr_within_their_own_error(gens, form):
    bf16, other = gens["bf16"], gens[form]
    with_both = dict(loras=(LoraRef("hada", 0.8), LoraRef("kron", -0.6)))
    form_error = np.abs(run(other) - run(bf16)).mean()
    lora_error = np.abs(run(other, **with_both) - run(bf16, **with_both)).mean()
    assert np.abs(run(other, **with_both) - run(other)).mean() > 2
    assert lora_error <= form_error * 1.5 + 0.5, (form, lora_error, form_error)


def test_dora_and_tucker_files_are_one_sentence(gens):
    gen = gens["gguf"]
    for name, words in (("dora", "DoRA"), ("tucker", "LoKr (Tucker)")):
        with pytest.raises(ModelFilesError) as caught:
            run(gen, loras=(LoraRef(name, 1.0),))
        text = str(caught.value)
        assert words in text and "\n" not in text and "Traceback" not in text
