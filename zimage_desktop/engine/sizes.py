"""Image size presets: Z-Image's official 1024-tier sizes, and the same shapes at 1280 and 1536."""

from __future__ import annotations

from dataclasses import dataclass

from .request import snap_size

# (width, height, aspect label) of the official 1024-tier presets, landscape; portrait is the swap.
BASE_1024 = ((1024, 1024, "1:1"), (1152, 896, "9:7"), (1152, 864, "4:3"), (1248, 832, "3:2"),
             (1280, 720, "16:9"), (1344, 576, "21:9"))
TIERS = (1024, 1280, 1536)


@dataclass(frozen=True)
class SizePreset:
    width: int
    height: int
    aspect: str
    tier: int

    @property
    def label(self) -> str:
        return f"{self.aspect}  {self.width}×{self.height}"


def presets() -> list[SizePreset]:
    out: list[SizePreset] = []
    for tier in TIERS:
        scale = tier / 1024
        for w, h, aspect in BASE_1024:
            sw, sh = snap_size(round(w * scale)), snap_size(round(h * scale))
            out.append(SizePreset(sw, sh, aspect, tier))
            if w != h:
                a, b = aspect.split(":")
                out.append(SizePreset(sh, sw, f"{b}:{a}", tier))
    return out
