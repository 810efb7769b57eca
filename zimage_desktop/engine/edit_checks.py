"""Validation of the editing fields of a GenerationRequest (mode, source, mask, strength …).

Kept apart from request.py so that file stays short; ``request.validate`` calls ``validate_edit``.
Each problem is one sentence for the user.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..messages import msg

MODES = ("txt2img", "img2img", "inpaint", "outpaint", "upscale")
EDIT_MODES = MODES[1:]
MAX_MASK_BLUR = 64
MAX_PADDING = 512
MIN_UPSCALE, MAX_UPSCALE = 1.0, 4.0
# The part of an outpainted canvas that is the source must stay a real picture.
MIN_SOURCE_SIDE = 16
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_edit(req: Any) -> list[str]:
    """Problems with the editing fields of ``req`` (empty when fine)."""
    problems: list[str] = []
    if req.mode not in MODES:
        problems.append(msg("edit.mode_unknown", "The mode {mode!r} is not known; choose one of {names}.",
                            mode=req.mode, names=", ".join(MODES)))
        return problems
    for name in ("source", "mask"):
        value = getattr(req, name)
        if value is not None and (not isinstance(value, str) or not value):
            problems.append(msg("edit.file_name_text", "The {name} image must be a file name.", name=name))
    for name in ("source_sha256", "mask_sha256"):
        value = getattr(req, name)
        if value is not None and (not isinstance(value, str) or not _SHA256.fullmatch(value)):
            problems.append(msg("edit.sha256_invalid", "The {name} is not a SHA-256 content address.", name=name))
    if not _is_number(req.strength) or not 0 < req.strength <= 1:
        problems.append(msg("edit.strength_range", "The strength must be above 0 and at most 1, not {value!r}.",
                            value=req.strength))
    if not _is_int(req.mask_blur) or not 0 <= req.mask_blur <= MAX_MASK_BLUR:
        problems.append(msg("edit.mask_blur_range", "The mask feather must be a whole number of pixels from 0 to "
                            "{limit}.", limit=MAX_MASK_BLUR))
    if not isinstance(req.only_masked, bool):
        problems.append(msg("edit.only_masked_bool", "\"Only the masked area\" must be on or off."))
    if not _is_int(req.only_masked_padding) or not 0 <= req.only_masked_padding <= MAX_PADDING:
        problems.append(msg("edit.padding_range", "The padding around the mask must be a whole number of pixels "
                            "from 0 to {limit}.", limit=MAX_PADDING))
    if req.source_entry is not None and (not _is_int(req.source_entry) or req.source_entry < 1):
        problems.append(msg("edit.source_entry_id", "The source entry must be a history id."))
    if req.mode == "txt2img":
        return problems
    if req.source is None and req.source_sha256 is None:
        problems.append(msg("edit.source_required", "The {mode} mode needs a source image.", mode=req.mode))
    if req.mode == "inpaint" and req.mask is None and req.mask_sha256 is None:
        problems.append(msg("edit.mask_required", "Inpainting needs a mask: paint the area that may change."))
    if req.mode == "outpaint":
        problems.extend(_outpaint_problems(req))
    if req.mode == "upscale" and (not _is_number(req.upscale) or not MIN_UPSCALE <= req.upscale <= MAX_UPSCALE):
        problems.append(msg("edit.upscale_range", "The upscale factor must be between {low:g} and {high:g}, not "
                            "{value!r}.", low=MIN_UPSCALE, high=MAX_UPSCALE, value=req.upscale))
    model_name = getattr(req, "upscale_model", None)
    if model_name is not None and (not isinstance(model_name, str) or "/" in model_name or "\\" in model_name
                                   or model_name in (".", "..") or len(model_name) > 255):
        problems.append(msg("edit.upscale_model_name", "The upscale model must be a file name in upscale_models/, "
                            "not {value!r}.", value=model_name))
    return problems


def _outpaint_problems(req: Any) -> list[str]:
    sides = req.outpaint
    if (not isinstance(sides, (tuple, list)) or len(sides) != 4 or not all(_is_int(v) and v >= 0 for v in sides)
            or not any(sides)):
        return [msg("edit.outpaint_sides", "Outpainting needs four whole numbers of pixels (left, top, right, "
                    "bottom), none below 0 and at least one above 0.")]
    left, top, right, bottom = sides
    if (_is_int(req.width) and req.width - left - right < MIN_SOURCE_SIDE) or \
            (_is_int(req.height) and req.height - top - bottom < MIN_SOURCE_SIDE):
        return [msg("edit.outpaint_too_wide", "The added borders leave no room for the picture: the result is "
                    "{width}×{height} and the borders take {across}×{down} of it.", width=req.width,
                    height=req.height, across=left + right, down=top + bottom)]
    return []
