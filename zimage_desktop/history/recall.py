"""Values read from another tool's metadata, turned into a request with a note for each one that
could not be taken as it was (missing, out of range, not available here, or snapped)."""

from __future__ import annotations

from ..messages import msg

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ..errors import BadInputError
from .sampler_names import map_sampling

from ..engine.request import (
    DEFAULT_STEPS, MAX_LORAS, MAX_PROMPT_CHARS, MAX_SEED, MAX_SIDE, MAX_STEPS, MIN_SIDE, SIZE_MULTIPLE,
    GenerationRequest, LoraRef, snap_size,
)

DEFAULT_SIZE = 1024


@dataclass
class RecallValues:
    """What a reader found; None means "not found". Names are the reader's own spelling."""

    source: str
    prompt: str | None = None
    seed: Any = None
    steps: Any = None
    width: Any = None
    height: Any = None
    sampler: str | None = None
    scheduler: str | None = None
    strength: Any = None  # denoising strength of an image made from another image
    edit_mode: str | None = None  # "img2img" | "inpaint" when the tool says so
    model: str | None = None  # the checkpoint/model name the tool recorded
    notes: list[str] = field(default_factory=list)
    # (name, strength, AutoV2 hash or None) of each LoRA, as the other tool named it
    loras: list[tuple[str, Any, str | None]] = field(default_factory=list)
    negative_prompt: str | None = None
    cfg: Any = None  # the CFG scale as ComfyUI and A1111 count it (1: no guidance)


def as_int(value: Any) -> int | None:
    """A whole number from JSON or text ("123", 123, 123.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text and text[0] in "+-":  # ("" in "+-" is true: an empty text must not get here)
            sign, digits = text[0], text[1:]
        else:
            sign, digits = "", text
        if digits.isascii() and digits.isdigit() and len(digits) <= 40:
            return int(sign + digits)
    return None


def _loras(found: RecallValues) -> tuple[LoraRef, ...]:
    """The LoRAs another tool used, as request entries (checked one by one; a bad one is a note)."""
    refs: dict[str, LoraRef] = {}
    for name, strength, sha in found.loras:
        stem = PurePath(str(name).replace("\\", "/")).name
        stem = stem[: -len(".safetensors")] if stem.lower().endswith(".safetensors") else stem
        try:
            value = float(strength)
            # Civitai's AutoV2 is 10 hex digits of the sha256; A1111 writes 12: the first 10 are the same
            short = sha.strip().lower()[:10] if isinstance(sha, str) else ""
            ref = LoraRef(stem, value, short if len(short) == 10 and all(c in "0123456789abcdef" for c in short)
                          else None)
            GenerationRequest(prompt="x", loras=(ref,))
        except (TypeError, ValueError, BadInputError):
            found.notes.append(msg("recall.lora_skipped", "The LoRA {name} (strength {strength}) could not be "
                                   "taken over.", name=str(name)[:80], strength=strength))
            continue
        if len(refs) < MAX_LORAS:
            refs[stem] = ref
    return tuple(refs.values())


# The fields a user can take over one by one (partial recall): request keys of each.
FIELDS = {"prompt": ("prompt",), "seed": ("seed",), "steps": ("steps",), "size": ("width", "height"),
          "sampler": ("sampler", "scheduler"), "loras": ("loras",), "guidance": ("negative_prompt", "cfg")}


def field_label(name: str) -> str:
    """A field's name in a sentence, translated."""
    labels = {"prompt": msg("recall.field_prompt", "prompt"), "seed": msg("recall.field_seed", "seed"),
              "steps": msg("recall.field_steps", "steps"), "size": msg("recall.field_size", "size"),
              "sampler": msg("recall.field_sampler", "sampler"), "loras": msg("recall.field_loras", "LoRAs"),
              "guidance": msg("recall.field_guidance", "negative prompt and CFG")}
    return labels.get(name, name)


def to_request(found: RecallValues, image_size: tuple[int, int] | None = None) -> GenerationRequest | None:
    """The request these values describe, or None without a prompt; ``found.notes`` grows."""
    values, _ = known_values(found, image_size)
    if "prompt" not in values:
        return None
    return GenerationRequest(**values)


def known_values(found: RecallValues, image_size: tuple[int, int] | None = None) -> tuple[dict[str, Any], set[str]]:
    """The request's keyword arguments these values give, each checked (a bad or missing one is a
    note and our default), and which of ``FIELDS`` the file itself gave — also without a prompt,
    so that seed, steps and size are not lost with it (partial recall)."""
    notes = found.notes
    prompt = (found.prompt or "").strip()
    values: dict[str, Any] = {"loras": _loras(found)}
    known = {"loras"} if values["loras"] else set()
    if prompt:
        if len(prompt) > MAX_PROMPT_CHARS:
            notes.append(msg("recall.prompt_was_cut_characters", "The prompt was cut to {MAX_PROMPT_CHARS} of its "
                             "{length} characters.", MAX_PROMPT_CHARS=MAX_PROMPT_CHARS, length=len(prompt)))
            prompt = prompt[:MAX_PROMPT_CHARS]
        values["prompt"] = prompt
        known.add("prompt")

    seed = as_int(found.seed)
    if found.seed is None:
        notes.append(msg("recall.seed_was_found_seed", "No seed was found; seed 0 was used."))
    elif seed is None or not 0 <= seed <= MAX_SEED:
        notes.append(msg("recall.seed_seed_from_seed", "The seed {seed} is not a seed from 0 to {MAX_SEED}; seed 0 was used.",
                         seed=found.seed, MAX_SEED=MAX_SEED))
    else:
        values["seed"] = seed
        known.add("seed")

    steps = as_int(found.steps)
    if found.steps is None:
        notes.append(msg("recall.step_count_was_found", "No step count was found; {DEFAULT_STEPS} steps were used.",
                         DEFAULT_STEPS=DEFAULT_STEPS))
    elif steps is None or not 1 <= steps <= MAX_STEPS:
        notes.append(msg("recall.steps_are_possible_here", "{steps} steps are not possible here (1 to {MAX_STEPS}); "
                         "{DEFAULT_STEPS} were used.",
                         steps=found.steps, MAX_STEPS=MAX_STEPS, DEFAULT_STEPS=DEFAULT_STEPS))
    else:
        values["steps"] = steps
        known.add("steps")

    width, height = as_int(found.width), as_int(found.height)
    if width is not None and height is not None and width > 0 and height > 0:
        known.add("size")
    else:
        if image_size is not None:
            width, height = image_size
            notes.append(msg("recall.image_size_was_found", "No image size was found; the picture's own {width}×{height} "
                             "was used.", width=width, height=height))
        else:
            width = height = DEFAULT_SIZE
            notes.append(msg("recall.image_size_was_found_2", "No image size was found; {DEFAULT_SIZE}×{DEFAULT_SIZE} was "
                             "used.", DEFAULT_SIZE=DEFAULT_SIZE))
    snapped = snap_size(width), snap_size(height)
    if snapped != (width, height):
        notes.append(msg("recall.size_was_snapped_sides", "The size {width}×{height} was snapped to {snapped}×{snapped2}: "
                         "sides must be multiples of {SIZE_MULTIPLE} from {MIN_SIDE} to {MAX_SIDE}.",
                         width=width, height=height, snapped=snapped[0], snapped2=snapped[1],
                         SIZE_MULTIPLE=SIZE_MULTIPLE, MIN_SIDE=MIN_SIDE, MAX_SIDE=MAX_SIDE))
    values["width"], values["height"] = snapped

    sampler, scheduler, note = map_sampling(found.sampler, found.scheduler)
    if sampler is not None:
        values["sampler"] = sampler
    if scheduler is not None:
        values["scheduler"] = scheduler
    if found.sampler or found.scheduler:
        known.add("sampler")
    if note:
        notes.append(note)
    _recall_guidance(found, values, known)
    _recall_edit(found, values)
    _model_note(found)
    return values, known


def _recall_guidance(found: RecallValues, values: dict[str, Any], known: set[str]) -> None:
    """The negative prompt and CFG scale, each checked (a bad one is a note and left out)."""
    from ..engine.guidance import MAX_CFG, MAX_NEGATIVE_CHARS, MIN_CFG

    negative = found.negative_prompt.strip() if isinstance(found.negative_prompt, str) else ""
    if negative:
        if len(negative) > MAX_NEGATIVE_CHARS:
            found.notes.append(msg("recall.negative_cut", "The negative prompt was cut to {limit} of its {length} "
                                   "characters.", limit=MAX_NEGATIVE_CHARS, length=len(negative)))
            negative = negative[:MAX_NEGATIVE_CHARS]
        values["negative_prompt"] = negative
        known.add("guidance")
    if found.cfg is None:
        return
    try:
        cfg = float(found.cfg) if not isinstance(found.cfg, bool) else None
    except (TypeError, ValueError):
        cfg = None
    if cfg is None or not MIN_CFG <= cfg <= MAX_CFG:  # (NaN fails both)
        found.notes.append(msg("recall.cfg_unusable", "The CFG scale {cfg} is not a number from 1 to {limit}; the "
                               "model's own was used.", cfg=str(found.cfg)[:40], limit=MAX_CFG))
        return
    values["cfg"] = cfg
    if cfg != 1.0:  # CFG 1 without a negative is no guidance: nothing to take over on its own
        known.add("guidance")


def _model_note(found: RecallValues) -> None:
    """Z-Image (the base model, Tongyi-MAI/Z-Image) is named as such. A recalled request names no
    model file (a name from a file is never a path to open), so it is re-made with the models
    folder's transformer — Turbo's where both are there (``model_files.resolve_model_set``), unless
    the user names a file (the window's Model list, ``generate --transformer``). Its
    steps, CFG scale and negative prompt are kept, and the base model re-makes it as it was; Turbo
    ignores the CFG scale and the negative prompt (``Architecture.uses_cfg``), so its picture differs."""
    name = (found.model or "").lower().replace("-", "_").replace(" ", "_")
    if ("z_image" in name or "zimage" in name) and "turbo" not in name:
        found.notes.append(msg("recall.base_model_remade", "The image was made with Z-Image, the base model ({model}). "
                               "It is re-made with Z-Image-Turbo when your models folder holds it, unless you choose "
                               "another transformer file; Z-Image-Turbo ignores the CFG scale and negative prompt, so "
                               "its picture will look different.", model=str(found.model)[:80]))


def _recall_edit(found: RecallValues, values: dict[str, Any]) -> None:
    """An image-to-image or inpaint from another tool: its strength, and a note that its source
    image is needed (a path in metadata is never opened)."""
    if found.strength is None and found.edit_mode is None:
        return
    try:
        strength = float(found.strength) if found.strength is not None else 1.0
    except (TypeError, ValueError):
        strength = 1.0
    if 0 < strength <= 1:
        values["strength"] = strength
    found.edit_mode = found.edit_mode or "img2img"
    found.notes.append(msg("recall.source_image_needed", "It was made from a source image ({mode}, strength "
                           "{strength:g}); open that image to edit it again.", mode=found.edit_mode,
                           strength=values.get("strength", 1.0)))
