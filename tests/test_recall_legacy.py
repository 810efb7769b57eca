"""Recall from InvokeAI 2.x (``sd-metadata``, ``Dream``), RuinedFooocus and diffusers apps' JSON,
and other tools' sampler/schedule labels — each PNG written the way the tool writes it
(``PngInfo.add_text(key, text)``, as InvokeAI's ``PngWriter``, RuinedFooocus and diffuzers do)."""

import json

from PIL import Image, PngImagePlugin

from zimage_desktop.history.metadata import read_png_metadata
from zimage_desktop.history.sampler_names import map_sampling, split_label

WOMAN = ("professional photo of a young woman, long brunette hair, at night, outside, city background, "
         "8k ultra detailed, film grain")


def _png(tmp_path, texts: dict[str, str], size=(64, 96), name="tool.png"):
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    path = tmp_path / name
    Image.new("RGB", size).save(path, pnginfo=info)
    return path


def _values(found):
    r = found.request
    assert r is not None, found.notes
    return r.prompt, r.seed, r.steps, r.width, r.height


# InvokeAI 2.3's PngWriter: both chunks, the Dream line and the JSON (sd-parsers' invokeai_sdmeta1 layout)
SD_METADATA = {
    "model": "stable diffusion", "model_weights": "deliberateForInvoke_v08",
    "model_hash": "56d1442a0feefd64836a19ac8e3527ec71c884fc962e246ddf67b03e42921272",
    "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.0",
    "image": {"prompt": [{"prompt": WOMAN + " [rendering, glowing eyes, skinny]", "weight": 1.0}],
              "steps": 50, "cfg_scale": 5, "threshold": 0, "perlin": 0, "height": 768, "width": 512,
              "seed": 2980747362, "seamless": False, "hires_fix": False, "type": "txt2img",
              "postprocessing": [{"type": "esrgan", "scale": 4, "strength": 0.95}], "sampler": "k_lms",
              "variations": []},
}
DREAM = f'"{WOMAN} [rendering, glowing eyes, skinny]" -s 50 -S 2980747362 -W 512 -H 768 -C 5.0 -A k_lms -G 0.9 -U 4 0.75'


def test_invokeai_2_sd_metadata(tmp_path):
    found = read_png_metadata(_png(tmp_path, {"Dream": DREAM, "sd-metadata": json.dumps(SD_METADATA)}))
    assert found.source == "invokeai-legacy"
    assert _values(found) == (WOMAN, 2980747362, 50, 512, 768)
    # kept for a model with guidance (Z-Image base); Turbo says at run time that it ignores them
    assert (found.request.negative_prompt, found.request.cfg) == ("rendering, glowing eyes, skinny", 5.0)
    assert any("k_lms" in n and "not available" in n for n in found.notes)


def test_invokeai_2_0_sd_metadata_with_a_plain_prompt_and_img2img(tmp_path):
    meta = {"model": "stable diffusion", "model_id": "stable-diffusion-1.5", "app_id": "lstein/stable-diffusion",
            "app_version": "v2.0.0", "image": {"prompt": "a lighthouse at dawn", "steps": 30, "cfg_scale": 7.5,
                                               "height": 512, "width": 768, "seed": 99, "type": "img2img",
                                               "strength": 0.6, "sampler": "k_euler_a"}}
    found = read_png_metadata(_png(tmp_path, {"sd-metadata": json.dumps(meta)}))
    assert _values(found) == ("a lighthouse at dawn", 99, 30, 768, 512)
    assert found.edit_mode == "img2img" and found.request.strength == 0.6


def test_old_invokeai_dream_line_alone(tmp_path):
    """The Dream line without sd-metadata (InvokeAI 1.x), a quote inside the prompt, -Svalue attached."""
    dream = '"a sign saying "OPEN" on a door [blurry]" -s40 -S 1234 -W 640 -H 448 -C 7.5 -A k_euler'
    found = read_png_metadata(_png(tmp_path, {"Dream": dream}))
    assert found.source == "invokeai-dream"
    assert _values(found) == ('a sign saying "OPEN" on a door', 1234, 40, 640, 448)
    assert found.request.sampler == "euler"
    assert (found.request.negative_prompt, found.request.cfg) == ("blurry", 7.5)


def test_ruined_fooocus_parameters(tmp_path):
    meta = {"Prompt": "cinematic film still A sunflower field, shallow depth of field",
            "Negative": "anime, cartoon", "steps": 30, "cfg": 8.5, "width": 1152, "height": 896, "seed": 3864674281,
            "sampler_name": "dpmpp_2m_sde_gpu", "scheduler": "karras",
            "base_model_name": "sd_xl_base_1.0_0.9vae.safetensors", "base_model_hash": "be9edd61",
            "loras": [["4852686128", "0.1 - sd_xl_offset_example-lora_1.0.safetensors"]],
            "start_step": 0, "denoise": None, "clip_skip": 1, "software": "RuinedFooocus"}
    found = read_png_metadata(_png(tmp_path, {"parameters": json.dumps(meta)}))
    assert found.source == "ruinedfooocus"
    assert _values(found) == (meta["Prompt"], 3864674281, 30, 1152, 896)
    lora = found.request.loras[0]
    assert (lora.name, lora.strength, lora.sha256_10) == ("sd_xl_offset_example-lora_1.0", 0.1, "4852686128")
    assert any("dpmpp_2m_sde_gpu / karras" in n for n in found.notes), found.notes


def test_ruined_fooocus_older_lora_string(tmp_path):
    meta = {"Prompt": "a fox", "Negative": "", "steps": 20, "switch": 0.5, "cfg": 1, "width": 1024, "height": 1024,
            "seed": 7, "sampler_name": "euler", "scheduler": "simple", "base_model_name": "z.safetensors",
            "refiner_model_name": "", "loras": "Loras:<detail.safetensors:0.8>", "start_step": 0, "denoise": 1,
            "software": "RuinedFooocus"}
    found = read_png_metadata(_png(tmp_path, {"parameters": json.dumps(meta)}))
    assert _values(found) == ("a fox", 7, 20, 1024, 1024)
    assert [(ref.name, ref.strength) for ref in found.request.loras] == [("detail", 0.8)]
    assert not found.notes


def test_diffusers_space_json(tmp_path):
    """diffuzers (a Hugging Face Space over diffusers): ``text2img`` JSON, image_size [height, width]."""
    meta = {"prompt": "a paper boat on a puddle", "negative_prompt": "", "scheduler": "EulerAncestralDiscreteScheduler",
            "image_size": [768, 512], "num_images": 1, "guidance_scale": 7.5, "steps": 25, "seed": 42}
    found = read_png_metadata(_png(tmp_path, {"text2img": json.dumps(meta)}))
    assert found.source == "diffusers"
    assert _values(found) == ("a paper boat on a puddle", 42, 25, 512, 768)
    assert any("EulerAncestralDiscreteScheduler" not in n and "euler_ancestral" in n for n in found.notes)


def test_diffusers_call_names_and_the_zimage_schedule(tmp_path):
    meta = {"prompt": "一只熊猫", "num_inference_steps": 8, "guidance_scale": 0.0, "width": 1024, "height": 768,
            "seed": 5, "scheduler": "FlowMatchEulerDiscreteScheduler"}
    found = read_png_metadata(_png(tmp_path, {"text2img": json.dumps(meta, ensure_ascii=False)}))
    r = found.request
    assert _values(found) == ("一只熊猫", 5, 8, 1024, 768)
    assert (r.sampler, r.scheduler) == ("euler", "diffusers") and not found.notes


def test_a1111_sampler_label_with_its_schedule_is_one_note(tmp_path):
    text = "a castle\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 1, Seed: 3, Size: 512x512, Model: m"
    found = read_png_metadata(_png(tmp_path, {"parameters": text}))
    notes = [n for n in found.notes if "not available" in n]
    assert notes == ["The image was made with DPM++ 2M Karras, which is not available here; it is re-made with "
                     "euler and the simple schedule."]


def test_a1111_euler_with_simple_schedule_runs_as_made(tmp_path):
    text = "a castle\nSteps: 9, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Seed: 3, Size: 512x512"
    found = read_png_metadata(_png(tmp_path, {"parameters": text}))
    assert (found.request.sampler, found.request.scheduler) == ("euler", "simple")
    assert not any("not available" in n for n in found.notes)


def test_labels_split_as_each_tool_writes_them():
    assert split_label("DPM++ 2M", "Karras") == ("dpmpp_2m", "karras")
    assert split_label("DPM++ 2M Karras", None) == ("dpmpp_2m", "karras")
    assert split_label("Euler a", "Automatic") == ("euler_ancestral", None)
    assert split_label("euler_ancestral_karras", None) == ("euler_ancestral", "karras")  # comfy-image-saver
    assert split_label("dpmpp_2m_k", None) == ("dpmpp_2m", "karras")  # InvokeAI
    assert split_label("k_euler_a", None) == ("euler_ancestral", None)  # old InvokeAI, NovelAI
    assert split_label("res_multistep", "simple") == ("res_multistep", "simple")
    assert map_sampling("Res Multistep", "Simple") == ("res_multistep", "simple", None)
    sampler, schedule, note = map_sampling("euler", "karras")
    assert (sampler, schedule) == ("euler", None) and note is not None and "euler / karras" in note


BASE_NOTE = "made with Z-Image, the base model"


def test_the_base_model_is_named_as_such_from_each_tool(tmp_path):
    a1111 = "a heron\nSteps: 50, Sampler: Euler, CFG scale: 4, Seed: 3, Size: 1024x1024, Model: z_image_bf16"
    found = read_png_metadata(_png(tmp_path, {"parameters": a1111}, name="a.png"))
    assert any(BASE_NOTE in n and "z_image_bf16" in n for n in found.notes), found.notes
    graph = {"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
             "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
             "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 50, "cfg": 4, "sampler_name": "euler",
                                                        "scheduler": "simple", "model": ["11", 0],
                                                        "positive": ["6", 0], "latent_image": ["5", 0]}},
             "11": {"class_type": "ModelSamplingAuraFlow", "inputs": {"shift": 3, "model": ["16", 0]}},
             "16": {"class_type": "UNETLoader", "inputs": {"unet_name": "z_image_bf16.safetensors",
                                                           "weight_dtype": "default"}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a heron"}},
             "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}}}
    found = read_png_metadata(_png(tmp_path, {"prompt": json.dumps(graph)}, name="c.png"))
    assert any(BASE_NOTE in n and "z_image_bf16.safetensors" in n for n in found.notes), found.notes
    graph["16"]["inputs"]["unet_name"] = "z_image_turbo_bf16.safetensors"
    found = read_png_metadata(_png(tmp_path, {"prompt": json.dumps(graph)}, name="t.png"))
    assert not any(BASE_NOTE in n for n in found.notes)
    invoke = {"generation_mode": "txt2img", "positive_prompt": "a heron", "seed": 1, "steps": 28, "width": 1024,
              "height": 1024, "cfg_scale": 4, "model": {"key": "k", "name": "Z-Image", "base": "z-image", "type": "main"}}
    found = read_png_metadata(_png(tmp_path, {"invokeai_metadata": json.dumps(invoke)}, name="i.png"))
    assert any(BASE_NOTE in n for n in found.notes), found.notes
