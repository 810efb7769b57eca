"""Glyph control: the poster's own texts drawn with a real font at the layout's boxes, as an edge
map the ControlNet Union follows, so the model draws those exact glyphs (rare characters too).

Qt-free: Pillow renders (FreeType), OpenCV makes the edges. Each layout of poster/compose.py has
a box per role (fractions of the picture); a text takes the largest size that fits its box (body
lines share the body box), centred — left-aligned in the editorial layout. A character the font
cannot draw is named, never drawn as a box. Fonts are files: the window lists the system's CJK
families with Qt's font database and maps them to files with ``font_files``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import BadInputError
from ..messages import msg
from .compose import PosterSpec

Box = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the picture
_TOP = {"headline": (0.08, 0.05, 0.92, 0.19), "subtitle": (0.14, 0.20, 0.86, 0.26),
        "body": (0.18, 0.62, 0.82, 0.78), "cta": (0.30, 0.82, 0.70, 0.88), "small_print": (0.10, 0.92, 0.90, 0.96)}
BOXES: dict[str, dict[str, Box]] = {
    "headline_top": _TOP,
    "headline_centre": {"headline": (0.08, 0.38, 0.92, 0.52), "subtitle": (0.14, 0.53, 0.86, 0.59),
                        "body": (0.18, 0.61, 0.82, 0.73), "cta": (0.30, 0.80, 0.70, 0.86),
                        "small_print": (0.10, 0.92, 0.90, 0.96)},
    "headline_bottom": {"headline": (0.08, 0.62, 0.92, 0.75), "subtitle": (0.14, 0.76, 0.86, 0.82),
                        "body": (0.18, 0.83, 0.82, 0.90), "cta": (0.66, 0.91, 0.94, 0.95),
                        "small_print": (0.10, 0.96, 0.90, 0.99)},
    "left_editorial": {"headline": (0.06, 0.06, 0.60, 0.20), "subtitle": (0.06, 0.21, 0.60, 0.27),
                       "body": (0.06, 0.30, 0.50, 0.55), "cta": (0.06, 0.82, 0.40, 0.88),
                       "small_print": (0.06, 0.93, 0.60, 0.97)},
    "centred_symmetric": _TOP,
    "split_image_text": {"headline": (0.54, 0.10, 0.94, 0.24), "subtitle": (0.54, 0.25, 0.94, 0.31),
                         "body": (0.54, 0.40, 0.94, 0.62), "cta": (0.58, 0.78, 0.90, 0.84),
                         "small_print": (0.54, 0.93, 0.96, 0.97)},
}
LEFT_ALIGNED = {"left_editorial"}
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
EDGE_MARGIN = 2
REGULAR_STYLES = ("Regular", "Book", "Medium")
# Families that draw Simplified Chinese, in the order we prefer them when the user names none.
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "Noto Sans SC",
                "WenQuanYi Zen Hei", "SimHei", "Hiragino Sans GB", "Noto Serif CJK SC")


@dataclass(frozen=True)
class GlyphRender:
    control: Image.Image  # RGB edge map: what the ControlNet sees
    filled: Image.Image  # L: the texts as drawn (white on black), for previews and tests
    boxes: dict[str, tuple[int, int, int, int]]  # role (body lines: body.0, body.1 …) → pixel box used


def load_font(path: str | Path, size: int = 64, index: int = 0) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size, index=index)
    except OSError as exc:
        raise BadInputError(msg("glyphs.font_unreadable", "The font {path} could not be read ({exc}).",
                                path=path, exc=exc)) from None


def missing_characters(font: ImageFont.FreeTypeFont, text: str) -> list[str]:
    """Characters of ``text`` this font has no glyph for (it would draw its "missing" box)."""
    notdef = font.getmask("\U0010fffd")
    notdef_key = (notdef.size, bytes(notdef))
    missing: list[str] = []
    for ch in dict.fromkeys(text):
        if ch.isspace():
            continue
        mask = font.getmask(ch)
        if mask.getbbox() is None or (mask.size, bytes(mask)) == notdef_key:
            missing.append(ch)
    return missing


def check_font(font: ImageFont.FreeTypeFont, spec: PosterSpec, name: str) -> None:
    missing = missing_characters(font, "".join(text for _, text in spec.texts()))
    if missing:
        raise BadInputError(msg("glyphs.missing_glyphs", "The font {font} cannot draw {chars}; choose a font that has "
                                "them (a CJK font such as Noto Sans CJK, Microsoft YaHei or PingFang for Chinese).",
                                font=name, chars=" ".join(missing)))


def _lines(spec: PosterSpec) -> list[tuple[str, str, str]]:
    """(key, role, text) in drawing order; body lines keep their own keys."""
    out: list[tuple[str, str, str]] = []
    body_index = 0
    for role, text in spec.texts():
        key = role
        if role == "body":
            key, body_index = f"body.{body_index}", body_index + 1
        out.append((key, role, text))
    return out


def _fit(font: ImageFont.FreeTypeFont, text: str, width: int, height: int) -> ImageFont.FreeTypeFont:
    """The largest size of ``font`` at which ``text`` fits in width × height."""
    low, high = 4, max(8, height * 2)
    best = font.font_variant(size=low)
    while low <= high:
        size = (low + high) // 2
        candidate = font.font_variant(size=size)
        left, top, right, bottom = candidate.getbbox(text)
        if right - left <= width and bottom - top <= height:
            best, low = candidate, size + 1
        else:
            high = size - 1
    return best


def layout_boxes(layout: str) -> dict[str, Box]:
    """The boxes of a layout (fractions of the picture), one per role."""
    return dict(BOXES.get(layout, BOXES["headline_top"]))


# The request's ``extra`` key for the boxes a user moved (role → [left, top, right, bottom]), so
# "Use parameters" puts them back; the glyph image alone would not let them be moved again.
MOVED_BOXES_KEY = "glyph_boxes"


def moved_boxes_to_extra(moved: dict[str, Box]) -> dict[str, list[float]]:
    return {role: [float(v) for v in box] for role, box in sorted(moved.items())}


def moved_boxes_from_extra(value: object, layout: str) -> dict[str, Box]:
    """The moved boxes saved in a request, for ``layout``'s roles; what a damaged or foreign
    file holds there (not four fractions, an empty or inside-out box) is left out, so such a box
    stays at the layout's place."""
    if not isinstance(value, dict):
        return {}
    roles = layout_boxes(layout)
    boxes: dict[str, Box] = {}
    for role, box in value.items():
        if role not in roles or not isinstance(box, (list, tuple)) or len(box) != 4:
            continue
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in box):
            continue  # NaN fails the comparisons too
        left, top, right, bottom = (float(v) for v in box)
        if left < right and top < bottom:
            boxes[role] = (left, top, right, bottom)
    return boxes


def render_glyphs(spec: PosterSpec, width: int, height: int, font: ImageFont.FreeTypeFont,
                  font_name: str = "", moved: dict[str, Box] | None = None) -> GlyphRender:
    """The poster's texts at its layout's boxes — or where the user moved them (``moved``, role →
    box in fractions); BadInputError naming any character the font lacks."""
    import cv2

    check_font(font, spec, font_name or str(font.path))
    boxes = {**layout_boxes(spec.layout), **(moved or {})}
    filled = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(filled)
    placed: dict[str, tuple[int, int, int, int]] = {}
    lines = _lines(spec)
    body_count = sum(1 for _, role, _ in lines if role == "body")
    for key, role, text in lines:
        left, top, right, bottom = (round(f * s) for f, s in zip(boxes[role], (width, height, width, height)))
        if role == "body":  # the body box is shared by its lines, one band each
            index = int(key.split(".")[1])
            band = (bottom - top) / body_count
            top, bottom = round(top + index * band), round(top + (index + 1) * band)
        room = bottom - top if role != "body" else round((bottom - top) * 0.8)  # a gap between body lines
        # a margin of EDGE_MARGIN pixels keeps the strokes' edges inside the box too
        sized = _fit(font, text, right - left - 2 * EDGE_MARGIN, room - 2 * EDGE_MARGIN)
        x0, y0, x1, y1 = sized.getbbox(text)
        x = left + EDGE_MARGIN if spec.layout in LEFT_ALIGNED else left + ((right - left) - (x1 - x0)) // 2
        y = top + ((bottom - top) - (y1 - y0)) // 2
        draw.text((x - x0, y - y0), text, fill=255, font=sized)
        placed[key] = (left, top, right, bottom)
    edges = cv2.Canny(np.asarray(filled), 100, 200)
    return GlyphRender(Image.fromarray(edges).convert("RGB"), filled, placed)


def font_dirs() -> list[Path]:
    home = Path.home()
    if sys.platform == "win32":
        windir = Path(os.environ.get("WINDIR", "C:/Windows"))
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData/Local"))
        return [windir / "Fonts", local / "Microsoft/Windows/Fonts"]
    if sys.platform == "darwin":
        return [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library/Fonts"]
    return [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local/share/fonts", home / ".fonts"]


def font_files(family: str, folders: list[Path] | None = None) -> list[tuple[Path, int]]:
    """(file, face index) of the installed faces whose family name is ``family`` (case-insensitive):
    how the window turns a family from Qt's font database into a file Pillow can open."""
    wanted = family.strip().lower()
    found: list[tuple[Path, int]] = []
    for folder in folders or font_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES):
            for index in range(32):  # collections (.ttc) hold several faces
                try:
                    name = ImageFont.truetype(str(path), 12, index=index).getname()[0] or ""
                except OSError:
                    break
                if name.lower() == wanted:
                    found.append((path, index))
                    if ImageFont.truetype(str(path), 12, index=index).getname()[1] in REGULAR_STYLES:
                        found.insert(0, found.pop())  # the plain face first
                if path.suffix.lower() not in (".ttc", ".otc"):
                    break
    return found


def default_font() -> tuple[Path, int]:
    """The first installed CJK family of CJK_FAMILIES; one sentence when there is none."""
    for family in CJK_FAMILIES:
        found = font_files(family)
        if found:
            return found[0]
    raise BadInputError(msg("glyphs.no_cjk_font", "No Chinese font was found on this computer; pass a font file "
                            "(e.g. --glyphs C:/Windows/Fonts/msyh.ttc) or install Noto Sans CJK."))


def resolve_font(choice: str | None) -> tuple[Path, int]:
    """A font file path, a family name, or None for the default CJK font."""
    if not choice:
        return default_font()
    path = Path(choice).expanduser()
    if path.is_file():
        return path, 0
    found = font_files(choice)
    if not found:
        raise BadInputError(msg("glyphs.no_font", "No font file or installed font family is called {name}.",
                                name=choice))
    return found[0]
