"""The inputs a request names besides its prompt: its LoRAs (LoraRef) and control images
(ControlRef), with the checks of each (as sentences for the user)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from ..errors import BadInputError
from ..messages import msg

# LoRA strengths as A1111 and ComfyUI users set them; more than this many at once is a mistake.
LORA_STRENGTH_LIMIT = 2.0
MAX_LORAS = 16
# ControlNet Union inputs (engine/controlnet.py): how a control image is made from the user's file.
CONTROL_KINDS = ("canny", "grey", "depth", "scribble", "glyph")
MAX_CONTROL_STRENGTH = 2.0
MAX_CONTROLS = 1  # the Union file takes one control image per run (ComfyUI chains one patch per node)


def is_text(value: str) -> bool:
    """False for lone surrogates: undecodable command-line bytes arrive as those (surrogateescape)."""
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class LoraRef:
    """One LoRA of a request: its file name in ``loras/`` without the extension, its strength, and
    its AutoV2 hash (the first 10 hex digits of the file's sha256, as A1111 and Civitai write it)
    once known."""

    name: str
    strength: float = 1.0
    sha256_10: str | None = None

    @classmethod
    def from_value(cls, value: Any) -> "LoraRef":
        if isinstance(value, LoraRef):
            return value
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            strength = value.get("strength", 1.0)
            return cls(value["name"], float(strength) if is_number(strength) else strength, value.get("sha256_10"))
        raise BadInputError(msg("request.lora_entry_invalid", "A LoRA entry of the request is not a name with a "
                                "strength."))


@dataclass(frozen=True)
class ControlRef:
    """One control input: ``kind`` says how ``image`` (a path, preprocessed at run time) becomes the
    control image; ``image_sha256`` names the file's content once saved (history keeps it by hash).
    ``start``/``end`` are the fractions of the steps during which the control acts."""

    kind: str
    image: str | None = None
    image_sha256: str | None = None
    strength: float = 1.0
    start: float = 0.0
    end: float = 1.0

    @classmethod
    def from_dict(cls, data: Any) -> "ControlRef":
        if isinstance(data, ControlRef):
            return data
        if not isinstance(data, dict):
            raise BadInputError(msg("request.control_not_object", "A saved control input is not a JSON object."))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.kind not in CONTROL_KINDS:
            out.append(msg("request.control_kind_unknown", "The control kind {kind!r} is not known; choose one of "
                           "{names}.", kind=self.kind, names=", ".join(CONTROL_KINDS)))
        if self.image is not None and (not isinstance(self.image, str) or not self.image):
            out.append(msg("request.control_image_name", "The control image must be a file name."))
        if self.image is None and not self.image_sha256:
            out.append(msg("request.control_image_missing", "The {kind} control has no image.", kind=self.kind))
        if self.image_sha256 is not None and (
                not isinstance(self.image_sha256, str) or len(self.image_sha256) != 64
                or any(c not in "0123456789abcdef" for c in self.image_sha256)):
            out.append(msg("request.control_sha_invalid", "The control image's sha256 must be 64 hex digits."))
        numbers = (self.strength, self.start, self.end)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
            out.append(msg("request.control_numbers", "The control's strength, start and end must be numbers."))
            return out
        if not 0.0 <= self.strength <= MAX_CONTROL_STRENGTH:
            out.append(msg("request.control_strength_range", "The control strength {strength} is outside 0 to {limit}.",
                           strength=self.strength, limit=MAX_CONTROL_STRENGTH))
        if not 0.0 <= self.start < self.end <= 1.0:
            out.append(msg("request.control_range", "The control must start before it ends, both between 0 and 1 "
                           "(fractions of the steps); got {start} to {end}.", start=self.start, end=self.end))
        return out


def lora_problems(loras: object) -> list[str]:
    if not isinstance(loras, tuple) or not all(isinstance(ref, LoraRef) for ref in loras):
        return [msg("request.lora_entry_invalid", "A LoRA entry of the request is not a name with a strength.")]
    if len(loras) > MAX_LORAS:
        return [msg("request.too_many_loras", "{count} LoRAs were asked for; at most {limit} can be applied at once.",
                    count=len(loras), limit=MAX_LORAS)]
    for ref in loras:
        name = ref.name
        if (not isinstance(name, str) or not name.strip() or not is_text(name) or len(name) > 255
                or any(c in name for c in "/\\\0") or name in (".", "..")):
            return [msg("request.lora_name_invalid", "{name!r} is not a LoRA name: use the file name in loras/ without "
                        "its extension.", name=name)]
        if not is_number(ref.strength) or not math.isfinite(ref.strength) \
                or abs(ref.strength) > LORA_STRENGTH_LIMIT:
            return [msg("request.lora_strength_range", "The strength {strength!r} of LoRA {name} must be a number from "
                        "-{limit} to {limit}.", strength=ref.strength, name=name, limit=LORA_STRENGTH_LIMIT)]
        sha = ref.sha256_10
        if sha is not None and (not isinstance(sha, str) or len(sha) != 10
                                or any(c not in "0123456789abcdefABCDEF" for c in sha)):
            return [msg("request.lora_hash_invalid", "The hash of LoRA {name} must be 10 hexadecimal digits.",
                        name=name)]
    names = [ref.name for ref in loras]
    if len(set(names)) != len(names):
        return [msg("request.lora_twice", "A LoRA is listed twice; give each LoRA once with one strength.")]
    return []
