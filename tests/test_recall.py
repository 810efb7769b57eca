"""Recall from other tools' PNGs, written the way those tools write them.

ComfyUI's SaveImage adds the API graph as a ``prompt`` tEXt chunk and the UI graph as ``workflow``
(``PngInfo.add_text(key, json.dumps(...))``); A1111/Forge add ``parameters`` text; Fooocus puts
JSON in ``parameters``. Each test asserts prompt, seed, steps and size.
"""

import json
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from zimage_desktop.engine.request import LoraRef
from zimage_desktop.history.a1111 import parse_fields
from zimage_desktop.history.metadata import read_png_metadata

PANDA = "一只熊猫在竹林里 a panda in a bamboo forest"
NEGATIVE = "blurry ugly bad"


def comfy_png(path, prompt_graph, workflow=None, size=(64, 64)):
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(prompt_graph))
    info.add_text("workflow", json.dumps(workflow or {"nodes": [], "links": []}))
    Image.new("RGB", size).save(path, pnginfo=info)
    return path


def loaders():
    return {
        "16": {"class_type": "UNETLoader", "inputs": {"unet_name": "z_image_turbo_bf16.safetensors", "weight_dtype": "default"}},
        "18": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_3_4b.safetensors", "type": "lumina2",
                                                       "device": "default"}},
        "17": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
    }


def ksampler_graph(seed=47447417949230, steps=9, width=1024, height=1024):
    """ComfyUI's official Z-Image example, the negative encoder listed (and numbered) first."""
    graph = {
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": NEGATIVE, "clip": ["18", 0]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": PANDA, "clip": ["18", 0]}},
        "13": {"class_type": "EmptySD3LatentImage", "inputs": {"width": width, "height": height, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": steps, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
            "model": ["16", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["13", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["17", 0]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    graph.update(loaders())
    return graph


def recall(path):
    back = read_png_metadata(path)
    assert back.request is not None, back.notes
    r = back.request
    return back, (r.prompt, r.seed, r.steps, r.width, r.height)


def test_official_example_ksampler_negative_listed_first(tmp_path):
    back, got = recall(comfy_png(tmp_path / "k.png", ksampler_graph()))
    assert got == (PANDA, 47447417949230, 9, 1024, 1024)  # the full 64-bit seed, never the negative
    assert back.source == "comfyui" and back.request.sampler == "euler" and back.request.scheduler == "simple"
    assert not back.notes


def test_sampler_custom_advanced_with_random_noise_and_basic_scheduler(tmp_path):
    graph = {
        "1": {"class_type": "CLIPTextEncode", "inputs": {"text": NEGATIVE, "clip": ["18", 0]}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": PANDA, "clip": ["18", 0]}},
        "3": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["2", 0]}},
        "4": {"class_type": "BasicGuider", "inputs": {"model": ["16", 0], "conditioning": ["3", 0]}},
        "5": {"class_type": "RandomNoise", "inputs": {"noise_seed": 18446744073709551615}},
        "10": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "res_multistep"}},
        "11": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 12, "denoise": 1.0,
                                                          "model": ["16", 0]}},
        "12": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1152, "height": 896, "batch_size": 1}},
        "13": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["5", 0], "guider": ["4", 0], "sampler": ["10", 0], "sigmas": ["11", 0], "latent_image": ["12", 0]}},
        "14": {"class_type": "VAEDecode", "inputs": {"samples": ["13", 0], "vae": ["17", 0]}},
        "15": {"class_type": "SaveImage", "inputs": {"filename_prefix": "flux", "images": ["14", 0]}},
    }
    graph.update(loaders())
    back, got = recall(comfy_png(tmp_path / "sca.png", graph))
    assert got == (PANDA, 2**64 - 1, 12, 1152, 896)
    assert back.request.sampler == "res_multistep" and back.request.scheduler == "simple"


def test_cfg_guider_positive_and_seed_from_a_primitive_node(tmp_path):
    graph = {
        "1": {"class_type": "CLIPTextEncode", "inputs": {"text": NEGATIVE, "clip": ["18", 0]}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": PANDA, "clip": ["18", 0]}},
        "4": {"class_type": "CFGGuider", "inputs": {"cfg": 1.0, "model": ["16", 0], "positive": ["2", 0],
                                                    "negative": ["1", 0]}},
        "20": {"class_type": "PrimitiveInt", "inputs": {"value": 123456789012345}},
        "5": {"class_type": "RandomNoise", "inputs": {"noise_seed": ["20", 0]}},
        "10": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "11": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 8, "denoise": 1.0}},
        "21": {"class_type": "PrimitiveInt", "inputs": {"value": 768}},
        "12": {"class_type": "EmptySD3LatentImage", "inputs": {"width": ["21", 0], "height": 1344, "batch_size": 1}},
        "13": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["5", 0], "guider": ["4", 0], "sampler": ["10", 0], "sigmas": ["11", 0], "latent_image": ["12", 0]}},
        "14": {"class_type": "VAEDecode", "inputs": {"samples": ["13", 0], "vae": ["17", 0]}},
        "15": {"class_type": "PreviewImage", "inputs": {"images": ["14", 0]}},
    }
    graph.update(loaders())
    _, got = recall(comfy_png(tmp_path / "cfg.png", graph))
    assert got == (PANDA, 123456789012345, 8, 768, 1344)


def test_wildcard_encoder_gives_its_populated_text(tmp_path):
    graph = ksampler_graph(seed=99, steps=8, width=896, height=1152)
    graph["6"] = {"class_type": "ImpactWildcardEncode", "inputs": {
        "wildcard_text": "a __animal__ in a __place__", "populated_text": "a panda in a bamboo forest",
        "mode": "populate", "Select to add LoRA": "Select the LoRA to add to the text", "seed": 5,
        "model": ["16", 0], "clip": ["18", 0]}}
    back, got = recall(comfy_png(tmp_path / "w.png", graph))
    assert got == ("a panda in a bamboo forest", 99, 8, 896, 1152)


@pytest.mark.parametrize("node, expected", [
    ({"class_type": "CLIPTextEncodeFlux", "inputs": {"clip_l": "short", "t5xxl": PANDA, "guidance": 3.5}}, PANDA),
    ({"class_type": "CLIPTextEncodeLumina2", "inputs": {"system_prompt": "superior", "user_prompt": PANDA}}, PANDA),
    ({"class_type": "TextEncodeQwenImageEdit", "inputs": {"prompt": PANDA, "clip": ["18", 0]}}, PANDA),
])
def test_prompts_behind_other_encoders(tmp_path, node, expected):
    graph = ksampler_graph(seed=7, steps=8)
    graph["6"] = node
    _, got = recall(comfy_png(tmp_path / "e.png", graph))
    assert got == (expected, 7, 8, 1024, 1024)


def test_two_samplers_every_value_from_the_one_that_feeds_save_image(tmp_path):
    """A preview branch with its own prompt, seed and steps must not leak into the saved one."""
    graph = ksampler_graph(seed=111, steps=9, width=1024, height=1024)
    graph.update({
        "30": {"class_type": "CLIPTextEncode", "inputs": {"text": "a draft cat", "clip": ["18", 0]}},
        "31": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "2": {"class_type": "KSampler", "inputs": {
            "seed": 222, "steps": 4, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
            "model": ["16", 0], "positive": ["30", 0], "negative": ["7", 0], "latent_image": ["31", 0]}},
        "32": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["17", 0]}},
        "1": {"class_type": "PreviewImage", "inputs": {"images": ["32", 0]}},
    })
    back, got = recall(comfy_png(tmp_path / "two.png", graph))
    assert got == (PANDA, 111, 9, 1024, 1024)
    assert any("other sampler" in n for n in back.notes)


def test_chained_second_pass_recalls_the_first_pass(tmp_path):
    graph = ksampler_graph(seed=5, steps=9, width=832, height=1216)
    graph.update({
        "40": {"class_type": "LatentUpscaleBy", "inputs": {"upscale_method": "nearest-exact", "scale_by": 1.5,
                                                           "samples": ["3", 0]}},
        "41": {"class_type": "KSampler", "inputs": {
            "seed": 6, "steps": 4, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 0.4,
            "model": ["16", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["40", 0]}},
    })
    graph["8"]["inputs"]["samples"] = ["41", 0]
    back, got = recall(comfy_png(tmp_path / "hires.png", graph))
    assert got == (PANDA, 5, 9, 832, 1216)
    assert any("first pass" in n for n in back.notes)


def test_workflow_only_image_is_walked_too(tmp_path):
    workflow = {
        "nodes": [
            {"id": 7, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "link": 1}], "widgets_values": [NEGATIVE]},
            {"id": 6, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "link": 2}], "widgets_values": [PANDA]},
            {"id": 13, "type": "EmptySD3LatentImage", "inputs": [], "widgets_values": [1280, 720, 1]},
            {"id": 3, "type": "KSampler", "inputs": [
                {"name": "model", "link": 3}, {"name": "positive", "link": 4}, {"name": "negative", "link": 5},
                {"name": "latent_image", "link": 6}],
             "widgets_values": [47447417949230, "randomize", 9, 1, "euler", "simple", 1]},
            {"id": 8, "type": "VAEDecode", "inputs": [{"name": "samples", "link": 7}]},
            {"id": 9, "type": "SaveImage", "inputs": [{"name": "images", "link": 8}], "widgets_values": ["z"]},
        ],
        "links": [[4, 6, 0, 3, 1, "CONDITIONING"], [5, 7, 0, 3, 2, "CONDITIONING"], [6, 13, 0, 3, 3, "LATENT"],
                  [7, 3, 0, 8, 0, "LATENT"], [8, 8, 0, 9, 0, "IMAGE"]],
    }
    info = PngImagePlugin.PngInfo()
    info.add_text("workflow", json.dumps(workflow))
    Image.new("RGB", (16, 16)).save(tmp_path / "wf.png", pnginfo=info)
    back, got = recall(tmp_path / "wf.png")
    assert got == (PANDA, 47447417949230, 9, 1280, 720) and back.source == "comfyui-workflow"


def test_fooocus_json_parameters(tmp_path):
    fooocus = {
        "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion", "guidance_scale": 4,
        "full_negative_prompt": ["bad"], "full_prompt": ["a panda, cinematic, highly detailed"],
        "metadata_scheme": "fooocus", "negative_prompt": "", "performance": "Speed", "prompt": PANDA,
        "prompt_expansion": "a panda, cinematic", "resolution": "(896, 1152)", "sampler": "dpmpp_2m_sde_gpu",
        "scheduler": "karras", "seed": "1234567890123456789", "sharpness": 2, "steps": 30,
        "styles": "['Fooocus V2', 'Fooocus Enhance']", "version": "Fooocus v2.5.5",
    }
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", json.dumps(fooocus))
    info.add_text("fooocus_scheme", "fooocus")
    Image.new("RGB", (16, 16)).save(tmp_path / "f.png", pnginfo=info)
    back, got = recall(tmp_path / "f.png")
    assert got == (PANDA, 1234567890123456789, 30, 896, 1152) and back.source == "fooocus"
    assert any("dpmpp_2m_sde_gpu" in n for n in back.notes) and any("karras" in n for n in back.notes)


A1111_TEXT = (
    "masterpiece, a panda in a bamboo forest, <lora:detail:0.5>\n"
    "Negative prompt: lowres, bad anatomy\n"
    'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123456789012345, Size: 1000x1000, '
    'Model hash: 6ce0161689, Model: "v1-5, pruned", Lora hashes: "detail: 1b2c3d4e5f6a", Version: v1.10.1'
)


def test_a1111_with_a_15_digit_seed_and_an_odd_size_keeps_the_steps(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111_TEXT)
    Image.new("RGB", (16, 16)).save(tmp_path / "a.png", pnginfo=info)
    back, got = recall(tmp_path / "a.png")
    # the LoRA tag moves from the prompt to the request's LoRAs, with A1111's 12-digit hash cut to AutoV2's 10
    assert got == ("masterpiece, a panda in a bamboo forest", 123456789012345, 28, 992, 992)
    assert back.request.loras == (LoraRef("detail", 0.5, "1b2c3d4e5f"),)
    joined = " ".join(back.notes)
    assert "1000×1000 was snapped to 992×992" in joined
    assert "DPM++ 2M" in joined and "Karras" in joined
    assert (back.request.negative_prompt, back.request.cfg) == ("lowres, bad anatomy", 7.0)


def test_a1111_fields_quoted_values_and_commas():
    fields = parse_fields('Steps: 8, Model: "a, b \\"c\\"", Seed: 5, Size: 512x768, Empty: , Version: x')
    assert fields == {"Steps": "8", "Model": 'a, b "c"', "Seed": "5", "Size": "512x768", "Empty": "",
                      "Version": "x"}
    assert parse_fields('Steps: 8, Note: 5" wide, Seed: 3, junk, Size: "unterminated, x') == {
        "Steps": "8", "Note": '5" wide', "Seed": "3", "Size": "unterminated, x"}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_ztxt_after_the_image_data_is_read(tmp_path):
    Image.new("RGB", (16, 16)).save(tmp_path / "plain.png")
    data = (tmp_path / "plain.png").read_bytes()
    assert data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND"
    graph = ksampler_graph(seed=47447417949230, steps=9, width=1024, height=1024)
    body = b"prompt\x00\x00" + zlib.compress(json.dumps(graph).encode("latin-1"))
    late = data[:-12] + _chunk(b"zTXt", body) + data[-12:]  # after IDAT, before IEND
    (tmp_path / "late.png").write_bytes(late)
    with Image.open(tmp_path / "late.png") as img:
        assert "prompt" not in img.info  # where Pillow does not look
    _, got = recall(tmp_path / "late.png")
    assert got == (PANDA, 47447417949230, 9, 1024, 1024)


def test_missing_values_each_get_a_note(tmp_path):
    graph = ksampler_graph()
    del graph["3"]["inputs"]["seed"], graph["3"]["inputs"]["steps"]
    graph["13"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["50", 0], "vae": ["17", 0]}}
    graph["50"] = {"class_type": "LoadImage", "inputs": {"image": "x.png"}}
    back, got = recall(comfy_png(tmp_path / "m.png", graph, size=(1000, 600)))
    assert got == (PANDA, 0, 8, 992, 608)
    joined = " ".join(back.notes)
    assert "No seed" in joined and "No step count" in joined and "input image" in joined
    assert "1000×600" in joined and "992×608" in joined


@pytest.mark.parametrize("sampler, scheduler", [("euler", "simple"), ("res_multistep", "simple"),
                                                ("euler", "diffusers")])
def test_our_parameters_text_names_sampler_and_schedule_and_reads_back(sampler, scheduler):
    from zimage_desktop.engine.request import GenerationRequest
    from zimage_desktop.history.a1111 import parse_a1111
    from zimage_desktop.history.metadata import a1111_parameters
    from zimage_desktop.history.recall import to_request

    req = GenerationRequest(prompt="a cat", seed=2**64 - 1, steps=9, width=1152, height=896, sampler=sampler,
                            scheduler=scheduler, cfg=1.0)  # a made image records the CFG it used
    text = a1111_parameters(req, {"name": "z_image_turbo_bf16.safetensors"})
    assert ("Schedule type: Simple" in text) == (scheduler == "simple")
    found = parse_a1111(text)
    back = to_request(found)
    assert back == req and not found.notes


def test_a1111_line_with_thousands_of_fields_is_cut_with_a_note():
    from zimage_desktop.history.a1111 import MAX_FIELDS, parse_a1111

    line = "Steps: 12, Seed: 99, Size: 512x768, " + ", ".join(f'K{i}: "v, {i}"' for i in range(5000))
    found = parse_a1111("a cat\n" + line)
    assert (found.prompt, found.steps, found.seed, found.width, found.height) == ("a cat", "12", "99", "512", "768")
    assert any(f"more than {MAX_FIELDS} fields" in n for n in found.notes)
    assert len(parse_fields(line)) == MAX_FIELDS
    assert len(parse_fields(", ".join(f"K{i}: {i}" for i in range(5000)))) == MAX_FIELDS


def test_custom_save_node_beats_a_preview_and_a_loader_holding_the_prompt_as_text(tmp_path):
    graph = {
        "1": {"class_type": "Efficient Loader", "inputs": {
            "ckpt_name": "z_image_turbo_bf16.safetensors", "positive": PANDA, "negative": NEGATIVE,
            "empty_latent_width": 832, "empty_latent_height": 1216, "batch_size": 1}},
        "2": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
        "3": {"class_type": "KSampler (Efficient)", "inputs": {
            "seed": 31337, "steps": 9, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
            "model": ["1", 0], "positive": ["1", 1], "negative": ["1", 2], "latent_image": ["2", 0]}},
        "4": {"class_type": "KSampler", "inputs": {
            "seed": 1, "steps": 2, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
            "model": ["1", 0], "positive": ["5", 0], "negative": ["1", 2], "latent_image": ["2", 0]}},
        "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "a preview only"}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0]}},
        "7": {"class_type": "PreviewImage", "inputs": {"images": ["6", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
        "9": {"class_type": "Image Save", "inputs": {"images": ["8", 0], "output_path": "out"}},
    }
    _, got = recall(comfy_png(tmp_path / "eff.png", graph))
    assert got == (PANDA, 31337, 9, 832, 1216)


def test_compressed_itxt_and_an_over_long_prompt(tmp_path):
    info = PngImagePlugin.PngInfo()
    long_prompt = "熊猫" * 2600  # 5200 characters: over the 4096 a request takes
    info.add_itxt("parameters", long_prompt + "\nSteps: 9, Sampler: Euler, Seed: 7, Size: 1024x1024", zip=True)
    Image.new("RGB", (16, 16)).save(tmp_path / "z.png", pnginfo=info)
    back, got = recall(tmp_path / "z.png")
    assert got == (long_prompt[:4096], 7, 9, 1024, 1024)
    assert any("cut to 4096 of its 5200 characters" in n for n in back.notes)


def test_not_a_png_is_refused_with_a_sentence(tmp_path):
    from zimage_desktop.errors import BadInputError

    (tmp_path / "fake.png").write_bytes(b"GIF89a not a png")
    with pytest.raises(BadInputError, match="not a readable PNG"):
        read_png_metadata(tmp_path / "fake.png")
