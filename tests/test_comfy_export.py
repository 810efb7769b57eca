"""Our PNGs carry ComfyUI's graphs (the official Z-Image example with our values), other readers
still read them, and recalling our own images still takes our exact ``zimage`` request."""

import json
from pathlib import Path

import pytest
from PIL import Image

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.comfy_export import api_prompt, workflow
from zimage_desktop.history.comfy_graph import recall_from_graph, workflow_to_graph
from zimage_desktop.history.metadata import parse_text_chunks, read_png_metadata, write_png
from zimage_desktop.history.recall import to_request

TEMPLATE = json.loads((Path(__file__).parent / "fixtures" / "z_image_turbo_template.json").read_text("utf-8"))
OFFICIAL_EXAMPLE = ["CLIPLoader", "CLIPTextEncode", "ConditioningZeroOut", "EmptySD3LatentImage", "KSampler",
                    "ModelSamplingAuraFlow", "SaveImage", "UNETLoader", "VAEDecode", "VAELoader"]
MODEL = {"name": "z_image_turbo_bf16", "hash": "2407613050",
         "roles": {"transformer": "z_image_turbo_bf16.safetensors", "text_encoder": "qwen_3_4b.safetensors",
                   "vae": "ae.safetensors"}}
REQUEST = GenerationRequest(prompt="海报，标题文字“新春特惠” a \"quoted\" sale", seed=47447417949230, steps=9,
                            width=1152, height=896, sampler="res_multistep")


def values(req):
    return req.prompt, req.seed, req.steps, req.width, req.height, req.sampler, req.scheduler


def test_api_prompt_is_the_official_example_with_our_values():
    graph = api_prompt(REQUEST, MODEL)
    assert sorted(n["class_type"] for n in graph.values()) == OFFICIAL_EXAMPLE
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["sampler_name"], sampler["scheduler"],
            sampler["denoise"]) == (47447417949230, 9, 1, "res_multistep", "simple", 1)
    assert graph["16"]["inputs"]["unet_name"] == "z_image_turbo_bf16.safetensors"
    assert graph["18"]["inputs"] == {"clip_name": "qwen_3_4b.safetensors", "type": "lumina2", "device": "default"}
    found = recall_from_graph(graph, "comfyui")
    assert values(to_request(found)) == values(REQUEST) and not found.notes


def test_workflow_matches_the_prompt_and_the_official_templates_widget_layouts():
    ours = workflow(REQUEST, MODEL)
    found = recall_from_graph(workflow_to_graph(json.dumps(ours)), "comfyui-workflow")
    assert values(to_request(found)) == values(REQUEST)
    assert all(len(link) == 6 for link in ours["links"])  # [id, from, slot, to, slot, type], as readers expect
    template = {n["type"]: n for n in TEMPLATE["nodes"] + [TEMPLATE["save_image"]]}
    for node in ours["nodes"]:
        reference = template.get(node["type"])
        if reference is None:
            continue
        assert [type(v) for v in node["widgets_values"]] == [type(v) for v in reference["widgets_values"]], node["type"]
        linked = {i["name"] for i in reference["inputs"] if i["type"] in ("MODEL", "CLIP", "VAE", "CONDITIONING",
                                                                          "LATENT", "IMAGE")}
        assert {i["name"] for i in node["inputs"]} <= linked | {"model"}, node["type"]


def test_the_official_template_itself_recalls():
    """The template's own graph (vendored, derived): res_multistep, simple, 8 steps, 1024²."""
    graph = workflow_to_graph(json.dumps({"nodes": TEMPLATE["nodes"], "links": TEMPLATE["links"]}))
    found = recall_from_graph(graph, "comfyui-workflow")
    request = to_request(found)
    assert request.prompt.startswith("Latina female with thick wavy hair")
    assert (request.steps, request.width, request.height, request.sampler, request.scheduler) == (
        8, 1024, 1024, "res_multistep", "simple")
    assert request.seed == 0  # the template's seed widget holds 0 (randomized when queued)


def test_our_png_carries_the_graphs_and_zimage_still_wins(tmp_path):
    path = write_png(tmp_path / "ours.png", Image.new("RGB", (64, 64)), REQUEST, MODEL)
    with Image.open(path) as img:
        texts = dict(img.text)
    assert {"parameters", "zimage", "prompt", "workflow"} <= set(texts)
    assert texts["prompt"].isascii() and json.loads(texts["prompt"])["6"]["inputs"]["text"] == REQUEST.prompt
    back = read_png_metadata(path)
    assert back.source == "zimage" and back.request == REQUEST
    without_ours = parse_text_chunks({k: v for k, v in texts.items() if k not in ("zimage", "parameters")})
    assert without_ours.source == "comfyui" and values(without_ours.request) == values(REQUEST)


def test_gguf_files_load_through_comfyui_ggufs_nodes():
    model = {"roles": {"transformer": "z_image_turbo-Q4_K_M.gguf", "text_encoder": "Qwen3-4B-Q6_K.gguf",
                       "vae": "ae.safetensors"}}
    graph = api_prompt(REQUEST, model)
    assert graph["16"] == {"class_type": "UnetLoaderGGUF", "inputs": {"unet_name": "z_image_turbo-Q4_K_M.gguf"},
                           "_meta": {"title": "UnetLoaderGGUF"}}
    assert graph["18"]["class_type"] == "CLIPLoaderGGUF" and graph["18"]["inputs"]["type"] == "lumina2"
    assert api_prompt(REQUEST, {})["16"]["inputs"]["unet_name"] == "z_image_turbo_bf16.safetensors"


def test_sd_parsers_still_reads_prompt_seed_and_steps(tmp_path):
    sd_parsers = pytest.importorskip("sd_parsers")
    from sd_parsers.parsers import ComfyUIParser

    req = GenerationRequest(prompt="a red fox in the snow, 红狐狸", seed=2**64 - 1, steps=9, width=1152, height=896)
    path = write_png(tmp_path / "fox.png", Image.new("RGB", (64, 64)), req, MODEL)
    info = sd_parsers.ParserManager().parse(path)
    assert info is not None
    assert [p.value for p in info.prompts] == [req.prompt]
    sampler = info.samplers[0]
    assert int(sampler.parameters["seed"]) == req.seed and int(sampler.parameters["steps"]) == 9
    with Image.open(path) as img:  # and its ComfyUI reader, on the graphs alone
        comfy = ComfyUIParser().parse({"prompt": img.text["prompt"], "workflow": img.text["workflow"]})
    assert [p.value for p in comfy.prompts] == [req.prompt]
    assert comfy.samplers[0].parameters["seed"] == req.seed and comfy.samplers[0].parameters["steps"] == 9


def test_graph_carries_our_shift_and_zeroes_the_missing_negative():
    graph = api_prompt(REQUEST, {**MODEL, "shift": 4.5})
    assert graph["12"] == {"class_type": "ModelSamplingAuraFlow", "inputs": {"shift": 4.5, "model": ["16", 0]},
                           "_meta": {"title": "ModelSamplingAuraFlow"}}
    assert graph["3"]["inputs"]["model"] == ["12", 0]
    assert graph["7"]["class_type"] == "ConditioningZeroOut" and graph["7"]["inputs"] == {"conditioning": ["6", 0]}
    assert graph["3"]["inputs"]["negative"] == ["7", 0]
    assert api_prompt(REQUEST, MODEL)["12"]["inputs"]["shift"] == 3  # the scheduler config's, as the template


def test_the_diffusers_schedule_travels_exactly_as_manual_sigmas():
    import re

    import torch

    from zimage_desktop.engine.sampling import schedule

    nine = GenerationRequest(prompt="a fox", seed=5, steps=9, scheduler="diffusers")
    graph = api_prompt(nine, MODEL)
    assert graph["3"]["class_type"] == "SamplerCustom" and graph["25"]["inputs"] == {"sampler_name": "euler"}
    text = graph["26"]["inputs"]["sigmas"]
    # ManualSigmas' own parsing: its regular expression, then a float32 tensor
    parsed = torch.FloatTensor([float(v) for v in re.findall(r"[-+]?(?:\d*\.*\d+)", text)])
    assert parsed.tolist() == torch.tensor([*schedule("diffusers", 9, 3.0), 0.0], dtype=torch.float32).tolist()
    assert parsed.tolist() != torch.tensor([*schedule("simple", 9, 3.0), 0.0], dtype=torch.float32).tolist()
    found = recall_from_graph(graph, "comfyui")
    assert (found.seed, found.steps, found.prompt) == (5, 9, "a fox")
    # 8 steps divide 1000: "simple" is the same schedule, so the plain KSampler stays
    eight = api_prompt(GenerationRequest(prompt="a fox", seed=5, steps=8, scheduler="diffusers"), MODEL)
    assert eight["3"]["class_type"] == "KSampler" and eight["3"]["inputs"]["scheduler"] == "simple"
