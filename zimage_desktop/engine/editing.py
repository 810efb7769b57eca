"""Qt-free pieces of editing: reading a source image and a mask, and the pure geometry of
"only the masked area", outpainting and compositing.

The window (mask editor, canvas handles) and the engine both call these, so the picture the user
sees framed is the one the engine works on. Every function here is deterministic: "re-run exactly"
depends on it.

- ``load_source_image``: PNG/JPEG/WebP (anything Pillow reads) → RGB, with EXIF orientation applied,
  alpha flattened onto white, CMYK/16-bit/palette converted, an animation's first frame; ``notes``
  say what was changed, one sentence each. More than ``MAX_SOURCE_PIXELS`` is refused.
- ``load_mask``: white = may change; resized (with a note) to the source's size; an empty mask is
  refused.
- ``feathered_mask``: the mask's edge softened over ``blur`` pixels, outwards; every pixel farther
  than ``blur`` from the mask is exactly 0, so ``composite`` leaves it exactly the source's.
- ``masked_crop_box`` / ``working_size``: the crop around the mask (plus padding, grown to the
  working aspect) and the model-sized canvas it is worked at.
- ``outpaint_geometry`` / ``outpaint_canvas``: the extended canvas, the new area filled from the
  edges and blurred, and the mask of the new area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from ..errors import BadInputError
from ..messages import Message, msg
from .request import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE, GenerationRequest, snap_size

# 64 MP: a 8192² scan opens; a decompression bomb does not (and Pillow's own limit is higher).
MAX_SOURCE_PIXELS = 8192 * 8192
# The area "only the masked area" and upscale tiles are worked at (the model's native 1024²).
MODEL_PIXELS = 1024 * 1024
Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)


def _open(path: str | Path, what: Message) -> Image.Image:
    try:
        image = Image.open(path)
    except FileNotFoundError:
        raise BadInputError(msg("edit.image_missing", "The {what} {path} does not exist.", what=what,
                                path=str(path))) from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise BadInputError(msg("edit.image_unreadable", "The {what} {path} is not an image that can be read "
                                "({reason}).", what=what, path=str(path), reason=type(exc).__name__)) from None
    width, height = image.size
    if width * height > MAX_SOURCE_PIXELS:
        image.close()
        raise BadInputError(msg("edit.image_too_big", "The {what} is {width}×{height}, more than the {limit} "
                                "megapixels an edit can start from.", what=what, width=width, height=height,
                                limit=MAX_SOURCE_PIXELS // 1_000_000))
    return image


def _first_frame(image: Image.Image, notes: list[str]) -> None:
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
        notes.append(msg("edit.note_first_frame", "The image is animated; its first frame is used."))


def _load_pixels(image: Image.Image, path: str | Path, what: Message) -> None:
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadInputError(msg("edit.image_truncated", "The {what} {path} is damaged or cut short ({reason}).",
                                what=what, path=str(path), reason=exc)) from None


def to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """RGB with alpha flattened onto white and 16-bit or CMYK pixels converted (notes say which)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        wide = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or wide.max() > 255 else 255.0
        image = Image.fromarray(np.clip(np.round(wide / peak * 255), 0, 255).astype(np.uint8), "L")
        notes.append(msg("edit.note_16bit", "The 16-bit image was converted to 8 bits per channel."))
    elif mode == "F":
        image = Image.fromarray(np.clip(np.round(np.asarray(image) * 255), 0, 255).astype(np.uint8), "L")
    elif mode == "CMYK":
        notes.append(msg("edit.note_cmyk", "The CMYK image was converted to RGB."))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        if _alpha_min(rgba) < 255:
            notes.append(msg("edit.note_alpha", "The transparent parts were filled with white."))
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _alpha_min(rgba: Image.Image) -> int:
    return int(np.asarray(rgba.getchannel("A")).min())


def load_source_image(path: str | Path) -> tuple[Image.Image, tuple[str, ...]]:
    """The source picture as RGB (EXIF orientation applied) and notes on what was changed."""
    what = msg("edit.what_source", "source image")
    notes: list[str] = []
    with _open(path, what) as image:
        _first_frame(image, notes)
        _load_pixels(image, path, what)
        upright = ImageOps.exif_transpose(image)
        rgb = to_rgb(upright, notes)
    return rgb, tuple(notes)


def load_mask(path: str | Path, size: tuple[int, int]) -> tuple[Image.Image, tuple[str, ...]]:
    """The mask as 8-bit grey (white = may change) at ``size``; an empty mask is refused.

    A mask drawn on a transparent layer (black or white paint, the rest clear) means its alpha."""
    what = msg("edit.what_mask", "mask")
    notes: list[str] = []
    with _open(path, what) as image:
        _first_frame(image, notes)
        _load_pixels(image, path, what)
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") and _alpha_min(image.convert("RGBA")) < 255:
            mask = image.convert("RGBA").getchannel("A")
        else:
            mask = to_rgb(image, []).convert("L")
    if mask.size != size:
        notes.append(msg("edit.note_mask_resized", "The mask is {mw}×{mh} and the image {w}×{h}; the mask was "
                         "resized to fit.", mw=mask.width, mh=mask.height, w=size[0], h=size[1]))
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    if int(np.asarray(mask).max()) < 128:
        raise BadInputError(msg("edit.mask_empty", "The mask is empty: paint the area that may change in white."))
    return mask, tuple(notes)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square dilation (Chebyshev distance ≤ radius) by running maxima along each axis."""
    out = mask
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1, axis=axis)
        out = windows.max(axis=-1)
    return out


def feathered_mask(mask: Image.Image, blur: int) -> Image.Image:
    """The mask's edge softened outwards over ``blur`` pixels (0: unchanged).

    Pixels farther than ``blur`` (in either axis) from every non-zero mask pixel stay exactly 0."""
    if blur <= 0:
        return mask.copy()
    hard = np.asarray(mask, dtype=np.uint8)
    grown = Image.fromarray(_dilate(hard, blur // 2))
    soft = np.asarray(grown.filter(ImageFilter.GaussianBlur(blur / 4)), dtype=np.uint8)
    soft = np.maximum(soft, hard)  # never less change than the user painted
    soft = np.where(_dilate(hard, blur) > 0, soft, 0).astype(np.uint8)
    return Image.fromarray(soft, "L")


def composite(source: Image.Image, made: Image.Image, alpha: Image.Image) -> Image.Image:
    """``made`` where ``alpha`` is white, ``source`` where it is 0 (exactly), blended between."""
    return Image.composite(made.convert("RGB"), source.convert("RGB"), alpha)


def mask_bbox(mask: Image.Image) -> Box:
    """The box around every pixel of ``mask`` that is not 0."""
    box = mask.getbbox()
    if box is None:
        raise BadInputError(msg("edit.mask_empty", "The mask is empty: paint the area that may change in white."))
    return box


def masked_crop_box(bbox: Box, image_size: tuple[int, int], padding: int, aspect: float | None = None) -> Box:
    """The crop for "only the masked area": ``bbox`` grown by ``padding``, then grown to ``aspect``
    (width / height; None keeps the padded box's), clamped to the image (and shifted back inside
    where growing hits an edge)."""
    width, height = image_size
    left, top, right, bottom = (max(0, bbox[0] - padding), max(0, bbox[1] - padding),
                                min(width, bbox[2] + padding), min(height, bbox[3] + padding))
    if aspect:
        box_w, box_h = right - left, bottom - top
        if box_w / box_h < aspect:
            left, right = _grow(left, right, min(width, math.ceil(box_h * aspect)), width)
        else:
            top, bottom = _grow(top, bottom, min(height, math.ceil(box_w / aspect)), height)
    return left, top, right, bottom


def _grow(start: int, end: int, want: int, limit: int) -> tuple[int, int]:
    extra = want - (end - start)
    start -= extra // 2
    end += extra - extra // 2
    if start < 0:
        end, start = end - start, 0
    if end > limit:
        start, end = max(0, start - (end - limit)), limit
    return start, end


def working_size(box_w: int, box_h: int, pixels: int = MODEL_PIXELS) -> tuple[int, int]:
    """A model-friendly size (multiples of 16 within the request bounds) with the box's aspect and
    about ``pixels`` pixels: a small crop is worked at full detail."""
    scale = math.sqrt(pixels / (box_w * box_h))
    return snap_size(round(box_w * scale)), snap_size(round(box_h * scale))


def fit_size(width: float, height: float) -> tuple[int, int]:
    """The nearest request size with this aspect: scaled into 256..2048 per side, snapped to 16."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    scale = max(scale, MIN_SIDE / min(width, height)) if min(width, height) * scale < MIN_SIDE else scale
    return snap_size(round(width * scale)), snap_size(round(height * scale))


@dataclass(frozen=True)
class OutpaintGeometry:
    """The outpainted canvas: ``size`` in all, the source scaled to ``inner`` and placed at ``offset``."""

    size: tuple[int, int]
    sides: tuple[int, int, int, int]  # left, top, right, bottom

    @property
    def inner(self) -> tuple[int, int]:
        left, top, right, bottom = self.sides
        return self.size[0] - left - right, self.size[1] - top - bottom

    @property
    def offset(self) -> tuple[int, int]:
        return self.sides[0], self.sides[1]


def outpaint_geometry(source_size: tuple[int, int], sides: tuple[int, int, int, int] | None = None,
                      target: tuple[int, int] | None = None) -> OutpaintGeometry:
    """The canvas for extending by ``sides`` (pixels left, top, right, bottom) or to ``target``
    (a format: the source fits inside, centred). The canvas is snapped to multiples of 16 within
    the request bounds: rounding goes to the sides being extended; a source too large for the
    canvas bound is scaled down first."""
    src_w, src_h = source_size
    if target is not None:
        tw, th = snap_size(target[0]), snap_size(target[1])
        scale = min(tw / src_w, th / src_h)
        inner_w, inner_h = min(tw, round(src_w * scale)), min(th, round(src_h * scale))
        left, top = (tw - inner_w) // 2, (th - inner_h) // 2
        return OutpaintGeometry((tw, th), (left, top, tw - inner_w - left, th - inner_h - top))
    left, top, right, bottom = sides or (0, 0, 0, 0)
    scale = min(1.0, MAX_SIDE / (src_w + left + right), MAX_SIDE / (src_h + top + bottom))
    inner_w, inner_h = round(src_w * scale), round(src_h * scale)
    left, top, right, bottom = (round(left * scale), round(top * scale), round(right * scale),
                                round(bottom * scale))
    width, height = _snap_up(inner_w + left + right), _snap_up(inner_h + top + bottom)
    extra_w, extra_h = width - (inner_w + left + right), height - (inner_h + top + bottom)
    if right or not left:
        right += extra_w
    else:
        left += extra_w
    if bottom or not top:
        bottom += extra_h
    else:
        top += extra_h
    return OutpaintGeometry((width, height), (left, top, right, bottom))


def _snap_up(value: int) -> int:
    return max(MIN_SIDE, min(MAX_SIDE, -(-value // SIZE_MULTIPLE) * SIZE_MULTIPLE))


def outpaint_canvas(source: Image.Image, geometry: OutpaintGeometry) -> tuple[Image.Image, Image.Image]:
    """(canvas, mask): the source placed on the canvas, the new area filled by stretching its edge
    pixels and blurring them (a start the model can turn into a picture), and white over the new area."""
    inner = source if source.size == geometry.inner else source.resize(geometry.inner, Image.Resampling.LANCZOS)
    left, top, right, bottom = geometry.sides
    pixels = np.pad(np.asarray(inner), ((top, bottom), (left, right), (0, 0)), mode="edge")
    filled = Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(max(4, min(geometry.size) // 32)))
    filled.paste(inner, geometry.offset)
    mask = Image.new("L", geometry.size, 255)
    mask.paste(0, (left, top, left + inner.width, top + inner.height))
    return filled, mask


def request_source(req: GenerationRequest) -> tuple[Image.Image, tuple[str, ...]]:
    """An edit request's source picture (upright, RGB) and notes; one sentence when the history lost it."""
    if not req.source:
        raise BadInputError(msg("edit.source_needed", "This {mode} needs its source image, which is not in the "
                                "history any more; open the picture to edit again.", mode=req.mode))
    return load_source_image(req.source)


def canvas_and_mask(req: GenerationRequest, source: Image.Image) -> tuple[Image.Image, Image.Image, tuple[str, ...]]:
    """What an inpaint or outpaint works on: the canvas (the source, or the source on the larger
    outpaint canvas), its painted mask (white = may change) and notes about the mask."""
    if req.mode == "outpaint":
        assert req.outpaint is not None
        canvas, hard = outpaint_canvas(source, OutpaintGeometry((req.width, req.height), req.outpaint))
        return canvas, hard, ()
    if not req.mask:
        raise BadInputError(msg("edit.mask_needed", "This inpaint needs its mask, which is not in the history any "
                                "more; paint the mask again."))
    hard, notes = load_mask(req.mask, source.size)
    return source, hard, notes
