"""PNG metadata: A1111 ``parameters`` for other tools, our ``zimage`` JSON for exact recall, and
ComfyUI's ``prompt``/``workflow`` graphs so the image opens in ComfyUI (history.comfy_export).

Reading accepts ours first, then A1111's text or Fooocus's JSON (``parameters``), then ComfyUI's
graph (``prompt``, else ``workflow``). Our text chunks go in as iTXt (UTF-8) so Chinese prompts
survive every reader; ComfyUI's graphs as ASCII JSON in tEXt, as ComfyUI writes them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from PIL import Image, PngImagePlugin

from .. import __version__
from ..engine.request import GenerationRequest
from ..errors import BadInputError
from ..messages import joined, msg
from ..fsutil import atomic_open
from .a1111 import parse_a1111, parse_fooocus
from .comfy_export import api_prompt, workflow
from .comfy_graph import parse_comfy_prompt, parse_comfy_workflow
from .legacy_tools import (
    DIFFUSERS_KEYS, is_ruined_fooocus, parse_diffusers_json, parse_dream, parse_ruined_fooocus, parse_sd_metadata,
)
from .other_tools import parse_invokeai, parse_novelai, parse_swarm
from .png_text import read_png_text
from .recall import FIELDS, RecallValues, field_label, known_values, to_request

log = logging.getLogger(__name__)

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
    from ..engine.guidance import recorded

    cfg, negative = recorded(request, model)
    fields = [
        f"Steps: {request.steps}",
        f"Sampler: {SAMPLER_LABELS[request.sampler]}",
        f"Schedule type: {SCHEDULE_LABELS[request.scheduler]}",
        f"CFG scale: {cfg:g}",
        f"Seed: {request.seed}",
        f"Size: {request.width}x{request.height}",
    ]
    if request.is_edit:  # as A1111 writes its img2img/inpaint fields
        fields.append(f"Denoising strength: {request.strength:g}")
        if request.mode in ("inpaint", "outpaint"):
            fields.append(f"Mask blur: {request.mask_blur}")
        if request.mode == "inpaint" and request.only_masked:
            fields.append(f"Inpaint area: Only masked, Masked area padding: {request.only_masked_padding}")
        if request.mode == "upscale":
            fields.append(f"Upscale: {request.upscale:g}")
    if model.get("hash"):
        fields.append(f"Model hash: {model['hash']}")
    if model.get("name"):
        fields.append(f"Model: {_a1111_value(str(model['name']))}")
    prompt = request.prompt
    if request.loras:
        # A1111 keeps each LoRA as a tag in the prompt and its AutoV2 hash in "Lora hashes".
        from ..engine.loras import format_tag, prompt_tags

        tagged = {ref.name for ref in prompt_tags(prompt)[1]}
        missing = [format_tag(ref) for ref in request.loras if ref.name not in tagged]
        prompt = " ".join([prompt, *missing]) if missing else prompt
        hashes = ", ".join(f"{ref.name}: {ref.sha256_10}" for ref in request.loras if ref.sha256_10)
        if hashes:
            fields.append(f"Lora hashes: {json.dumps(hashes, ensure_ascii=False)}")
    fields.extend(_a1111_controls(request, model))
    fields.append(f"Version: zimage-desktop {__version__}")
    negative_line = f"Negative prompt: {negative}\n" if negative.strip() else ""
    return f"{prompt}\n{negative_line}" + ", ".join(fields)


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
    # Another tool's image made from a source ("img2img" | "inpaint"): ``request`` carries its
    # strength as a text-to-image request, and the source image must be opened to edit again.
    edit_mode: str | None = None
    # Partial recall: each field the file gave (recall.FIELDS keys) and the request keyword values
    # for them, checked; kept also when no prompt was found, so seed, steps and size are not lost.
    known: frozenset[str] = frozenset()
    values: dict[str, Any] = field(default_factory=dict)


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
    partial: RecalledParameters | None = None
    for key, reader in _READERS:
        raw = texts.get(key)
        if not isinstance(raw, str) or len(raw) > MAX_CHUNK_CHARS:
            continue
        try:
            found = reader(raw)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
            log.warning("reading the %s chunk failed: %r", key, exc)  # an odd file: a note, never a crash
            notes.append(msg("metadata.chunk_unreadable", "The {key} metadata could not be read.", key=key))
            continue
        if found is None:
            continue
        values, known = known_values(found, image_size)
        try:
            recalled = GenerationRequest(**values) if "prompt" in values else None
        except BadInputError as exc:  # every field was checked; kept as a safety net
            found.notes.append(str(exc))
            recalled = None
        if recalled is not None:
            if key == COMFY_PROMPT_KEY:
                notes.extend(_disagreement(texts, recalled, image_size))
            return RecalledParameters(found.source, recalled, {}, tuple(notes + found.notes), found.edit_mode,
                                      frozenset(known), values)
        notes.extend(found.notes)
        if partial is None and known - {"loras"}:
            partial = RecalledParameters(found.source, None, {}, (), found.edit_mode, frozenset(known), values)
    if partial is not None:
        notes.append(msg("metadata.partial_recall", "No prompt was found; the {fields} found were taken and your "
                         "prompt was kept.", fields=joined([field_label(f) for f in FIELDS if f in partial.known], ", ")))
        return replace(partial, notes=tuple(notes))
    notes.append(msg("metadata.image_carries_generation_parameters", "The image carries no generation parameters this app "
                     "can read."))
    return RecalledParameters("none", None, {}, tuple(notes))


def _disagreement(texts: dict[str, str], recalled: GenerationRequest, image_size) -> list[str]:
    """A save node that also wrote A1111 text (comfy-image-saver, SaveImageWithMetaData) is often
    wrong ("unknown" prompt, seed 0, 512²); the graph is what made the image, so it wins — said so
    when the two disagree."""
    raw = texts.get(A1111_KEY)
    if not isinstance(raw, str) or len(raw) > MAX_CHUNK_CHARS or raw.lstrip().startswith("{"):
        return []
    try:
        found = parse_a1111(raw)
        other = to_request(found, image_size) if found is not None else None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, BadInputError):
        return []
    if other is None:
        return []
    differs = [name for name, a, b in (("prompt", other.prompt, recalled.prompt), ("seed", other.seed, recalled.seed),
                                       ("steps", other.steps, recalled.steps),
                                       ("size", (other.width, other.height), (recalled.width, recalled.height)))
               if a != b]
    if not differs:
        return []
    return [msg("metadata.text_disagrees_with_graph", "The image's A1111 text disagrees with its ComfyUI workflow ({fields}); "
                "the workflow, which made the image, was used.", fields=", ".join(differs))]


def _parameters(text: str) -> RecallValues | None:
    if not text.lstrip().startswith("{"):
        return parse_a1111(text)
    if '"sui_image_params"' in text:
        return parse_swarm(text)
    return parse_ruined_fooocus(text) if is_ruined_fooocus(text) else parse_fooocus(text)


def _diffusers_reader(key: str) -> Callable[[str], RecallValues | None]:
    return lambda text: parse_diffusers_json(text, key)


_READERS: tuple[tuple[str, Callable[[str], RecallValues | None]], ...] = (
    (COMFY_PROMPT_KEY, parse_comfy_prompt), (A1111_KEY, _parameters), ("invokeai_metadata", parse_invokeai),
    ("sd-metadata", parse_sd_metadata), ("Dream", parse_dream), ("Comment", parse_novelai),
    *((key, _diffusers_reader(key)) for key in DIFFUSERS_KEYS), (COMFY_WORKFLOW_KEY, parse_comfy_workflow))
