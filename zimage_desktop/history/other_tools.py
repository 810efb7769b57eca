"""Readers for the JSON other generators write into a PNG (issue 25): SwarmUI (``parameters`` as
``{"sui_image_params": …}``), InvokeAI (``invokeai_metadata``), NovelAI (``Comment``, with
``Software`` "NovelAI"). Each returns the values it found; ``recall.to_request`` checks them and
notes what cannot be used here. The negative prompt and CFG scale are kept (Z-Image base uses
them; Turbo says at run time that it does not)."""

from __future__ import annotations

import json
from typing import Any

from ..messages import msg
from .recall import RecallValues


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _drop_notes(found: RecallValues, negative: Any, cfg: Any) -> RecallValues:
    """Keeps the tool's negative prompt and CFG scale on ``found`` (recall checks them; a model
    that does not use them says so when it runs). The name is older than that."""
    if isinstance(negative, str) and negative.strip():
        found.negative_prompt = negative
    if isinstance(cfg, (int, float, str)) and not isinstance(cfg, bool):
        found.cfg = cfg
    return found


def parse_swarm(text: str) -> RecallValues | None:
    """SwarmUI: ``{"sui_image_params": {"prompt", "negativeprompt", "seed", "steps", "cfgscale",
    "width", "height", "sampler", "scheduler", …}, "sui_extra_data": …}``."""
    data = _json_object(text)
    params = data.get("sui_image_params") if data else None
    if not isinstance(params, dict) or not isinstance(params.get("prompt"), str):
        return None
    found = RecallValues("swarmui", prompt=params["prompt"], seed=params.get("seed"), steps=params.get("steps"),
                         width=params.get("width"), height=params.get("height"),
                         sampler=_text(params.get("sampler")), scheduler=_text(params.get("scheduler")),
                         model=_text(params.get("model")))
    return _drop_notes(found, params.get("negativeprompt"), params.get("cfgscale"))


def parse_invokeai(text: str) -> RecallValues | None:
    """InvokeAI 3 and later: ``invokeai_metadata`` with ``positive_prompt``, ``negative_prompt``,
    ``seed``, ``steps``, ``cfg_scale``, ``width``, ``height``, ``scheduler``."""
    data = _json_object(text)
    if not data or not isinstance(data.get("positive_prompt"), str):
        return None
    found = RecallValues("invokeai", prompt=data["positive_prompt"], seed=data.get("seed"), steps=data.get("steps"),
                         width=data.get("width"), height=data.get("height"),
                         scheduler=_text(data.get("scheduler")))
    model = data.get("model")
    if isinstance(model, dict):  # {"name": "Z-Image", "base": "z-image"}: the name says which one
        found.model = _text(model.get("name"))
    if data.get("generation_mode") not in (None, "txt2img", "sdxl_txt2img", "flux_txt2img"):
        found.notes.append(msg("other_tools.not_text_to_image", "The image was made by {mode}; it is re-made from noise.",
                               mode=data.get("generation_mode")))
    return _drop_notes(found, data.get("negative_prompt"), data.get("cfg_scale"))


def parse_novelai(text: str) -> RecallValues | None:
    """NovelAI: ``Comment`` holds JSON with ``prompt``, ``uc`` (negative), ``seed``, ``steps``,
    ``scale``, ``width``, ``height``, ``sampler`` (``k_euler`` …)."""
    data = _json_object(text)
    if not data or not isinstance(data.get("prompt"), str):
        return None
    sampler = _text(data.get("sampler"))
    found = RecallValues("novelai", prompt=data["prompt"], seed=data.get("seed"), steps=data.get("steps"),
                         width=data.get("width"), height=data.get("height"),
                         sampler=sampler.removeprefix("k_") if sampler else None)
    return _drop_notes(found, data.get("uc"), data.get("scale"))
