"""The note a recalled image gets when it names Z-Image, the base model (history/recall._model_note):
each of its sentences holds on a tiny models folder with both models, and with the base model only."""

import json

from PIL import Image, PngImagePlugin

from zimage_desktop.devkit.tiny import BASE_TINY_TRANSFORMER, add_base_model
from zimage_desktop.engine.architectures import ARCHITECTURES
from zimage_desktop.engine.guidance import uses_negative_branch
from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.history.metadata import read_png_metadata

NOTE = "made with Z-Image, the base model"


def _comfy_png(tmp_path, unet_name: str):
    """A PNG as ComfyUI's SaveImage writes it: the base model's template (50 steps, CFG 4, a negative)."""
    graph = {"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "ComfyUI"}},
             "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["17", 0]}},
             "3": {"class_type": "KSampler", "inputs": {"seed": 11, "steps": 50, "cfg": 4, "sampler_name": "euler",
                                                        "scheduler": "simple", "denoise": 1, "model": ["11", 0],
                                                        "positive": ["6", 0], "negative": ["7", 0],
                                                        "latent_image": ["5", 0]}},
             "11": {"class_type": "ModelSamplingAuraFlow", "inputs": {"shift": 3, "model": ["16", 0]}},
             "16": {"class_type": "UNETLoader", "inputs": {"unet_name": unet_name, "weight_dtype": "default"}},
             "18": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_3_4b.safetensors", "type": "lumina2"}},
             "17": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a heron in reeds", "clip": ["18", 0]}},
             "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, low quality", "clip": ["18", 0]}},
             "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}}}
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    path = tmp_path / f"{unet_name}.png"
    Image.new("RGB", (64, 48)).save(path, pnginfo=info)
    return path


def test_each_sentence_of_the_base_model_note_holds(comfy_copy, tmp_path):
    add_base_model(comfy_copy)  # Turbo's files and the base model's, as a user who has both
    found = read_png_metadata(_comfy_png(tmp_path, BASE_TINY_TRANSFORMER))
    note = next(n for n in found.notes if NOTE in n)
    # "made with Z-Image, the base model (FILE)"
    assert BASE_TINY_TRANSFORMER in note
    # "re-made with Z-Image-Turbo when your models folder holds it, unless you choose another
    # transformer file": the request names no file, so the folder's pick is Turbo's file while it is
    # there (else the base model's); naming the base model's file runs the base model
    request = found.request
    assert request is not None and request.transformer is None
    assert resolve_model_set(comfy_copy, request.transformer).arch == "z-image-turbo"
    assert resolve_model_set(comfy_copy, BASE_TINY_TRANSFORMER).arch == "z-image-base"
    assert "Z-Image-Turbo when your models folder holds it, unless you choose another transformer file" in note
    for path in (comfy_copy / "diffusion_models").iterdir():
        if path.name != BASE_TINY_TRANSFORMER:
            path.unlink()
    assert resolve_model_set(comfy_copy, request.transformer).arch == "z-image-base"
    # "Z-Image-Turbo ignores the CFG scale and negative prompt": they are kept in the request (the
    # base model uses them), and Turbo samples without them
    assert (request.steps, request.cfg, request.negative_prompt) == (50, 4.0, "blurry, low quality")
    assert uses_negative_branch(ARCHITECTURES["z-image-base"], request)
    assert not uses_negative_branch(ARCHITECTURES["z-image-turbo"], request)
    assert "ignores the CFG scale and negative prompt" in note
    # the stale claim is gone: the base model is no longer always re-made with Turbo
    assert "it is re-made with Z-Image-Turbo" not in note


def test_turbo_and_other_names_get_no_base_model_note(tmp_path):
    for name in ("z_image_turbo_bf16.safetensors", "Z-Image-Turbo-Q8_0.gguf", "flux1-dev.safetensors"):
        found = read_png_metadata(_comfy_png(tmp_path, name))
        assert found.request is not None and not any(NOTE in n for n in found.notes), (name, found.notes)
