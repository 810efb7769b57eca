"""Reading an image to edit (a dropped or opened PNG/JPEG/WebP) as the picture a person sees: EXIF
orientation applied, transparency flattened on white, CMYK and 16-bit converted, the first frame of an
animation — and bringing it to a size the model takes (multiples of 16, 256 … 2048 px a side).
Sentences for the user come back as notes (``tr`` closures), said in the UI language."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QBuffer, QCoreApplication, QIODevice, QSize, Qt
from PySide6.QtGui import QImage

from ..engine.request import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE

EDIT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MAX_PIXELS = 50_000_000  # larger files are refused before they are decoded (a 7000×7000 photo is 49 MP)


class SourceError(Exception):
    """One sentence for the user (already in the UI language when raised)."""


def load_source(path: str) -> tuple[QImage, list[Callable[[], str]]]:
    """The image at ``path`` as an RGB ``QImage``, and notes on what was done to it."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    notes: list[Callable[[], str]] = []
    name = Path(path).name
    try:
        with Image.open(path) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise SourceError(QCoreApplication.translate(
                    "EditSource", "%1 has %2 million pixels; images to edit may have at most %3 million.")
                                  .replace("%1", name).replace("%2", f"{opened.width * opened.height / 1e6:.0f}")
                                  .replace("%3", f"{MAX_PIXELS / 1e6:.0f}"))
            if getattr(opened, "n_frames", 1) > 1:
                opened.seek(0)
                notes.append(lambda: QCoreApplication.translate(
                    "EditSource", "%1 is animated: its first frame is edited.").replace("%1", name))
            image = ImageOps.exif_transpose(opened)
            image.load()
    except SourceError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise SourceError(QCoreApplication.translate("EditSource", "%1 cannot be read as an image (%2).")
                          .replace("%1", name).replace("%2", str(exc))) from None
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: the high byte
        image = Image.fromarray((np.asarray(image, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    rgb = image.convert("RGB")  # CMYK, palette, grey
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()
    return qimage, notes


def work_size(size: QSize) -> QSize:
    """The nearest size the model takes with the same shape: sides multiples of 16 in 256 … 2048."""
    w, h = size.width(), size.height()
    scale = min(1.0, MAX_SIDE / max(w, h))
    scale = max(scale, MIN_SIDE / min(w, h))
    snap = lambda v: max(MIN_SIDE, min(MAX_SIDE, round(v * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE))  # noqa: E731
    return QSize(snap(w), snap(h))


def to_work_size(image: QImage) -> QImage:
    """``image`` as RGB at ``work_size`` (unchanged pixels when it already fits)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    target = work_size(image.size())
    if target == image.size():
        return image
    return image.scaled(target, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)


def save_content_addressed(image: QImage, folder: Path) -> tuple[Path, str]:
    """``image`` as a PNG named by its sha256 in ``folder`` (written once): (path, sha256)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs want bytes, the binding a str
    data = bytes(buffer.data().data())
    digest = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.png"
    if not path.exists():
        part = path.with_suffix(".part")
        part.write_bytes(data)
        part.replace(path)
    return path, digest
