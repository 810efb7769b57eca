"""Size picker nodes in ComfyUI graphs (issue 25), each node with the inputs its pack gives it,
saved as ComfyUI's SaveImage writes the ``prompt`` chunk."""

import json

from PIL import Image, PngImagePlugin

from zimage_desktop.engine.sizes import presets
from zimage_desktop.history.metadata import read_png_metadata


def _graph(latent: list, extra: dict) -> dict:
    graph = {
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["17", 0]}},
        "3": {"class_type": "KSampler", "inputs": {"seed": 11, "steps": 9, "cfg": 1, "sampler_name": "euler",
                                                   "scheduler": "simple", "denoise": 1, "model": ["16", 0],
                                                   "positive": ["6", 0], "negative": ["7", 0], "latent_image": latent}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a tall lighthouse", "clip": ["18", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["18", 0]}},
        "16": {"class_type": "UNETLoader", "inputs": {"unet_name": "z.safetensors", "weight_dtype": "default"}},
        "17": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "18": {"class_type": "CLIPLoader", "inputs": {"clip_name": "q.safetensors", "type": "lumina2"}},
    }
    graph.update(extra)
    return graph


def _size(tmp_path, graph):
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    path = tmp_path / "picker.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    found = read_png_metadata(path)
    assert found.request is not None, found.notes
    return found.request.width, found.request.height


def test_rgthree_sdxl_empty_latent_dimensions(tmp_path):
    node = {"class_type": "SDXL Empty Latent Image (rgthree)",
            "inputs": {"dimensions": " 896 x 1152  (portrait)", "clip_scale": 2, "batch_size": 1}}
    assert _size(tmp_path, _graph(["5", 0], {"5": node})) == (896, 1152)


def test_essentials_size_picker_outputs_feed_an_empty_latent(tmp_path):
    picker = {"class_type": "SDXLEmptyLatentSizePicker+",
              "inputs": {"resolution": "1216x832 (1.46)", "batch_size": 1, "width_override": 0, "height_override": 0}}
    latent = {"class_type": "EmptySD3LatentImage", "inputs": {"width": ["20", 1], "height": ["20", 2],
                                                              "batch_size": 1}}
    assert _size(tmp_path, _graph(["5", 0], {"5": latent, "20": picker})) == (1216, 832)


def test_essentials_override_wins(tmp_path):
    picker = {"class_type": "SDXLEmptyLatentSizePicker+",
              "inputs": {"resolution": "1024x1024 (1.0)", "batch_size": 1, "width_override": 1280,
                         "height_override": 0}}
    assert _size(tmp_path, _graph(["20", 0], {"20": picker})) == (1280, 1024)


def test_comfyroll_aspect_ratio_preset_swapped(tmp_path):
    node = {"class_type": "CR SDXL Aspect Ratio",
            "inputs": {"width": 1024, "height": 1024, "aspect_ratio": "3:4 portrait 896x1152",
                       "swap_dimensions": "On", "upscale_factor": 1, "batch_size": 1}}
    assert _size(tmp_path, _graph(["5", 4], {"5": node})) == (1152, 896)


def test_comfyroll_custom_uses_its_width_and_height(tmp_path):
    node = {"class_type": "CR SDXL Aspect Ratio",
            "inputs": {"width": 1280, "height": 720, "aspect_ratio": "custom", "swap_dimensions": "Off",
                       "upscale_factor": 1, "batch_size": 1}}
    assert _size(tmp_path, _graph(["5", 4], {"5": node})) == (1280, 720)


def test_a_picked_size_lands_on_the_windows_size_list(tmp_path):
    node = {"class_type": "SDXL Empty Latent Image (rgthree)",
            "inputs": {"dimensions": "1152 x 896   (landscape)", "clip_scale": 1, "batch_size": 1}}
    size = _size(tmp_path, _graph(["5", 0], {"5": node}))
    assert size in {(p.width, p.height) for p in presets()}
