"""The negative prompt and CFG scale through every metadata form we write and read (issue 25)."""

import json

import pytest
from PIL import Image, PngImagePlugin

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.comfy_export import api_prompt
from zimage_desktop.history.metadata import a1111_parameters, read_png_metadata, write_png

BASE_MODEL = {"name": "z_image_bf16", "arch": "z-image-base", "files": []}
TURBO_MODEL = {"name": "z_image_turbo_bf16", "arch": "z-image-turbo", "files": []}
NEGATIVE = "模糊, lowres, \"bad\" hands"


def _only(tmp_path, path, key):
    """A copy of the PNG keeping one of its text chunks (as a tool that writes only that one)."""
    with Image.open(path) as img:
        text = img.text[key]
        info = PngImagePlugin.PngInfo()
        info.add_itxt(key, text) if key in ("parameters", "zimage") else info.add_text(key, text)
        out = tmp_path / f"only-{key}.png"
        img.save(out, pnginfo=info)
    return out


@pytest.fixture
def base_png(tmp_path):
    req = GenerationRequest(prompt="a lighthouse at dusk", negative_prompt=NEGATIVE, cfg=4.5, steps=30, seed=11,
                            width=1024, height=768)
    return req, write_png(tmp_path / "base.png", Image.new("RGB", (32, 24)), req, BASE_MODEL)


@pytest.mark.parametrize("key", ["zimage", "parameters", "prompt", "workflow"])
def test_a_base_model_image_gives_back_its_negative_and_cfg(tmp_path, base_png, key):
    req, path = base_png
    back = read_png_metadata(_only(tmp_path, path, key))
    assert back.request is not None
    assert (back.request.negative_prompt, back.request.cfg) == (NEGATIVE, 4.5)
    assert (back.request.prompt, back.request.seed, back.request.steps) == (req.prompt, 11, 30)
    assert "guidance" in back.known or key == "zimage"


def test_a1111_text_and_comfy_graph_say_what_was_sampled(base_png):
    req, _ = base_png
    text = a1111_parameters(req, BASE_MODEL)
    assert text.splitlines()[1] == f"Negative prompt: {NEGATIVE}" and "CFG scale: 4.5," in text
    graph = api_prompt(req, BASE_MODEL)
    sampler = next(n for n in graph.values() if n["class_type"] == "KSampler")
    assert sampler["inputs"]["cfg"] == 4.5
    negative = graph[sampler["inputs"]["negative"][0]]
    assert negative["class_type"] == "CLIPTextEncode" and negative["inputs"]["text"] == NEGATIVE


def test_turbo_keeps_the_negative_only_in_our_json(tmp_path):
    req = GenerationRequest(prompt="a cat", negative_prompt="dogs", cfg=6.0, seed=3)
    path = write_png(tmp_path / "t.png", Image.new("RGB", (16, 16)), req, TURBO_MODEL)
    assert read_png_metadata(path).request == req  # ours: as the user gave it
    text = a1111_parameters(req, TURBO_MODEL)
    assert "Negative prompt" not in text and "CFG scale: 1," in text  # what Turbo sampled with
    sampler = next(n for n in api_prompt(req, TURBO_MODEL).values() if n["class_type"] == "KSampler")
    assert sampler["inputs"]["cfg"] == 1
    other = read_png_metadata(_only(tmp_path, path, "parameters")).request
    assert other is not None and (other.negative_prompt, other.cfg) == ("", 1.0)


def test_comfy_negative_is_read_through_string_nodes_and_zero_out_has_none(tmp_path):
    graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "z_image_bf16.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_3_4b.safetensors", "type": "lumina2"}},
        "3": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "blurry, watermark"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"Text": ["3", 0], "clip": ["2", 0]}},
        "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["2", 0]}},
        "6": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "7": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["5", 0], "negative": ["4", 0],
                                                   "latent_image": ["6", 0], "seed": 9, "steps": 25, "cfg": 4,
                                                   "sampler_name": "euler", "scheduler": "simple", "denoise": 1}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0]}},
    }
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    Image.new("RGB", (16, 16)).save(tmp_path / "g.png", pnginfo=info)
    back = read_png_metadata(tmp_path / "g.png").request
    assert back is not None and (back.prompt, back.negative_prompt, back.cfg) == ("a fox", "blurry, watermark", 4.0)
    # The Turbo template's negative: ConditioningZeroOut of the positive — no negative words.
    graph["4"] = {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["5", 0]}}
    graph["7"]["inputs"]["cfg"] = 1
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    Image.new("RGB", (16, 16)).save(tmp_path / "z.png", pnginfo=info)
    back = read_png_metadata(tmp_path / "z.png").request
    assert back is not None and (back.negative_prompt, back.cfg) == ("", 1.0)
