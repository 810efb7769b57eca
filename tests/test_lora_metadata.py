"""LoRAs in what other tools read and write: A1111 ``parameters``, ComfyUI graphs (checked against
ComfyUI's own node definitions), recall by name or hash, the CLI, and adopting ComfyUI's loras/."""

import ast
import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image, PngImagePlugin
from safetensors.torch import save_file

from zimage_desktop.cli import main
from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.engine.loras import match_loras, scan_loras
from zimage_desktop.engine.request import GenerationRequest, LoraRef
from zimage_desktop.history.comfy_export import api_prompt, workflow
from zimage_desktop.history.comfy_graph import load_graph, recall_from_graph, workflow_to_graph
from zimage_desktop.history.metadata import a1111_parameters, read_png_metadata, write_png
from zimage_desktop.history.recall import to_request
from zimage_desktop.models.hashing import HashCache

COMFY_NODES = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "comfyui" / "ComfyUI" / "nodes.py"
if not COMFY_NODES.is_file():
    COMFY_NODES = Path("/work/shared/peers/comfyui/ComfyUI/nodes.py")
MODEL = {"name": "z_image_turbo_bf16", "hash": "2407613050",
         "roles": {"transformer": "z_image_turbo_bf16.safetensors", "text_encoder": "qwen_3_4b.safetensors",
                   "vae": "ae.safetensors"}}
REQUEST = GenerationRequest(prompt="a fox <lora:detail:0.5> in snow", seed=9, steps=8,
                            loras=(LoraRef("style", 0.8, "0123456789"), LoraRef("detail", 0.5, "abcdef0123")))


def _comfy_node_inputs(cls_name: str) -> tuple[list[str], dict[str, dict], tuple]:
    """(required input names in order, their options, RETURN_TYPES) from ComfyUI's nodes.py source."""
    tree = ast.parse(COMFY_NODES.read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    inputs_fn = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "INPUT_TYPES")
    ret = next(n for n in inputs_fn.body if isinstance(n, ast.Return))
    required = next(v for k, v in zip(ret.value.keys, ret.value.values) if ast.literal_eval(k) == "required")
    names, options = [], {}
    for key, value in zip(required.keys, required.values):
        names.append(ast.literal_eval(key))
        if len(value.elts) > 1:
            options[names[-1]] = ast.literal_eval(value.elts[1])
    returns = next(ast.literal_eval(n.value) for n in node.body
                   if isinstance(n, ast.Assign) and n.targets[0].id == "RETURN_TYPES")
    return names, options, returns


def test_a1111_parameters_carry_tags_and_lora_hashes():
    text = a1111_parameters(REQUEST, MODEL)
    prompt, fields = text.split("\n")
    assert prompt == "a fox <lora:detail:0.5> in snow <lora:style:0.8>"  # the typed tag is not repeated
    assert 'Lora hashes: "style: 0123456789, detail: abcdef0123"' in fields


def test_comfy_graph_chains_lora_loaders_as_comfyui_defines_them():
    graph = api_prompt(REQUEST, MODEL)
    names, options, returns = _comfy_node_inputs("LoraLoaderModelOnly")
    loras = [graph[k] for k in sorted(graph, key=int) if graph[k]["class_type"] == "LoraLoaderModelOnly"]
    assert [n["inputs"]["lora_name"] for n in loras] == ["style.safetensors", "detail.safetensors"]
    for node in loras:
        assert sorted(node["inputs"]) == sorted(names) and returns == ("MODEL",)
        strength = node["inputs"]["strength_model"]
        assert options["strength_model"]["min"] <= strength <= options["strength_model"]["max"]
    # loader → style → detail → ModelSamplingAuraFlow → sampler; the prompt the encoder sees has no tag
    assert loras[0]["inputs"]["model"] == ["16", 0] and loras[1]["inputs"]["model"] == ["40", 0]
    assert graph["12"]["inputs"]["model"] == ["41", 0] and graph["3"]["inputs"]["model"] == ["12", 0]
    assert graph["6"]["inputs"]["text"] == "a fox in snow"
    for found in (recall_from_graph(graph, "comfyui"),
                  recall_from_graph(workflow_to_graph(json.dumps(workflow(REQUEST, MODEL))), "comfyui-workflow")):
        back = to_request(found)
        assert [(r.name, r.strength) for r in back.loras] == [("style", 0.8), ("detail", 0.5)]


def test_png_without_our_chunk_recalls_loras_from_a1111_text(tmp_path):
    path = write_png(tmp_path / "a.png", Image.new("RGB", (16, 16)), REQUEST, MODEL)
    assert read_png_metadata(path).request.loras == REQUEST.loras  # ours, exact
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", a1111_parameters(REQUEST, MODEL))
    Image.new("RGB", (16, 16)).save(tmp_path / "b.png", pnginfo=info)
    back = read_png_metadata(tmp_path / "b.png")
    assert back.source == "a1111" and back.request.prompt == "a fox in snow"
    assert {(r.name, r.strength, r.sha256_10) for r in back.request.loras} == {
        ("style", 0.8, "0123456789"), ("detail", 0.5, "abcdef0123")}


def test_comfy_graphs_with_loader_and_stacker_nodes_recall():
    graph = load_graph(json.dumps({
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "z.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["9", 0],
                                                      "lora_name": "chars\\hero.safetensors", "strength_model": 0.7,
                                                      "strength_clip": 1}},
        "3": {"class_type": "CR LoRA Stack", "inputs": {
            "switch_1": "On", "lora_name_1": "a.safetensors", "model_weight_1": 0.4, "clip_weight_1": 1,
            "switch_2": "Off", "lora_name_2": "b.safetensors", "model_weight_2": 1, "clip_weight_2": 1,
            "switch_3": "On", "lora_name_3": "None", "model_weight_3": 1, "clip_weight_3": 1}},
        "4": {"class_type": "CR Apply LoRA Stack", "inputs": {"model": ["2", 0], "clip": ["9", 0],
                                                              "lora_stack": ["3", 0]}},
        "5": {"class_type": "Power Lora Loader (rgthree)", "inputs": {
            "model": ["4", 0], "lora_1": {"on": True, "lora": "c.safetensors", "strength": -0.5},
            "lora_2": {"on": False, "lora": "d.safetensors", "strength": 1}}},
        "9": {"class_type": "CLIPLoader", "inputs": {"clip_name": "q.safetensors", "type": "lumina2"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["9", 0], "text": "a hero"}},
        "7": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "8": {"class_type": "KSampler", "inputs": {"model": ["5", 0], "positive": ["6", 0], "negative": ["6", 0],
                                                   "latent_image": ["7", 0], "seed": 3, "steps": 8, "cfg": 1,
                                                   "sampler_name": "euler", "scheduler": "simple", "denoise": 1}},
    }))
    back = to_request(recall_from_graph(graph, "comfyui"))
    assert [(r.name, r.strength) for r in back.loras] == [("hero", 0.7), ("a", 0.4), ("c", -0.5)]


def test_recall_finds_loras_by_name_or_hash_and_names_the_missing(tmp_path):
    models = tmp_path / "models"
    (models / "loras" / "sub").mkdir(parents=True)
    tl.write_sdxl(models / "loras" / "sub" / "renamed.safetensors")  # any file: only its hash matters here
    cache = HashCache()
    sha = cache.sha256(models / "loras" / "sub" / "renamed.safetensors")[:10]
    tl.write_lokr_tucker(models / "loras" / "byname.safetensors")
    kept, notes = match_loras(models, (LoraRef("byname", 0.3), LoraRef("old_name", 0.9, sha),
                                       LoraRef("gone", 1.0, "ffffffffff")), cache)
    assert [(r.name, r.strength) for r in kept] == [("byname", 0.3), ("renamed", 0.9)]
    assert len(notes) == 1 and "gone" in notes[0] and "ffffffffff" in notes[0]


@pytest.fixture
def models_with_lora(comfy_copy):
    from zimage_desktop.devkit.tiny import build_tiny_pipeline

    pipe = build_tiny_pipeline(0)
    tl.write_peft_lora(pipe.transformer, comfy_copy / "loras" / "detail.safetensors", 2, 2.0, seed=3,
                       metadata={"ss_tag_frequency": json.dumps({"1_img": {"zzdetail": 12, "sharp focus": 4}})})
    tl.write_sdxl(comfy_copy / "loras" / "xl_style.safetensors")
    return comfy_copy


def test_cli_generate_with_lora_and_models_list(models_with_lora, tmp_path, data_dir, capsys):
    out = tmp_path / "x.png"
    code = main(["generate", "--models", str(models_with_lora), "--prompt", "a fox", "--seed", "2", "--width", "256",
                 "--height", "256", "--steps", "1", "--lora", "detail:0.6", "--no-history", "--out", str(out)])
    assert code == 0
    back = read_png_metadata(out)
    assert back.request.loras[0].name == "detail" and back.request.loras[0].strength == 0.6
    assert len(back.request.loras[0].sha256_10) == 10
    capsys.readouterr()
    assert main(["generate", "--models", str(models_with_lora), "--prompt", "x", "--lora", "detail:7"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "strength" in err
    assert main(["models", "list", "--models", str(models_with_lora)]) == 0
    listed = capsys.readouterr().out
    assert "detail" in listed and "zzdetail, sharp focus" in listed
    assert "xl_style" in listed and "SDXL" in listed


def test_models_import_adopts_comfyuis_loras(models_with_lora, tmp_path, data_dir, capsys):
    comfy = tmp_path / "ComfyUI" / "models"
    (comfy / "loras" / "styles").mkdir(parents=True)
    shutil.copy(models_with_lora / "loras" / "detail.safetensors", comfy / "loras" / "styles" / "detail.safetensors")
    Image.new("RGB", (8, 8)).save(comfy / "loras" / "styles" / "detail.preview.png")
    shutil.copy(models_with_lora / "loras" / "xl_style.safetensors", comfy / "loras" / "xl_style.safetensors")
    save_file({"w": torch.zeros(2)}, str(comfy / "loras" / "junk.safetensors"))
    target = tmp_path / "ours"
    main(["models", "import", str(comfy), "--models", str(target)])
    found = {lora.name: lora for lora in scan_loras(target)}
    assert set(found) == {"detail"}
    assert found["detail"].relative == "styles/detail.safetensors" and found["detail"].preview is not None
    assert found["detail"].trigger_words[:2] == ("zzdetail", "sharp focus")


def test_planner_counts_lora_weights():
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo
    from zimage_desktop.engine.planner import make_plan

    gib = 1024**3
    machine = MachineInfo(gpus=(GpuInfo(0, "RTX 3060", 12 * gib, int(11.4 * gib), (8, 6), True),), total_ram=32 * gib)
    forms = {"bf16", "fp8", "Q8_0", "Q4_K"}
    plain = make_plan(machine, forms, "12gb", present_te_forms={"bf16"})
    with_loras = make_plan(machine, forms, "12gb", present_te_forms={"bf16"}, lora_gib=1.5)
    # Read when a request applies them (issue 27): not in the load column, in every phase after it.
    bare, held = plain.table().phase_memory(), with_loras.table().phase_memory()
    assert held["load"] == bare["load"]
    assert all(held[p][1] >= bare[p][1] + 1.5 - 0.01 for p in ("encode", "denoise", "decode"))
    assert with_loras.predicted_ram_gib >= plain.predicted_ram_gib
    assert with_loras.predicted_vram_gib >= plain.predicted_vram_gib  # and more where the layers are resident
