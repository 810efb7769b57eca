"""PNG metadata: A1111 ``parameters`` for other tools, plus our ``zimage`` JSON for exact recall.

Reading accepts ours first, then A1111's text (best effort: prompt, seed, size, steps). Text
chunks go in as iTXt (UTF-8) so Chinese prompts survive every reader.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from .. import __version__
from ..engine.request import GenerationRequest
from ..errors import BadInputError
from ..fsutil import atomic_open

ZIMAGE_KEY = "zimage"
A1111_KEY = "parameters"
METADATA_SCHEMA = 1
MAX_CHUNK_CHARS = 1_000_000


def a1111_parameters(request: GenerationRequest, model: dict[str, Any]) -> str:
    """The ``parameters`` text A1111, Forge, Civitai and image viewers understand."""
    fields = [
        f"Steps: {request.steps}",
        "Sampler: Euler",
        "Schedule type: Simple",
        "CFG scale: 1",
        f"Seed: {request.seed}",
        f"Size: {request.width}x{request.height}",
    ]
    if model.get("hash"):
        fields.append(f"Model hash: {model['hash']}")
    if model.get("name"):
        fields.append(f"Model: {_a1111_value(str(model['name']))}")
    fields.append(f"Version: zimage-desktop {__version__}")
    return f"{request.prompt}\n" + ", ".join(fields)


def _a1111_value(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if re.search(r'[,:"\n]', value) else value


def build_pnginfo(request: GenerationRequest, model: dict[str, Any], timings: dict[str, float] | None = None) -> PngImagePlugin.PngInfo:
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

    source: str  # "zimage" | "a1111" | "none"
    request: GenerationRequest | None
    model: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def read_png_metadata(path: Path) -> RecalledParameters:
    try:
        with Image.open(path) as img:
            # info holds the text chunks before the image data (where every writer puts them);
            # unlike .text it does not decode the pixels, so a hostile image costs nothing here.
            texts = {k: v for k, v in img.info.items() if isinstance(k, str) and isinstance(v, str)}
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise BadInputError(f"{Path(path).name} is not a readable PNG image ({exc}).") from None
    return parse_text_chunks(texts)


def parse_text_chunks(texts: dict[str, str]) -> RecalledParameters:
    notes: list[str] = []
    raw = texts.get(ZIMAGE_KEY)
    if isinstance(raw, str):
        if len(raw) > MAX_CHUNK_CHARS:
            notes.append("The zimage metadata is too large and was ignored.")
        else:
            try:
                payload = json.loads(raw)
                request = GenerationRequest.from_dict(payload["request"])
                model = payload.get("model") if isinstance(payload.get("model"), dict) else {}
                return RecalledParameters("zimage", request, model, tuple(notes))
            except (ValueError, KeyError, TypeError, RecursionError, BadInputError) as exc:
                notes.append(f"The zimage metadata is damaged ({exc}).")
    raw = texts.get(A1111_KEY)
    if isinstance(raw, str) and len(raw) <= MAX_CHUNK_CHARS:
        parsed = parse_a1111(raw)
        if parsed is not None:
            request, more = parsed
            return RecalledParameters("a1111", request, {}, tuple(notes + more))
    raw = texts.get("prompt")
    if isinstance(raw, str) and len(raw) <= MAX_CHUNK_CHARS:
        parsed = parse_comfyui_prompt(raw)
        if parsed is not None:
            request, more = parsed
            return RecalledParameters("comfyui", request, {}, tuple(notes + more))
    notes.append("The image carries no generation parameters this app can read.")
    return RecalledParameters("none", None, {}, tuple(notes))


_A1111_FIELD = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_a1111(text: str) -> tuple[GenerationRequest, list[str]] | None:
    """Prompt, seed, size and steps from A1111's text; notes say what was dropped."""
    lines = text.strip().split("\n")
    if not lines:
        return None
    last = lines[-1]
    params = dict((m.group(1).strip(), m.group(2).strip()) for m in _A1111_FIELD.finditer(last)) if "Steps:" in last else {}
    prompt_lines = lines[:-1] if params else lines
    negative = [i for i, line in enumerate(prompt_lines) if line.startswith("Negative prompt:")]
    notes: list[str] = []
    if negative:
        prompt_lines = prompt_lines[: negative[0]]
        notes.append("The negative prompt was dropped: Z-Image-Turbo does not use one.")
    prompt = "\n".join(prompt_lines).strip()
    if not prompt:
        return None
    values: dict[str, Any] = {}
    try:
        if "Seed" in params:
            values["seed"] = int(params["Seed"])
        if "Steps" in params:
            values["steps"] = int(params["Steps"])
        if "Size" in params:
            w, h = (int(v) for v in params["Size"].lower().split("x"))
            values.update(width=w, height=h)
    except ValueError:
        notes.append("Some parameters could not be read and were left at their defaults.")
    try:
        request = GenerationRequest(prompt=prompt, **values)
    except BadInputError as exc:
        notes.append(f"{exc} The default was used.")
        request = GenerationRequest(prompt=prompt, seed=values.get("seed", 0))
    return request, notes


SAMPLERS = {"KSampler": "seed", "KSamplerAdvanced": "noise_seed", "SamplerCustom": "noise_seed",
            "RandomNoise": "noise_seed"}


def parse_comfyui_prompt(text: str) -> tuple[GenerationRequest, list[str]] | None:
    """Best effort from ComfyUI's API-format ``prompt`` chunk: positive text, seed, steps, size."""
    try:
        graph = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(graph, dict):
        return None
    nodes = {k: v for k, v in graph.items() if isinstance(v, dict) and isinstance(v.get("inputs"), dict)}

    def text_of(link) -> str | None:
        for _ in range(8):  # follow links through re-routing nodes
            if not (isinstance(link, list) and link and str(link[0]) in nodes):
                return None
            inputs = nodes[str(link[0])]["inputs"]
            value = inputs.get("text", inputs.get("text_g", inputs.get("conditioning")))
            if isinstance(value, str):
                return value
            link = value
        return None

    values: dict[str, Any] = {}
    notes: list[str] = []
    prompt = None
    for node in nodes.values():
        kind, inputs = node.get("class_type"), node["inputs"]
        if kind in SAMPLERS:
            seed = inputs.get(SAMPLERS[kind])
            if isinstance(seed, int) and not isinstance(seed, bool):
                values["seed"] = seed
            if isinstance(inputs.get("steps"), int):
                values["steps"] = inputs["steps"]
            prompt = prompt or text_of(inputs.get("positive"))
        if isinstance(kind, str) and kind.startswith("Empty") and "Latent" in kind:
            w, h = inputs.get("width"), inputs.get("height")
            if isinstance(w, int) and isinstance(h, int):
                values.update(width=w, height=h)
    if prompt is None:  # no sampler to follow: the first text encoder's text
        prompt = next((n["inputs"]["text"] for n in nodes.values()
                       if isinstance(n["inputs"].get("text"), str) and "TextEncode" in str(n.get("class_type"))), None)
    if not prompt or not prompt.strip():
        return None
    if "seed" not in values:
        notes.append("No seed was found in the ComfyUI workflow.")
    try:
        request = GenerationRequest(prompt=prompt.strip(), **values)
    except BadInputError as exc:
        notes.append(f"{exc} The default was used.")
        request = GenerationRequest(prompt=prompt.strip()[:4096], seed=values.get("seed", 0))
    return request, notes
