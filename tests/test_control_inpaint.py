"""A ControlNet Union 2.x in the edit modes: "Fix the text" draws the glyphs inside the mask and
leaves the rest of the picture alone; the control context is ComfyUI's."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.devkit.controlnet import write_tiny_controlnet
from zimage_desktop.engine.editing import feathered_mask
from zimage_desktop.engine.request import ControlRef, GenerationRequest
from zimage_desktop.errors import BadInputError

SIZE = 256


@pytest.fixture(scope="module")
def generator(tiny_models, tmp_path_factory):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan

    root = tmp_path_factory.mktemp("control-inpaint") / "models"
    shutil.copytree(tiny_models.comfy, root)
    write_tiny_controlnet(root, "2.1")
    return Generator(root, device="cpu", plan=reference_plan("cpu"))


@pytest.fixture(scope="module")
def files(generator, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fix-text")
    source = generator.run(GenerationRequest(prompt="a poster", width=SIZE, height=SIZE, steps=2, seed=4)).images[0]
    source.image.save(folder / "source.png")
    mask = Image.new("L", (SIZE, SIZE), 0)
    mask.paste(255, (64, 96, 192, 160))
    mask.save(folder / "mask.png")
    glyphs = Image.new("RGB", (SIZE, SIZE), "black")  # what the glyph renderer makes: white text edges
    ImageDraw.Draw(glyphs).text((72, 110), "SALE 50%", fill="white")
    glyphs.save(folder / "glyphs.png")
    return folder


def _request(files, weight: float, mode: str = "inpaint", **more) -> GenerationRequest:
    """``weight``: the control's strength (below 0: no control)."""
    controls = (ControlRef("canny", str(files / "glyphs.png"), None, weight, 0.0, 1.0),) if weight >= 0 else ()
    fields = dict(prompt="a poster with the words SALE 50%", width=SIZE, height=SIZE, steps=2, seed=9, mode=mode,
                  source=str(files / "source.png"), strength=1.0, controls=controls)
    if mode == "inpaint":
        fields["mask"] = str(files / "mask.png")
    fields.update(more)
    return GenerationRequest(**fields)  # type: ignore[arg-type]


def _pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_inpaint_with_control_keeps_the_outside_and_strength_zero_is_plain_inpaint(generator, files):
    plain = generator.run(_request(files, -1)).images[0]
    zero = generator.run(_request(files, 0.0)).images[0]
    controlled = generator.run(_request(files, 1.0)).images[0]
    assert np.array_equal(_pixels(zero.image), _pixels(plain.image))  # bit for bit
    source = _pixels(Image.open(files / "source.png"))
    outside = np.asarray(feathered_mask(Image.open(files / "mask.png"), 8)) == 0
    out = _pixels(controlled.image)
    assert np.array_equal(out[outside], source[outside])
    assert np.abs(out[~outside] - _pixels(plain.image)[~outside]).mean() > 0.5  # the glyphs changed the inside
    # the image's record names the ControlNet and keeps the control image it followed
    assert controlled.model["controls"][0]["version"] == "2.1"
    assert controlled.control_images and controlled.control_images[0].size == (SIZE, SIZE)


def test_only_masked_and_img2img_take_the_control_too(generator, files):
    crop = generator.run(_request(files, 1.0, only_masked=True, only_masked_padding=16)).images[0]
    source = _pixels(Image.open(files / "source.png"))
    outside = np.asarray(feathered_mask(Image.open(files / "mask.png"), 8)) == 0
    assert np.array_equal(_pixels(crop.image)[outside], source[outside])
    plain = generator.run(_request(files, -1, mode="img2img", strength=0.5)).images[0]
    with_control = generator.run(_request(files, 1.0, mode="img2img", strength=0.5)).images[0]
    assert np.abs(_pixels(with_control.image) - _pixels(plain.image)).mean() > 0.5


def test_union_1_cannot_inpaint_one_sentence(tiny_models, files, tmp_path):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan

    root = tmp_path / "models"
    shutil.copytree(tiny_models.comfy, root)
    write_tiny_controlnet(root, "1.0")
    gen = Generator(root, device="cpu", plan=reference_plan("cpu"))
    with pytest.raises(BadInputError, match=r"Union 1\.0, which has no inpaint input") as err:
        gen.run(_request(files, 1.0))
    assert "\n" not in str(err.value)


def test_upscale_with_a_control_is_refused_in_one_sentence(files):
    with pytest.raises(BadInputError, match="not with upscaling"):
        _request(files, 1.0, mode="upscale", upscale=2.0, width=512, height=512, strength=0.4)


COMFY_SIDE = r'''
import json, sys
import numpy as np, torch
from PIL import Image
sys.path.insert(0, sys.argv[1])
work, vae_file = sys.argv[3], sys.argv[2]
import comfy.options
comfy.options.enable_args_parsing()
sys.argv = ["comfy", "--cpu"]  # as ComfyUI's main.py reads its options: on the CPU here
import comfy.sd, comfy.utils
from comfy_extras.nodes_model_patch import ZImageControlPatch

vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(vae_file))
def image(name):
    return torch.from_numpy(np.asarray(Image.open(f"{work}/{name}").convert("RGB"), dtype=np.float32) / 255)[None]
mask = torch.from_numpy(np.asarray(Image.open(f"{work}/mask.png"), dtype=np.float32) / 255)[None]
# ZImageFunControlnet.diffsynth_controlnet's own steps before it builds the patch
mask = 1.0 - mask.unsqueeze(1).unsqueeze(2)
patch = ZImageControlPatch.__new__(ZImageControlPatch)
patch.vae, patch.mask, patch.is_inpaint = vae, mask, True
out = patch.encode_latent_cond(image("control.png"), image("inpaint.png"))
np.save(f"{work}/comfy.npy", out.detach().float().numpy())
'''


@pytest.mark.comfy
@pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing())
def test_inpaint_context_equals_comfyuis_own_encoding(tmp_path_factory, tmp_path):
    """Same VAE weights (the kit's), same pixels and mask: our context and ComfyUI's
    ``ZImageControlPatch.encode_latent_cond`` agree channel by channel."""
    import torch
    from diffusers import AutoencoderKL

    from zimage_desktop.engine.control_inpaint import inpaint_context
    from zimage_desktop.engine.controlnet_files import identify
    from zimage_desktop.engine.model_files import shipped_config_dir

    python = comfy_kit.kit_python()
    assert python is not None
    kit = comfy_kit.build_weights(python, tmp_path_factory.mktemp("kit-weights"))
    vae_file = kit / json.loads((kit / "tiny_zimage.json").read_text())["files"]["vae"]
    rng = np.random.default_rng(3)
    control = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    inpaint = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    mask = Image.new("L", (96, 64), 0)
    mask.paste(255, (20, 12, 61, 45))  # not on the latent grid: "nearest" and the rounding matter
    for name, picture in (("control.png", control), ("inpaint.png", inpaint), ("mask.png", mask)):
        picture.save(tmp_path / name)
    run = subprocess.run([str(python), "-c", COMFY_SIDE, str(comfy_kit.kit_dir() / "ComfyUI"), str(vae_file),
                          str(tmp_path)], capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1",
                              "PYTHONPATH": str(comfy_kit.kit_dir() / "shim")})  # the kit's torchvision stand-in
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = torch.from_numpy(np.load(tmp_path / "comfy.npy"))

    from safetensors.torch import load_file

    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(shipped_config_dir() / "vae"))
    vae.load_state_dict({k: v.float() for k, v in load_file(str(vae_file)).items()})
    union = identify(write_tiny_controlnet(tmp_path / "m", "2.1"))

    class VaeOnly:  # all inpaint_context needs of a pipeline: its VAE
        pass

    pipe = VaeOnly()
    pipe.vae = vae  # type: ignore[attr-defined]
    ours = inpaint_context(pipe, union, control, inpaint, Image.open(tmp_path / "mask.png"))[:, :, 0]
    assert ours.shape == theirs.shape == (1, 33, 8, 12)
    print(f"context vs ComfyUI: control latent max {(ours[:, :16] - theirs[:, :16]).abs().max():.2e}, "
          f"inpaint latent max {(ours[:, 17:] - theirs[:, 17:]).abs().max():.2e}")
    assert torch.equal(ours[:, 16], theirs[:, 16])  # the mask channel, exactly
    for part in (slice(0, 16), slice(17, 33)):  # the two latents, within float tolerance
        assert torch.allclose(ours[:, part], theirs[:, part], atol=1e-4, rtol=0), (
            (ours[:, part] - theirs[:, part]).abs().max())


@pytest.mark.parametrize("start,end", [(0.0, 1.0), (0.25, 1.0), (0.0, 0.75), (0.75, 1.0)])
def test_comfy_graph_of_fix_the_text_feeds_the_source_and_mask_to_the_inpaint_input(start, end):
    """The inpaint graph: ZImageFunControlnet takes the loaded source (IMAGE) and its alpha (MASK)
    as ComfyUI defines its inputs; the sampler runs the edit's steps, the patched model those of
    the control's range."""
    from tests.test_control import COMFY, NODE_SOURCES, _comfy_inputs

    from zimage_desktop.history.comfy_export import api_prompt

    if not COMFY.is_dir():
        pytest.skip("ComfyUI's source is not in shared/peers")
    sources = dict(NODE_SOURCES, VAEEncode="nodes.py", SetLatentNoiseMask="nodes.py")
    req = GenerationRequest(prompt="poster", steps=8, seed=3, mode="inpaint", source="/x/s.png", mask="/x/m.png",
                            source_sha256="c" * 64, mask_sha256="d" * 64, strength=0.5,
                            controls=(ControlRef("canny", "/x/a.png", "a" * 64, 0.8, start, end),))
    graph = api_prompt(req, {"controls": [{"name": "Union-2.1.safetensors", "prepared": "b.png"}]})
    for node in graph.values():
        if node["class_type"] in sources:
            required, optional = _comfy_inputs(sources[node["class_type"]], node["class_type"])
            assert required <= set(node["inputs"]) <= required | optional, node
    patch = next(n for n in graph.values() if n["class_type"] == "ZImageFunControlnet")
    loaded = next(k for k, n in graph.items() if n["class_type"] == "LoadImage" and n["inputs"]["image"] != "b.png")
    assert patch["inputs"]["inpaint_image"] == [loaded, 0] and patch["inputs"]["mask"] == [loaded, 1]
    samplers = [n for n in graph.values() if n["class_type"].startswith("KSampler")]
    if (max(4, round(start * 8)), round(end * 8)) == (4, 8):  # strength 0.5 of 8 steps: the last 4, as KSampler's denoise says
        assert [(s["inputs"]["steps"], s["inputs"]["denoise"]) for s in samplers] == [(4, 0.5)]
    else:
        spans = sorted((s["inputs"]["start_at_step"], s["inputs"]["end_at_step"], s["inputs"]["model"][0])
                       for s in samplers)
        assert spans[0][0] == 4 and spans[-1][1] == 8
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        patched = [(a, b) for a, b, m in spans if m == "22"]
        assert patched == [(max(4, round(start * 8)), round(end * 8))]
