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


# -- other tools' JSON, as they write it ------------------------------------------------------------


def _text_png(tmp_path, texts: dict[str, str]):
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    path = tmp_path / "other.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_swarmui_parameters(tmp_path):
    params = {"sui_image_params": {"prompt": "a red kite over the dunes", "negativeprompt": "blurry",
                                   "model": "z_image_turbo_bf16", "seed": 305223794, "steps": 9, "cfgscale": 1.0,
                                   "aspectratio": "Custom", "width": 768, "height": 1024, "sampler": "euler",
                                   "scheduler": "simple", "swarm_version": "0.9.6.2"},
              "sui_extra_data": {"date": "2025-12-01", "prep_time": "0.01 sec", "generation_time": "2.40 sec"}}
    found = read_png_metadata(_text_png(tmp_path, {"parameters": json.dumps(params, indent=2)}))
    r = found.request
    assert found.source == "swarmui" and r is not None and r.prompt == "a red kite over the dunes"
    assert (r.seed, r.steps, r.width, r.height, r.sampler, r.scheduler) == (305223794, 9, 768, 1024, "euler", "simple")
    assert (r.negative_prompt, r.cfg) == ("blurry", 1.0)


def test_invokeai_metadata(tmp_path):
    meta = {"generation_mode": "txt2img", "positive_prompt": "a tea house in the rain", "negative_prompt": "",
            "width": 1024, "height": 768, "seed": 1234, "rand_device": "cpu", "cfg_scale": 4.5, "cfg_rescale_multiplier": 0,
            "steps": 8, "scheduler": "euler", "model": {"key": "abc", "name": "Z-Image Turbo", "base": "z-image",
                                                          "type": "main"}, "app_version": "6.9.0"}
    found = read_png_metadata(_text_png(tmp_path, {"invokeai_metadata": json.dumps(meta),
                                                   "invokeai_graph": json.dumps({"id": "g", "nodes": {}})}))
    r = found.request
    assert found.source == "invokeai" and r is not None and r.prompt == "a tea house in the rain"
    assert (r.seed, r.steps, r.width, r.height) == (1234, 8, 1024, 768)
    assert (r.negative_prompt, r.cfg) == ("", 4.5)


def test_novelai_comment(tmp_path):
    comment = {"prompt": "a lantern festival, night", "steps": 28, "height": 1216, "width": 832, "scale": 5.0,
               "uncond_scale": 0.0, "cfg_rescale": 0.0, "seed": 3870345063, "n_samples": 1, "noise_schedule": "karras",
               "sampler": "k_euler", "uc": "lowres, bad anatomy", "request_type": "PromptGenerateRequest"}
    found = read_png_metadata(_text_png(tmp_path, {"Title": "NovelAI generated image",
                                                   "Description": "a lantern festival, night", "Software": "NovelAI",
                                                   "Source": "NovelAI Diffusion V4.5 4BDE2A90",
                                                   "Comment": json.dumps(comment)}))
    r = found.request
    assert found.source == "novelai" and r is not None and r.prompt == "a lantern festival, night"
    assert (r.seed, r.steps, r.width, r.height, r.sampler) == (3870345063, 28, 832, 1216, "euler")


def test_the_graph_wins_over_a_save_nodes_a1111_text_with_a_note(tmp_path):
    """comfy-image-saver style: the node writes its own (here wrong) A1111 text beside the graph."""
    graph = _graph("a stone bridge in autumn")
    wrong = "unknown\nSteps: 20, Sampler: euler_ancestral_karras, CFG scale: 7.0, Seed: 0, Size: 512x512, Model: x"
    path = _png(tmp_path, [(b"tEXt", b"parameters\0" + wrong.encode()),
                           (b"tEXt", b"prompt\0" + json.dumps(graph).encode())])
    found = read_png_metadata(path)
    r = found.request
    assert found.source == "comfyui" and r is not None and r.prompt == "a stone bridge in autumn"
    assert (r.seed, r.steps, r.width, r.height) == (42, 9, 832, 1216)
    assert any("disagrees with its ComfyUI workflow (prompt, seed, steps, size)" in n for n in found.notes), found.notes
