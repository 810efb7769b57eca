"""PNG metadata: A1111 ``parameters`` for other tools, our ``zimage`` JSON for exact recall, and
ComfyUI's ``prompt``/``workflow`` graphs so the image opens in ComfyUI (history.comfy_export).

Reading accepts ours first, then A1111's text or Fooocus's JSON (``parameters``), then ComfyUI's
graph (``prompt``, else ``workflow``). Our text chunks go in as iTXt (UTF-8) so Chinese prompts
survive every reader; ComfyUI's graphs as ASCII JSON in tEXt, as ComfyUI writes them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from .. import __version__
from ..engine.request import GenerationRequest
from ..errors import BadInputError
from ..messages import msg
from ..fsutil import atomic_open
from .a1111 import parse_a1111, parse_fooocus
from .comfy_export import api_prompt, workflow
from .comfy_graph import parse_comfy_prompt, parse_comfy_workflow
from .png_text import read_png_text
from .recall import RecallValues, to_request

ZIMAGE_KEY = "zimage"
A1111_KEY = "parameters"
COMFY_PROMPT_KEY = "prompt"
COMFY_WORKFLOW_KEY = "workflow"
METADATA_SCHEMA = 1
MAX_CHUNK_CHARS = 1_000_000
# How A1111-style readers name our samplers and schedules (read back by history.recall).
SAMPLER_LABELS = {"euler": "Euler", "res_multistep": "Res Multistep"}
SCHEDULE_LABELS = {"simple": "Simple", "diffusers": "Diffusers"}


def a1111_parameters(request: GenerationRequest, model: dict[str, Any]) -> str:
    """The ``parameters`` text A1111, Forge, Civitai and image viewers understand."""
    fields = [
        f"Steps: {request.steps}",
        f"Sampler: {SAMPLER_LABELS[request.sampler]}",
        f"Schedule type: {SCHEDULE_LABELS[request.scheduler]}",
        "CFG scale: 1",
        f"Seed: {request.seed}",
        f"Size: {request.width}x{request.height}",
    ]
    if model.get("hash"):
        fields.append(f"Model hash: {model['hash']}")
    if model.get("name"):
        fields.append(f"Model: {_a1111_value(str(model['name']))}")
    fields.extend(_a1111_controls(request, model))
    fields.append(f"Version: zimage-desktop {__version__}")
    return f"{request.prompt}\n" + ", ".join(fields)


def _a1111_controls(request: GenerationRequest, model: dict[str, Any]) -> list[str]:
    """A1111's ControlNet extension's fields: ``ControlNet 0: "Module: canny, Model: …, Weight: …"``."""
    known = model.get("controls")
    known = known if isinstance(known, list) else []
    out = []
    for i, control in enumerate(request.controls):
        info = known[i] if i < len(known) and isinstance(known[i], dict) else {}
        name = str(info.get("name") or "Z-Image-Turbo-Fun-Controlnet-Union")
        out.append(f"ControlNet {i}: " + json.dumps(
            f"Module: {control.kind}, Model: {name}, Weight: {control.strength:g}, "
            f"Guidance Start: {control.start:g}, Guidance End: {control.end:g}", ensure_ascii=False))
    return out


def _a1111_value(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if re.search(r'[,:"\n]', value) else value


def build_pnginfo(request: GenerationRequest, model: dict[str, Any],
                  timings: dict[str, float] | None = None) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_itxt(A1111_KEY, a1111_parameters(request, model))
    payload = {
        "schema": METADATA_SCHEMA,
        "app": f"zimage-desktop {__version__}",
        "request": request.to_dict(),
        "model": model,
        "timings": timings or {},
    }
    info.add_itxt(ZIMAGE_KEY, json.dumps(payload, ensure_ascii=False, sort_keys=True))
    # As ComfyUI's SaveImage writes them: tEXt, JSON in ASCII (ComfyUI's own PNG reader takes tEXt).
    info.add_text(COMFY_PROMPT_KEY, json.dumps(api_prompt(request, model)))
    info.add_text(COMFY_WORKFLOW_KEY, json.dumps(workflow(request, model)))
    return info


def write_png(path: Path, image: Image.Image, request: GenerationRequest, model: dict[str, Any],
              timings: dict[str, float] | None = None) -> Path:
    """Write atomically: the file appears under its name only when complete."""
    pnginfo = build_pnginfo(request, model, timings)
    with atomic_open(Path(path), "wb") as fh:
        image.save(fh, format="PNG", pnginfo=pnginfo)
    return Path(path)


@dataclass(frozen=True)
class RecalledParameters:
    """What could be read back from an image; ``request`` is None when no prompt was found."""

    source: str  # "zimage" | "a1111" | "fooocus" | "comfyui" | "comfyui-workflow" | "none"
    request: GenerationRequest | None
    model: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def read_png_metadata(path: Path) -> RecalledParameters:
    """Parameters from a PNG's text chunks, wherever they are in the file; pixels are not read."""
    found = read_png_text(Path(path), MAX_CHUNK_CHARS)
    width, height = found.size or (0, 0)
    if Image.MAX_IMAGE_PIXELS and width * height > 2 * Image.MAX_IMAGE_PIXELS:  # where Pillow refuses to open it
        raise BadInputError(msg("metadata.readable_png_image_pixels", "{name} is not a readable PNG image ({width}×{height} "
                                "pixels is too large).",
                                name=Path(path).name, width=width, height=height))
    notes = [msg("metadata.chunk_too_large", "The {key} metadata is too large and was ignored.", key=key)
             for key in found.oversized]
    recalled = parse_text_chunks(found.texts, found.size)
    return replace(recalled, notes=tuple(notes) + recalled.notes) if notes else recalled


def parse_text_chunks(texts: dict[str, str], image_size: tuple[int, int] | None = None) -> RecalledParameters:
    """Ours first (exact), then the readers of other tools' chunks, each note kept."""
    notes: list[str] = []
    raw = texts.get(ZIMAGE_KEY)
    if isinstance(raw, str):
        if len(raw) > MAX_CHUNK_CHARS:
            notes.append(msg("metadata.zimage_metadata_too_large", "The zimage metadata is too large and was ignored."))
        else:
            try:
                payload = json.loads(raw)
                request = GenerationRequest.from_dict(payload["request"])
                model = payload.get("model") if isinstance(payload.get("model"), dict) else {}
                return RecalledParameters("zimage", request, model, tuple(notes))
            except (ValueError, KeyError, TypeError, RecursionError, BadInputError) as exc:
                notes.append(msg("metadata.zimage_metadata_damaged", "The zimage metadata is damaged ({exc}).",
                                 exc=exc))
    for key, reader in _READERS:
        raw = texts.get(key)
        if not isinstance(raw, str) or len(raw) > MAX_CHUNK_CHARS:
            continue
        found = reader(raw)
        if found is None:
            continue
        try:
            recalled = to_request(found, image_size)
        except BadInputError as exc:  # every field was checked; kept as a safety net
            found.notes.append(str(exc))
            recalled = None
        if recalled is not None:
            return RecalledParameters(found.source, recalled, {}, tuple(notes + found.notes))
        notes.extend(found.notes)
    notes.append(msg("metadata.image_carries_generation_parameters", "The image carries no generation parameters this app "
                     "can read."))
    return RecalledParameters("none", None, {}, tuple(notes))


def _parameters(text: str) -> RecallValues | None:
    return parse_fooocus(text) if text.lstrip().startswith("{") else parse_a1111(text)


_READERS = ((A1111_KEY, _parameters), (COMFY_PROMPT_KEY, parse_comfy_prompt), (COMFY_WORKFLOW_KEY, parse_comfy_workflow))
