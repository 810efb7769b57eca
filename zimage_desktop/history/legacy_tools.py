"""Readers for older and smaller tools' PNG metadata (issue 25):

- InvokeAI 2.x: ``sd-metadata`` JSON (``{"app_id": "invoke-ai/InvokeAI", "image": {"prompt":
  [{"prompt": "…", "weight": 1.0}], "steps", "cfg_scale", "seed", "width", "height", "sampler",
  "type", "strength"}}``; 2.0 wrote ``prompt`` as plain text) and the ``Dream`` command line of
  the same era (``"a cat [blurry]" -s 50 -S 42 -W 512 -H 768 -C 7.5 -A k_lms``). In both, text in
  square brackets is InvokeAI's negative prompt.
- RuinedFooocus: flat JSON in ``parameters`` with ``"software": "RuinedFooocus"`` (``Prompt``,
  ``Negative``, ``steps``, ``cfg``, ``width``, ``height``, ``seed``, ``sampler_name``,
  ``scheduler``, ``loras`` as ``[[hash, "weight - name"]]`` or the older ``"Loras:<name:w>,…"``).
- diffusers apps (Hugging Face Spaces such as diffuzers): JSON under ``text2img``/``img2img``/
  ``inpainting`` with the pipeline call's names (``prompt``, ``negative_prompt``, ``steps`` or
  ``num_inference_steps``, ``guidance_scale``, ``seed``, ``width``/``height`` or ``image_size``,
  ``scheduler`` as a diffusers class name).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..messages import msg
from .other_tools import _drop_notes
from .recall import RecallValues

_NEGATIVE = re.compile(r"\[([^\[\]]*)\]")
DREAM_SWITCHES = {"s": "steps", "S": "seed", "W": "width", "H": "height", "C": "cfg", "A": "sampler",
                  "f": "strength", "I": "init_img", "M": "init_mask"}
# diffusers scheduler classes → ComfyUI names, for the ones that have one
DIFFUSERS_SCHEDULERS = {
    "EulerDiscreteScheduler": "euler", "EulerAncestralDiscreteScheduler": "euler_ancestral",
    "FlowMatchEulerDiscreteScheduler": "euler", "DPMSolverMultistepScheduler": "dpmpp_2m",
    "LMSDiscreteScheduler": "lms", "HeunDiscreteScheduler": "heun", "DDIMScheduler": "ddim",
    "PNDMScheduler": "plms", "UniPCMultistepScheduler": "uni_pc", "KDPM2DiscreteScheduler": "dpm_2",
    "KDPM2AncestralDiscreteScheduler": "dpm_2_ancestral", "LCMScheduler": "lcm",
}


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _split_invoke_prompt(text: str) -> tuple[str, str]:
    """InvokeAI's ``positive [negative]``: (positive, negative) with the brackets taken out."""
    negative = ", ".join(part.strip(" ,") for part in _NEGATIVE.findall(text) if part.strip(" ,"))
    positive = " ".join(_NEGATIVE.sub(" ", text).split()).strip(" ,")
    return positive, negative


def _edit(found: RecallValues, kind: Any, strength: Any) -> None:
    if isinstance(kind, str) and kind.lower() in ("img2img", "inpaint", "inpainting", "outpaint"):
        found.edit_mode = "inpaint" if kind.lower().startswith(("inpaint", "outpaint")) else "img2img"
        found.strength = strength if isinstance(strength, (int, float)) and not isinstance(strength, bool) else None


def parse_sd_metadata(text: str) -> RecallValues | None:
    data = _json_object(text)
    image = data.get("image") if data else None
    if not isinstance(image, dict):
        return None
    prompt = image.get("prompt")
    if isinstance(prompt, list):  # [{"prompt": "…", "weight": 1.0}, …]: weighted parts, joined
        parts = [str(p["prompt"]) for p in prompt if isinstance(p, dict) and isinstance(p.get("prompt"), str)]
        prompt = " ".join(parts) if parts else None
    if not isinstance(prompt, str):
        return None
    positive, negative = _split_invoke_prompt(prompt)
    found = RecallValues("invokeai-legacy", prompt=positive, seed=image.get("seed"), steps=image.get("steps"),
                         width=image.get("width"), height=image.get("height"),
                         sampler=image.get("sampler") if isinstance(image.get("sampler"), str) else None)
    _edit(found, image.get("type"), image.get("strength"))
    return _drop_notes(found, negative, image.get("cfg_scale"))


def parse_dream(text: str) -> RecallValues | None:
    """``"prompt" -s 50 -S 42 …``: the prompt runs to the last quote (it may hold quotes itself);
    each switch is ``-X value`` (also ``-Xvalue``)."""
    text = text.strip()
    close = text.rfind('"')
    if not text.startswith('"') or close <= 0:
        return None
    prompt, rest = text[1:close], text[close + 1:]
    values: dict[str, str] = {}
    tokens = rest.split()
    for i, token in enumerate(tokens):
        if not token.startswith("-") or len(token) < 2:
            continue
        key, attached = token[1], token[2:]
        value = attached or (tokens[i + 1] if i + 1 < len(tokens) and not tokens[i + 1].startswith("-") else "")
        if key in DREAM_SWITCHES and DREAM_SWITCHES[key] not in values and value:
            values[DREAM_SWITCHES[key]] = value
    positive, negative = _split_invoke_prompt(prompt)
    found = RecallValues("invokeai-dream", prompt=positive, seed=values.get("seed"), steps=values.get("steps"),
                         width=values.get("width"), height=values.get("height"), sampler=values.get("sampler"))
    if "init_img" in values:
        found.edit_mode = "inpaint" if "init_mask" in values else "img2img"
        found.strength = values.get("strength")
    cfg: Any = values.get("cfg")
    try:
        cfg = float(cfg) if cfg is not None else None
    except ValueError:
        cfg = None
    return _drop_notes(found, negative, cfg)


def is_ruined_fooocus(text: str) -> bool:
    data = _json_object(text)
    return bool(data) and data.get("software") == "RuinedFooocus"  # type: ignore[union-attr]


def _ruined_loras(value: Any) -> list[tuple[str, Any, str | None]]:
    out: list[tuple[str, Any, str | None]] = []
    if isinstance(value, list):  # [["BFA3BB4FBE", "1.0 - name.safetensors"], …]
        for entry in value:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str):
                weight, sep, name = entry[1].partition(" - ")
                if sep and name.strip():
                    sha = entry[0] if isinstance(entry[0], str) else None
                    out.append((name.strip().replace("\\\\", "\\"), weight.strip(), sha))
    elif isinstance(value, str):  # "Loras:<name:0.8>,<other:1>"
        for name, weight in re.findall(r"<([^<>:]+):([^<>:]+)>", value):
            out.append((name.strip(), weight.strip(), None))
    return out


def parse_ruined_fooocus(text: str) -> RecallValues | None:
    data = _json_object(text)
    if not data or data.get("software") != "RuinedFooocus":
        return None
    prompt = data.get("Prompt", data.get("prompt"))
    if not isinstance(prompt, str):
        return None
    found = RecallValues("ruinedfooocus", prompt=prompt, seed=data.get("seed"), steps=data.get("steps"),
                         width=data.get("width"), height=data.get("height"),
                         sampler=data.get("sampler_name") if isinstance(data.get("sampler_name"), str) else None,
                         scheduler=data.get("scheduler") if isinstance(data.get("scheduler"), str) else None)
    found.loras = _ruined_loras(data.get("loras"))
    found.model = data.get("base_model_name") if isinstance(data.get("base_model_name"), str) else None
    denoise = data.get("denoise")
    if isinstance(denoise, (int, float)) and not isinstance(denoise, bool) and denoise < 1:
        found.notes.append(msg("comfy_graph.denoise_was_used_image", "Denoise {denoise} was not used: the image is "
                               "re-made from noise.", denoise=denoise))
    return _drop_notes(found, data.get("Negative"), data.get("cfg"))


DIFFUSERS_KEYS = ("text2img", "img2img", "inpainting")


def parse_diffusers_json(text: str, key: str = "text2img") -> RecallValues | None:
    data = _json_object(text)
    if not data or not isinstance(data.get("prompt"), str):
        return None
    steps = data.get("num_inference_steps", data.get("steps"))
    width, height = data.get("width"), data.get("height")
    size = data.get("image_size")
    if width is None and height is None:
        if isinstance(size, list) and len(size) == 2:  # diffuzers: [height, width], as it calls the pipeline
            height, width = size
        elif isinstance(size, (int, str)):
            width = height = size
    scheduler = data.get("scheduler")
    sampler = DIFFUSERS_SCHEDULERS.get(scheduler, scheduler) if isinstance(scheduler, str) else None
    found = RecallValues("diffusers", prompt=data["prompt"], seed=data.get("seed"), steps=steps, width=width,
                         height=height, sampler=sampler,
                         # Z-Image's own pipeline schedule is what we call "diffusers"
                         scheduler="diffusers" if scheduler == "FlowMatchEulerDiscreteScheduler" else None)
    if key != "text2img":
        _edit(found, "inpaint" if key == "inpainting" else "img2img", data.get("strength"))
    # diffusers' guidance_scale: at or below 1 every pipeline samples without guidance (ZImagePipeline guides
    # only above 0, SD's only above 1; 0 is Turbo's default), i.e. CFG 1 as ComfyUI counts it
    scale = data.get("guidance_scale")
    if isinstance(scale, (int, float)) and not isinstance(scale, bool) and 0 <= scale <= 1:
        scale = 1.0
    return _drop_notes(found, data.get("negative_prompt"), scale)
