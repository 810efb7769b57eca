"""ControlNet Union: the files (each version, as published), the engine loop and preprocessing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from zimage_desktop.devkit.controlnet import write_tiny_controlnet
from zimage_desktop.engine.controlnet_files import find_controlnets, identify, pick_controlnet
from zimage_desktop.engine.request import ControlRef, GenerationRequest
from zimage_desktop.errors import BadInputError, ModelFilesError

SIZE = 256


@pytest.fixture(scope="module")
def control_models(tiny_models, tmp_path_factory):
    """The tiny ComfyUI-style folder with a tiny ControlNet Union 2.1 in model_patches/."""
    root = tmp_path_factory.mktemp("control") / "models"
    shutil.copytree(tiny_models.comfy, root)
    write_tiny_controlnet(root, "2.1")
    return root


@pytest.fixture(scope="module")
def control_generator(control_models):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan

    return Generator(control_models, device="cpu", plan=reference_plan("cpu"))


@pytest.fixture(scope="module")
def drawing(tmp_path_factory):
    path = tmp_path_factory.mktemp("control-src") / "shapes.png"
    img = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 40, 150, 200), fill=(200, 30, 30))
    draw.ellipse((120, 60, 230, 170), fill=(20, 40, 220))
    img.save(path)
    return path


def _pixels(generator, request):
    return np.asarray(generator.run(request).images[0].image, dtype=np.int16)


@pytest.mark.parametrize("version", ["1.0", "2.0", "2.1"])
def test_each_version_is_recognised_and_loads_from_its_single_file(tmp_path, version):
    import torch
    from diffusers.loaders.single_file_utils import infer_diffusers_model_type
    from safetensors.torch import load_file

    path = write_tiny_controlnet(tmp_path, version)
    found = identify(path)
    assert found.version == version
    # diffusers' own detection agrees with ours on the file as written
    expected = {"1.0": "z-image-turbo-controlnet", "2.0": "z-image-turbo-controlnet-2.0",
                "2.1": "z-image-turbo-controlnet-2.1"}[version]
    assert infer_diffusers_model_type(load_file(str(path))) == expected

    from zimage_desktop.devkit.tiny import build_tiny_pipeline
    from zimage_desktop.engine.controlnet import load_controlnet

    transformer = build_tiny_pipeline().transformer
    model = load_controlnet(found, transformer, torch.float32, torch.device("cpu"))
    assert model.control_in_dim == (16 if version == "1.0" else 33)
    assert model.t_embedder is transformer.t_embedder  # shares the transformer's embedders
    # the weights are the file's (2.0's untrained refiner blocks are dropped, as diffusers does)
    state = load_file(str(path))
    key = "control_layers.3.attention.to_q.weight"
    assert torch.equal(model.state_dict()[key], state[key].float())


def test_model_patches_folder_picks_the_newest_and_skips_other_files(tmp_path):
    with pytest.raises(ModelFilesError, match="ControlNet Union"):
        pick_controlnet(tmp_path)
    write_tiny_controlnet(tmp_path, "1.0")
    (tmp_path / "model_patches" / "other.safetensors").write_bytes(b"not a file")
    assert [f.version for f in find_controlnets(tmp_path)] == ["1.0"]
    write_tiny_controlnet(tmp_path, "2.1")
    assert pick_controlnet(tmp_path).version == "2.1"


def test_control_changes_the_picture_and_strength_zero_equals_none(control_generator, drawing):
    base = GenerationRequest(prompt="a cat", width=SIZE, height=SIZE, steps=3, seed=7)
    plain = _pixels(control_generator, base)
    zero = GenerationRequest(prompt="a cat", width=SIZE, height=SIZE, steps=3, seed=7,
                             controls=(ControlRef("canny", str(drawing), strength=0.0),))
    assert np.array_equal(_pixels(control_generator, zero), plain)
    controlled = GenerationRequest(prompt="a cat", width=SIZE, height=SIZE, steps=3, seed=7,
                                   controls=(ControlRef("canny", str(drawing), strength=1.0),))
    changed = _pixels(control_generator, controlled)
    assert np.abs(changed - plain).mean() > 1.0
    # a range that covers no step is no control, exactly
    late = GenerationRequest(prompt="a cat", width=SIZE, height=SIZE, steps=3, seed=7,
                             controls=(ControlRef("canny", str(drawing), strength=1.0, start=0.9, end=1.0),))
    assert np.array_equal(_pixels(control_generator, late), plain)


def test_a_control_image_of_another_size_is_resized_and_said_so(control_generator, tmp_path):
    src = tmp_path / "wide.png"
    Image.new("RGB", (400, 200), "white").save(src)
    req = GenerationRequest(prompt="a cat", width=SIZE, height=SIZE, steps=1, seed=1,
                            controls=(ControlRef("grey", str(src)),))
    image = control_generator.run(req).images[0]
    assert any("400×200" in note for note in image.notes)


def test_canny_and_grey_are_opencvs_own(drawing):
    import cv2

    from zimage_desktop.engine.control_images import prepare

    source = Image.open(drawing).convert("RGB")
    edges = np.asarray(prepare("canny", source, SIZE, SIZE).image)
    expected = cv2.Canny(cv2.cvtColor(cv2.imread(str(drawing)), cv2.COLOR_BGR2GRAY), 100, 200)
    assert np.array_equal(edges[..., 0], expected) and edges[..., 0].any()
    grey = np.asarray(prepare("grey", source, SIZE, SIZE).image)[..., 0]
    ref = cv2.cvtColor(cv2.imread(str(drawing)), cv2.COLOR_BGR2GRAY)
    assert np.abs(grey.astype(int) - ref.astype(int)).max() <= 1  # Pillow's and OpenCV's ITU-R 601 rounding


def test_scribble_is_white_strokes_on_black():
    from zimage_desktop.engine.control_images import prepare

    img = Image.new("RGB", (SIZE, SIZE), "white")
    ImageDraw.Draw(img).line((10, 10, 200, 200), fill="black", width=5)
    out = np.asarray(prepare("scribble", img, SIZE, SIZE).image)[..., 0]
    assert out[100, 100] == 255 and out[10, 200] == 0


def test_depth_without_its_model_is_one_sentence(tmp_path):
    from zimage_desktop.engine.control_images import prepare

    with pytest.raises(BadInputError, match="Depth Anything V2 Small"):
        prepare("depth", Image.new("RGB", (SIZE, SIZE)), SIZE, SIZE, tmp_path)


def test_request_controls_round_trip_and_validate():
    req = GenerationRequest(prompt="x", controls=(ControlRef("canny", "a.png", strength=0.6, start=0.1, end=0.7),))
    again = GenerationRequest.from_json(req.to_json())
    assert again == req and again.for_seed(5).controls == req.controls
    assert GenerationRequest.from_dict({"prompt": "x"}).controls == ()
    for bad in (dict(kind="pose"), dict(strength=3.0), dict(start=0.8, end=0.2), dict(strength=float("nan"))):
        with pytest.raises(BadInputError):
            GenerationRequest(prompt="x", controls=(ControlRef(**{"kind": "canny", "image": "a.png", **bad}),))


# -- metadata, the ComfyUI graph and recall ----------------------------------------------------

COMFY = __import__("pathlib").Path("/work/shared/peers/comfyui/ComfyUI")


def _comfy_inputs(source: str, cls: str) -> tuple[set[str], set[str]]:
    """(required, optional) input names of a ComfyUI node class, read from its INPUT_TYPES source."""
    import ast

    tree = ast.parse((COMFY / source).read_text(encoding="utf-8"))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls)
    func = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "INPUT_TYPES")
    ret = [n for n in ast.walk(func) if isinstance(n, ast.Return)][-1].value
    groups: dict[str, set[str]] = {"required": set(), "optional": set()}
    assert isinstance(ret, ast.Dict)
    for key, value in zip(ret.keys, ret.values):
        if isinstance(key, ast.Constant) and key.value in groups and isinstance(value, ast.Dict):
            groups[key.value] = {k.value for k in value.keys if isinstance(k, ast.Constant)}
    return groups["required"], groups["optional"]


NODE_SOURCES = {"ZImageFunControlnet": "comfy_extras/nodes_model_patch.py",
                "ModelPatchLoader": "comfy_extras/nodes_model_patch.py", "LoadImage": "nodes.py",
                "KSamplerAdvanced": "nodes.py", "KSampler": "nodes.py", "VAEDecode": "nodes.py"}


def _inherited(cls: str) -> tuple[set[str], set[str]]:
    # ZImageFunControlnet defines its own INPUT_TYPES (it inherits only the function)
    return _comfy_inputs(NODE_SOURCES[cls], cls)


@pytest.mark.skipif(not COMFY.is_dir(), reason="ComfyUI's source is not in shared/peers")
@pytest.mark.parametrize("start,end", [(0.0, 1.0), (0.25, 0.75), (0.0, 0.5)])
def test_comfy_graph_uses_its_model_patch_nodes_as_comfyui_defines_them(start, end):
    from zimage_desktop.history.comfy_export import api_prompt, workflow

    req = GenerationRequest(prompt="poster", steps=8, seed=3,
                            controls=(ControlRef("canny", "/x/a.png", "a" * 64, 0.7, start, end),))
    model = {"controls": [{"name": "Z-Image-Turbo-Fun-Controlnet-Union-2.1.safetensors", "prepared": "b.png"}]}
    graph = api_prompt(req, model)
    classes = [n["class_type"] for n in graph.values()]
    assert {"ModelPatchLoader", "ZImageFunControlnet", "LoadImage"} <= set(classes)
    for node_id, node in graph.items():
        if node["class_type"] not in NODE_SOURCES:
            continue
        required, optional = _inherited(node["class_type"])
        names = set(node["inputs"])
        assert required <= names, (node["class_type"], required - names)
        assert names <= required | optional, (node["class_type"], names - required - optional)
        for value in node["inputs"].values():  # every link points at a node of the graph
            if isinstance(value, list):
                assert value[0] in graph
    patch = next(n for n in graph.values() if n["class_type"] == "ZImageFunControlnet")
    assert patch["inputs"]["strength"] == 0.7
    assert next(n for n in graph.values() if n["class_type"] == "LoadImage")["inputs"]["image"] == "b.png"
    samplers = [n for n in graph.values() if n["class_type"].startswith("KSampler")]
    patched = [s for s in samplers if s["inputs"]["model"][0] == "22"]
    assert len(patched) == 1
    if (start, end) != (0.0, 1.0):  # the patched model samples exactly the control's steps
        assert (patched[0]["inputs"]["start_at_step"], patched[0]["inputs"]["end_at_step"]) == (
            round(start * 8), round(end * 8))
        assert sum(s["inputs"]["end_at_step"] - s["inputs"]["start_at_step"] for s in samplers) == 8
    flow = workflow(req, model)
    assert {n["type"] for n in flow["nodes"]} == set(classes)


def test_saved_image_keeps_its_control_by_content_and_recall_restores_it(control_generator, drawing, tmp_path):
    from zimage_desktop.config import Paths
    from zimage_desktop.history.control_inputs import restore_control_inputs
    from zimage_desktop.history.metadata import read_png_metadata
    from zimage_desktop.history.saving import save_generated

    user_file = tmp_path / "mine.png"
    shutil.copy(drawing, user_file)
    req = GenerationRequest(prompt="a cat", width=SIZE, height=SIZE, steps=1, seed=2,
                            controls=(ControlRef("canny", str(user_file), strength=0.8, start=0.0, end=0.5),))
    image = control_generator.run(req).images[0]
    paths = Paths(tmp_path / "data")
    saved = save_generated(image, paths, None, tmp_path / "out.png")
    found = read_png_metadata(saved.path)
    control = found.request.controls[0]
    assert (control.kind, control.strength, control.start, control.end) == ("canny", 0.8, 0.0, 0.5)
    stored = paths.data / "history" / "inputs" / f"{control.image_sha256}.png"
    assert stored.is_file()
    assert np.array_equal(np.asarray(Image.open(stored).convert("RGB")), np.asarray(Image.open(drawing).convert("RGB")))
    text = parse_text(saved.path)
    assert 'ControlNet 0: "Module: canny' in text["parameters"] and "Weight: 0.8" in text["parameters"]
    graph = __import__("json").loads(text["prompt"])
    load = next(n for n in graph.values() if n["class_type"] == "LoadImage")
    prepared = paths.data / "history" / "inputs" / load["inputs"]["image"]
    assert np.array_equal(np.asarray(Image.open(prepared))[..., 0], np.asarray(image.control_images[0])[..., 0])
    # the user's file is gone: recall finds the stored copy, and the same picture comes out
    user_file.unlink()
    again = restore_control_inputs(found.request, paths)
    assert again.controls[0].image == str(stored)
    remade = control_generator.run(again).images[0].image
    assert np.array_equal(np.asarray(remade), np.asarray(image.image))


def parse_text(path):
    with Image.open(path) as img:
        return dict(img.text)


# -- command line --------------------------------------------------------------------------------


def test_cli_generate_with_control(control_models, drawing, tmp_path, data_dir, capsys):
    import json

    from zimage_desktop.cli import main
    from zimage_desktop.history.metadata import read_png_metadata

    out = tmp_path / "c.png"
    rc = main(["generate", "--models", str(control_models), "--prompt", "a cat", "--width", "256", "--height", "256",
               "--steps", "1", "--seed", "4", "--control", f"canny:{drawing}:0.5", "--control-end", "0.5",
               "--out", str(out), "--no-history"])
    assert rc == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["path"] == str(out.resolve())
    control = read_png_metadata(out).request.controls[0]
    assert (control.kind, control.strength, control.end) == ("canny", 0.5, 0.5)


@pytest.mark.parametrize("value", ["pose:x.png", "canny", "canny:/no/such/file.png", "canny:{drawing}:strong"])
def test_cli_bad_control_is_one_sentence(value, drawing, data_dir, capsys):
    from zimage_desktop.cli import main

    rc = main(["generate", "--prompt", "a", "--control", value.format(drawing=drawing)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_poster_with_glyphs(control_models, tmp_path, data_dir, capsys):
    from zimage_desktop.cli import main
    from zimage_desktop.history.metadata import read_png_metadata

    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    if not font.is_file():
        pytest.skip("no DejaVu Sans on this machine")
    out, glyphs = tmp_path / "p.png", tmp_path / "glyphs.png"
    rc = main(["poster", "--models", str(control_models), "--title", "GRAND SALE", "--subtitle", "today",
               "--style", "minimal", "--size", "256x320", "--steps", "1", "--seed", "1", "--glyphs", str(font),
               "--glyph-image", str(glyphs), "--out", str(out), "--no-history"])
    assert rc == 0, capsys.readouterr().err
    found = read_png_metadata(out).request
    assert found.controls[0].kind == "glyph" and '"GRAND SALE"' in found.prompt
    assert found.extra["poster"]["headline"] == "GRAND SALE"
    assert np.asarray(Image.open(glyphs))[..., 0].any()
    # a font that cannot draw the title: one sentence naming the characters, nothing generated
    rc = main(["poster", "--models", str(control_models), "--title", "新春", "--glyphs", str(font),
               "--out", str(tmp_path / "q.png")])
    err = capsys.readouterr().err
    assert rc == 2 and "新 春" in err and not (tmp_path / "q.png").exists()


# -- the models folder ---------------------------------------------------------------------------


def test_comfyui_model_patches_are_adopted_and_offered_in_the_catalog(tmp_path):
    from zimage_desktop.models.catalog import load_catalog
    from zimage_desktop.models.store import comfyui_snippet, import_folder

    comfy = tmp_path / "ComfyUI" / "models"
    write_tiny_controlnet(comfy, "2.0", name="my-union-2.0.safetensors")
    ours = tmp_path / "ours"
    report = import_folder(comfy, ours)
    assert any("controlnet" in str(v) for v in report.imported.values()), report
    assert [f.version for f in find_controlnets(ours)] == ["2.0"]
    assert "model_patches: model_patches" in comfyui_snippet(ours)
    catalog = load_catalog()
    offered = {cid: c for cid, c in catalog.components.items() if c.kind == "controlnet"}
    assert {"controlnet-union-1.0", "controlnet-union-2.0", "controlnet-union-2.1"} <= set(offered)
    assert all(c.optional and c.files[0].dest.startswith("model_patches/") for c in offered.values())


# -- the ControlNet's memory placement ------------------------------------------------------------


def _machine(vram_gib: float):
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo

    gib = 1024**3
    gpu = GpuInfo(0, "GPU", int(vram_gib * gib), int(vram_gib * gib), (8, 9), True)
    return MachineInfo(gpus=(gpu,), total_ram=64 * gib, free_ram=60 * gib)


# 24 GB with Q4_K leaves room for the bf16 Union file beside the model; with Q8_0 the residency
# table's peak (context, activations) leaves too little, so it goes to FP8 there too.
@pytest.mark.parametrize("vram,form,expected", [(24, "Q4_K", "resident"), (24, "Q8_0", "fp8"), (16, "Q8_0", "fp8"),
                                                (8, "Q4_K", "offload")])
def test_controlnet_placement_per_profile(vram, form, expected):
    from zimage_desktop.engine.control_plan import place_controlnet
    from zimage_desktop.engine.planner import make_plan

    plan = make_plan(_machine(vram), {form}, force_form=form)
    placed = place_controlnet(plan, 6_700_000_000)
    assert placed.where == expected, (plan.profile, plan.predicted_vram_gib, placed)
    assert place_controlnet(make_plan(_machine(vram), {form}, "cpu"), 6_700_000_000).where == "resident"


@pytest.mark.parametrize("where", ["offload", "fp8"])
def test_streamed_and_fp8_controlnets_give_the_resident_hints(tmp_path, where):
    """Our hints (engine/controlnet_hints.py call the ControlNet's blocks and embedder one by one,
    never its forward) work on a group-offloaded or FP8-stored ControlNet as on a resident one."""
    import torch

    from zimage_desktop.devkit.tiny import build_tiny_pipeline
    from zimage_desktop.engine.controlnet import load_controlnet
    from zimage_desktop.engine.controlnet_hints import comfy_control, hints_for

    file = identify(write_tiny_controlnet(tmp_path, "2.1"))
    transformer = build_tiny_pipeline().transformer
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    x, context = [torch.randn(16, 1, 8, 8)], torch.randn(1, 33, 1, 8, 8)
    t, caption = torch.tensor([0.5]), [torch.randn(7, 32)]

    def velocity(net=None):
        with torch.inference_mode():
            if net is None:
                return transformer(x, t, caption, return_dict=False)[0][0]
            with comfy_control(transformer, hints_for(net, context, 1.0), lambda: True):
                return transformer(x, t, caption, return_dict=False)[0][0]

    plain = velocity()
    resident = velocity(load_controlnet(file, transformer, torch.float32, cpu))
    other = velocity(load_controlnet(file, transformer, torch.float32, cpu, where))
    assert (resident - plain).abs().mean() > 1e-3  # the hints acted
    assert torch.equal(velocity(), plain)  # and the hooks went with the context
    if where == "offload":
        assert torch.equal(resident, other)
    else:  # fp8 storage rounds the weights: close, not equal
        assert torch.allclose(resident, other, rtol=0.2, atol=0.05 * resident.abs().max().item())
