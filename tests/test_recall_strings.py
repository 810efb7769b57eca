"""Recall of prompts behind string nodes and of UTF-8 written into tEXt (issue 25), from PNGs
built the way those tools write them."""

import json

from PIL import Image, PngImagePlugin

from zimage_desktop.history.metadata import read_png_metadata


def _graph(text_input) -> dict:
    return {"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
            "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 9, "cfg": 1, "sampler_name": "euler",
                                                       "scheduler": "simple", "positive": ["6", 0],
                                                       "negative": ["7", 0], "latent_image": ["5", 0]}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": text_input, "clip": ["4", 0]}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 0]}},
            "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}}}


def _png(tmp_path, chunks: list[tuple[bytes, bytes]]):
    info = PngImagePlugin.PngInfo()
    for kind, data in chunks:
        info.add(kind, data)
    path = tmp_path / "image.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_utf8_in_a_text_chunk_is_read_as_utf8(tmp_path):
    text = ("一只红色的狐狸在雪地里，电影感\nSteps: 9, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Seed: 5, "
            "Size: 832x1216")
    path = _png(tmp_path, [(b"tEXt", b"parameters\0" + text.encode("utf-8"))])  # as many tools write it
    found = read_png_metadata(path)
    assert found.request is not None and found.request.prompt == "一只红色的狐狸在雪地里，电影感"
    latin = _png(tmp_path, [(b"tEXt", b"parameters\0" + "café crème\nSteps: 9, Seed: 5, Size: 832x1216"
                                                            .encode("latin-1"))])
    assert read_png_metadata(latin).request.prompt == "café crème"  # real Latin-1 still reads as Latin-1


def test_prompt_behind_concatenate_and_primitive_string_nodes(tmp_path):
    graph = _graph(["10", 0])
    graph["10"] = {"class_type": "StringConcatenate",
                   "inputs": {"string_a": "a red fox", "string_b": ["11", 0], "delimiter": ", "}}
    graph["11"] = {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "in deep snow"}}
    path = _png(tmp_path, [(b"tEXt", b"prompt\0" + json.dumps(graph).encode())])
    found = read_png_metadata(path)
    assert found.request is not None and found.request.prompt == "a red fox, in deep snow"
    assert (found.request.seed, found.request.steps, found.request.width, found.request.height) == (42, 9, 832, 1216)


def test_text_inputs_are_matched_in_any_case(tmp_path):
    graph = _graph(["12", 0])
    graph["12"] = {"class_type": "Text Multiline (WAS)", "inputs": {"Text": "a lighthouse at dusk"}}
    path = _png(tmp_path, [(b"tEXt", b"prompt\0" + json.dumps(graph).encode())])
    found = read_png_metadata(path)
    assert found.request is not None and found.request.prompt == "a lighthouse at dusk"
