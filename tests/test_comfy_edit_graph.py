"""Every edit mode's ComfyUI graph (img2img, inpaint, "only the masked area", outpaint, upscale with
and without a model) against the node definitions of the unmodified ComfyUI in shared/peers: each
class exists, required inputs are there, links carry the type the input takes, combo values are
among the options and numbers within min/max. Read from ComfyUI's source (classic INPUT_TYPES
nodes and the newer IO.Schema nodes in comfy_extras), so no server is needed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PIL import Image

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.comfy_edit_graph import crop_geometry
from zimage_desktop.history.comfy_export import api_prompt, workflow
from tests.fixtures.edit_pictures import write_edit_pictures

MODEL = {"roles": {"transformer": "z_image_turbo_bf16.safetensors", "text_encoder": "qwen_3_4b.safetensors",
                   "vae": "ae.safetensors"}}
SCHEMA_TYPES = {"Image": "IMAGE", "Mask": "MASK", "Int": "INT", "Float": "FLOAT", "Boolean": "BOOLEAN",
                "Combo": "COMBO", "UpscaleModel": "UPSCALE_MODEL", "Latent": "LATENT", "Vae": "VAE"}


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None


def _classic(tree, found):
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        inputs, returns, lists = {}, (), {}
        for item in cls.body:
            if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                lists[item.targets[0].id] = _literal(item.value)
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "INPUT_TYPES":
                ret = next(n for n in ast.walk(item) if isinstance(n, ast.Return)).value
                for key, value in zip(ret.keys, ret.values):
                    if _literal(key) == "required" and isinstance(value, ast.Dict):
                        for k, v in zip(value.keys, value.values):
                            first = v.elts[0] if isinstance(v, ast.Tuple) else None
                            spec = _literal(v.elts[1]) if isinstance(v, ast.Tuple) and len(v.elts) > 1 else None
                            io_type = isinstance(first, ast.Attribute) and getattr(first.value, "id", "") == "IO"
                            kind = (_literal(first) if isinstance(first, ast.Constant) else first.attr if io_type
                                    else "COMBO")
                            options = lists.get(first.attr) if isinstance(first, ast.Attribute) else _literal(first)
                            inputs[k.value] = (kind, spec or {}, options if kind == "COMBO" else None)
            if isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == "RETURN_TYPES":
                returns = tuple(e.attr if isinstance(e, ast.Attribute) else _literal(e) for e in item.value.elts)
        if not returns:  # inherited (ModelSamplingAuraFlow from ModelSamplingSD3)
            returns = next((found[b.id][1] for b in cls.bases if isinstance(b, ast.Name) and b.id in found), ())
        found[cls.name] = (inputs, returns)


def _schema(tree, found):
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        node_id, inputs, returns = None, {}, []
        for call in (n for n in ast.walk(cls) if isinstance(n, ast.Call)):
            func = call.func
            keywords = {k.arg: k.value for k in call.keywords}
            if isinstance(func, ast.Attribute) and func.attr == "Schema" and "node_id" in keywords:
                node_id = _literal(keywords["node_id"])
            if isinstance(func, ast.Attribute) and func.attr in ("Input", "Output") and isinstance(func.value, ast.Attribute):
                kind = SCHEMA_TYPES.get(func.value.attr, func.value.attr.upper())
                if func.attr == "Output":
                    returns.append(kind)
                elif call.args and not _literal(keywords.get("optional", ast.Constant(False))):
                    spec = {k: _literal(v) for k, v in keywords.items() if k in ("min", "max")}
                    inputs[_literal(call.args[0])] = (kind, {k: v for k, v in spec.items() if v is not None},
                                                      _literal(keywords["options"]) if "options" in keywords else None)
        if node_id:
            found[node_id] = (inputs, tuple(returns))


@pytest.fixture(scope="module")
def definitions():
    root = comfy_kit.kit_dir() / "ComfyUI"
    if not (root / "nodes.py").exists():
        pytest.skip("ComfyUI's source is not here")
    found: dict = {}
    _classic(ast.parse((root / "nodes.py").read_text(encoding="utf-8")), found)
    for path in sorted((root / "comfy_extras").glob("nodes_*.py")):
        text = path.read_text(encoding="utf-8")
        if "define_schema" in text:
            _schema(ast.parse(text), found)
        else:  # classic nodes outside nodes.py (ModelSamplingAuraFlow)
            _classic(ast.parse(text), found)
    return found


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    return write_edit_pictures(tmp_path_factory.mktemp("edit-graph"))


def _request(pictures, mode, **more):
    fields = dict(prompt="a poster", width=512, height=384, steps=8, seed=3, mode=mode, source=str(pictures / "src.png"),
                  strength=0.6)
    if mode == "inpaint":
        fields["mask"] = str(pictures / "mask.png")
    fields.update(more)
    return GenerationRequest(**fields)


CASES = {
    "img2img": {},
    "inpaint": {},
    "inpaint-no-feather": dict(mask_blur=0),
    "only-masked": dict(only_masked=True, only_masked_padding=32),
    "outpaint": dict(outpaint=(128, 0, 0, 64), width=640, height=448, strength=1.0),
    "upscale-model": dict(upscale=2.0, width=1024, height=768, upscale_model="4x-UltraSharp.pth"),
    "upscale-lanczos": dict(upscale=2.0, width=1024, height=768, upscale_model=""),
    # the diffusers schedule over 9 steps ("simple" differs): ManualSigmas into SamplerCustom
    "img2img-diffusers": dict(steps=9, scheduler="diffusers"),
    "inpaint-diffusers": dict(steps=9, scheduler="diffusers"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_edit_graph_fits_comfyuis_node_definitions(definitions, pictures, case):
    mode = re.sub(r"-.*", "", case).replace("only", "inpaint")
    graph = api_prompt(_request(pictures, mode, **CASES[case]), MODEL)
    for node_id, node in graph.items():
        required, _ = definitions[node["class_type"]]
        assert set(required) <= set(node["inputs"]), (node_id, node["class_type"], set(required) - set(node["inputs"]))
        for name, value in node["inputs"].items():
            if name not in required:
                continue
            kind, spec, options = required[name]
            if isinstance(value, list):  # a link: the output's type must be the input's
                source = graph[value[0]]["class_type"]
                assert definitions[source][1][value[1]] == kind, (node["class_type"], name)
                continue
            if options and node["class_type"] not in ("UpscaleModelLoader",):  # file lists come from the folder
                assert value in options, (node["class_type"], name, value, options)
            if "min" in spec and isinstance(spec["min"], (int, float)):
                assert value >= spec["min"], (node["class_type"], name, value)
            if "max" in spec and isinstance(spec["max"], (int, float)):
                assert value <= spec["max"], (node["class_type"], name, value)
    assert graph["9"]["class_type"] == "SaveImage"
    assert len(workflow(_request(pictures, mode, **CASES[case]), MODEL)["nodes"]) == len(graph)


def test_each_mode_uses_the_nodes_that_remake_it(pictures):
    def classes(mode, **more):
        return [n["class_type"] for n in api_prompt(_request(pictures, mode, **more), MODEL).values()]

    assert "ImagePadForOutpaint" in classes("outpaint", **CASES["outpaint"])
    assert {"ImageCrop", "CropMask", "ImageCompositeMasked"} <= set(classes("inpaint", **CASES["only-masked"]))
    assert {"UpscaleModelLoader", "ImageUpscaleWithModel", "ImageScale"} <= set(classes("upscale",
                                                                                      **CASES["upscale-model"]))
    assert "UpscaleModelLoader" not in classes("upscale", **CASES["upscale-lanczos"])
    inpaint = api_prompt(_request(pictures, "inpaint"), MODEL)
    assert inpaint["9"]["inputs"]["images"][0] == "62"  # SaveImage takes the composite, not the raw decode
    assert inpaint["50"]["inputs"] == {"expand": 8, "tapered_corners": False, "mask": ["10", 1]}


def test_the_crop_of_only_the_masked_area_is_the_engines(pictures):
    from zimage_desktop.engine.editing import feathered_mask, mask_bbox, masked_crop_box, working_size

    request = _request(pictures, "inpaint", only_masked=True, only_masked_padding=32)
    alpha = feathered_mask(Image.open(pictures / "mask.png"), 8)
    box = masked_crop_box(mask_bbox(alpha), (512, 384), 32)
    assert crop_geometry(request) == (box, working_size(box[2] - box[0], box[3] - box[1], 512 * 384))
    graph = api_prompt(request, MODEL)
    assert graph["33"]["inputs"] | {"image": None} == {"width": box[2] - box[0], "height": box[3] - box[1],
                                                       "x": box[0], "y": box[1], "image": None}
    assert graph["62"]["inputs"]["x"] == box[0] and graph["62"]["inputs"]["y"] == box[1]


def test_the_graphs_feather_stays_within_a_few_levels_of_ours():
    """bench/comfy_feather.py: ComfyUI's node arithmetic with the widget values our graph writes."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "bench" / "comfy_feather.py"
    done = subprocess.run([sys.executable, str(script), "--limit", "6"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
