"""Size picker nodes in ComfyUI graphs: the size is a preset's text, not two numbers.

rgthree's "SDXL Empty Latent Image" (``dimensions``: ``" 896 x 1152  (portrait)"``), ComfyUI_essentials'
``SDXLEmptyLatentSizePicker+`` (``resolution``: ``"1024x1024 (1.0)"``, with ``width_override``/
``height_override`` when above 0), Comfyroll's "CR SDXL Aspect Ratio" (``aspect_ratio``:
``"1:1 square 1024x1024"`` or ``custom`` for its ``width``/``height``, and ``swap_dimensions``),
Easy-Use's empty latent (``resolution``: ``"1024 x 1024"``). The latent comes out of the picker
itself, or its width and height outputs feed an EmptyLatentImage.
"""

from __future__ import annotations

import re
from typing import Any

SIZE_TEXT = re.compile(r"(\d{2,5})\s*[x×*]\s*(\d{2,5})")
PICKER_KEYS = ("dimensions", "resolution", "aspect_ratio", "size", "preset", "ratio", "dimension")
_ON = ("on", "true", "yes", "enable", "enabled")


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def picker_size(inputs: dict[str, Any]) -> tuple[int, int] | None:
    """(width, height) from a picker node's own inputs, or None when it names no size."""
    low: dict[str, Any] = {}
    for key, value in inputs.items():
        low.setdefault(str(key).lower(), value)
    for key in PICKER_KEYS:
        value = low.get(key)
        match = SIZE_TEXT.search(value) if isinstance(value, str) else None
        if match:
            width, height = int(match.group(1)), int(match.group(2))
            break
    else:
        return None
    width = _whole(low.get("width_override")) or width
    height = _whole(low.get("height_override")) or height
    swap = low.get("swap_dimensions", low.get("swap"))
    if swap is True or (isinstance(swap, str) and swap.strip().lower() in _ON):
        width, height = height, width
    return width, height
