"""Values read from another tool's metadata, turned into a request with a note for each one that
could not be taken as it was (missing, out of range, not available here, or snapped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.request import (
    DEFAULT_STEPS, MAX_PROMPT_CHARS, MAX_SEED, MAX_SIDE, MAX_STEPS, MIN_SIDE, SAMPLERS, SCHEDULERS, SIZE_MULTIPLE,
    GenerationRequest, snap_size,
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
    notes: list[str] = field(default_factory=list)


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
        if text[:1] in "+-":
            sign, digits = text[0], text[1:]
        else:
            sign, digits = "", text
        if digits.isascii() and digits.isdigit() and len(digits) <= 40:
            return int(sign + digits)
    return None


def _name(value: str | None) -> str:
    return (value or "").strip().lower().replace(" ", "_").replace("-", "_")


def to_request(found: RecallValues, image_size: tuple[int, int] | None = None) -> GenerationRequest | None:
    """The request these values describe, or None without a prompt; ``found.notes`` grows."""
    notes = found.notes
    prompt = (found.prompt or "").strip()
    if not prompt:
        return None
    if len(prompt) > MAX_PROMPT_CHARS:
        notes.append(f"The prompt was cut to {MAX_PROMPT_CHARS} of its {len(prompt)} characters.")
        prompt = prompt[:MAX_PROMPT_CHARS]
    values: dict[str, Any] = {}

    seed = as_int(found.seed)
    if found.seed is None:
        notes.append("No seed was found; seed 0 was used.")
    elif seed is None or not 0 <= seed <= MAX_SEED:
        notes.append(f"The seed {found.seed} is not a seed from 0 to {MAX_SEED}; seed 0 was used.")
    else:
        values["seed"] = seed

    steps = as_int(found.steps)
    if found.steps is None:
        notes.append(f"No step count was found; {DEFAULT_STEPS} steps were used.")
    elif steps is None or not 1 <= steps <= MAX_STEPS:
        notes.append(f"{found.steps} steps are not possible here (1 to {MAX_STEPS}); {DEFAULT_STEPS} were used.")
    else:
        values["steps"] = steps

    width, height = as_int(found.width), as_int(found.height)
    if width is None or height is None or width <= 0 or height <= 0:
        if image_size is not None:
            width, height = image_size
            notes.append(f"No image size was found; the picture's own {width}×{height} was used.")
        else:
            width = height = DEFAULT_SIZE
            notes.append(f"No image size was found; {DEFAULT_SIZE}×{DEFAULT_SIZE} was used.")
    snapped = snap_size(width), snap_size(height)
    if snapped != (width, height):
        notes.append(f"The size {width}×{height} was snapped to {snapped[0]}×{snapped[1]}: sides must be multiples "
                     f"of {SIZE_MULTIPLE} from {MIN_SIDE} to {MAX_SIDE}.")
    values["width"], values["height"] = snapped

    sampler = _name(found.sampler)
    if sampler in SAMPLERS:
        values["sampler"] = sampler
    elif found.sampler:
        notes.append(f"The sampler {found.sampler} is not available here; euler was used.")
    scheduler = _name(found.scheduler)
    if scheduler in SCHEDULERS:
        values["scheduler"] = scheduler
    elif found.scheduler:
        notes.append(f"The schedule {found.scheduler} is not available here; simple was used.")
    return GenerationRequest(prompt=prompt, **values)
