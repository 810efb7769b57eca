"""Reading an image to edit (a dropped or opened PNG/JPEG/WebP) as the picture a person sees — through the
engine's reader, so the window edits exactly what the engine would read — and bringing it to a size the
model takes (multiples of 16, 256 … 2048 px a side); saving the edit's inputs in the history's input store."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QSize, Qt
from PySide6.QtGui import QImage

from ..engine.request import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE

EDIT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def load_source(path: str) -> tuple[QImage, tuple[str, ...]]:
    """The image at ``path`` as an RGB ``QImage`` (read by the engine's ``load_source_image``: EXIF
    orientation, alpha, CMYK, 16-bit, animations, the pixel bound), and its notes (engine messages).
    Raises ``BadInputError`` with one sentence."""
    from ..engine.editing import load_source_image

    rgb, notes = load_source_image(path)
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy(), notes


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


def save_content_addressed(image: QImage, data_dir: Path) -> tuple[Path, str]:
    """``image`` as a PNG in the history's input store (named by its sha256, written once): (path, sha256).
    The history keeps it from there, so the window writes no second copy."""
    from ..history.input_store import keep_png_bytes

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs want bytes, the binding a str
    sha, path = keep_png_bytes(bytes(buffer.data().data()), data_dir)
    return path, sha
