"""Image size presets: Z-Image's official 1024-tier sizes, the same shapes at 1280 and 1536, and
draft sizes for slow machines — grouped by shape (square, landscape, portrait) for the size list,
the common 1024 tier first in each group."""

from __future__ import annotations

from dataclasses import dataclass

from .request import snap_size

# (width, height, aspect label) of the official 1024-tier presets, landscape; portrait is the swap.
BASE_1024 = ((1024, 1024, "1:1"), (1152, 896, "9:7"), (1152, 864, "4:3"), (1248, 832, "3:2"),
             (1280, 720, "16:9"), (1344, 576, "21:9"))
TIERS = (1024, 1280, 1536)
# Quick looks on a slow machine (CPU, a streamed transformer): a quarter or about half the pixels of
# 1024², still multiples of 16. Z-Image was trained at 1024 and above, so these are for trying
# prompts and seeds, then the chosen seed is made again at a full size.
DRAFTS = ((512, 512, "1:1"), (768, 768, "1:1"), (768, 512, "3:2"), (512, 768, "2:3"), (768, 432, "16:9"),
          (432, 768, "9:16"))
# The groups of the size list, in the order shown.
SHAPES = ("draft", "square", "landscape", "portrait")
# What each aspect is commonly used for: the size list says it beside the numbers.
USES = {"1:1": "square", "9:7": "", "7:9": "", "4:3": "photo", "3:4": "photo", "3:2": "photo",
        "2:3": "photo", "16:9": "screen", "9:16": "phone", "21:9": "cinema", "9:21": "banner"}


@dataclass(frozen=True)
class SizePreset:
    width: int
    height: int
    aspect: str
    tier: int  # 1024, 1280, 1536; 0 for a draft size

    @property
    def label(self) -> str:
        return f"{self.width}×{self.height}  {self.aspect}"

    @property
    def shape(self) -> str:
        if self.tier == 0:
            return "draft"
        return "square" if self.width == self.height else "landscape" if self.width > self.height else "portrait"

    @property
    def use(self) -> str:
        """"photo", "screen", … (a key the UI translates), or "" when the aspect has no common use."""
        return USES.get(self.aspect, "")


def presets() -> list[SizePreset]:
    """Every full-size preset, tier by tier (1024 first)."""
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


def drafts() -> list[SizePreset]:
    return [SizePreset(w, h, aspect, 0) for w, h, aspect in DRAFTS]


def grouped(with_drafts: bool = False) -> list[tuple[str, list[SizePreset]]]:
    """The size list: (shape, presets) in SHAPES order, each group's 1024 tier first (the sizes most
    people use), then the larger, slower tiers; the draft group only when ``with_drafts``."""
    everything = (drafts() if with_drafts else []) + presets()
    return [(shape, [p for p in everything if p.shape == shape]) for shape in SHAPES
            if any(p.shape == shape for p in everything)]


def drafts_useful(device: str, offload: str) -> bool:
    """Whether a plan is slow enough that draft sizes belong in the list: it computes on the CPU, or
    streams the transformer through a small GPU group by group (the 4 GB profile)."""
    return device == "cpu" or offload == "group"
