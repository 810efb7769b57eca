"""Save a generated image: PNG with metadata, thumbnail, then the history row — in that order."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Paths
from ..engine.request import GeneratedImage
from ..fsutil import atomic_open
from .metadata import write_png
from .store import THUMB_SIZE, HistoryStore


@dataclass(frozen=True)
class SavedImage:
    path: Path
    thumb_path: Path | None
    history_id: int | None


def default_image_path(paths: Paths, seed: int) -> Path:
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    folder = paths.images / stamp[:10]
    path = folder / f"{stamp}-{seed}.png"
    n = 2
    while path.exists():
        path = folder / f"{stamp}-{seed}-{n}.png"
        n += 1
    return path


def write_thumbnail(image, target: Path) -> Path:
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    with atomic_open(target, "wb") as fh:
        thumb.save(fh, format="JPEG", quality=85)
    return target


def save_generated(image: GeneratedImage, paths: Paths, store: HistoryStore | None, target: Path | None = None,
                   parent_id: int | None = None) -> SavedImage:
    """The image file and thumbnail exist before the row commits; a crash in between leaves an
    image without a row (found by reconcile), never a row without its image."""
    path = Path(target) if target is not None else default_image_path(paths, image.seed)
    write_png(path, image.image, image.request, image.model, image.timings)
    thumb = write_thumbnail(image.image, paths.thumbnails / path.parent.name / (path.stem + ".jpg")) if store else None
    history_id = store.add(image.request, path.resolve(), image.model, image.timings, thumb, parent_id) if store else None
    return SavedImage(path, thumb, history_id)


def import_images(folder: Path, paths: Paths, store: HistoryStore) -> tuple[list[int], dict[str, str]]:
    """Add PNGs made by this app, A1111/Forge or ComfyUI to the history, where they are (no copy).
    Returns (new history ids, {file: why it was skipped})."""
    from PIL import Image

    from ..errors import UserFacingError
    from .metadata import read_png_metadata

    known = {p.resolve() for p in store.image_paths().values()}
    added: list[int] = []
    skipped: dict[str, str] = {}
    for path in sorted(Path(folder).rglob("*.png")):
        if path.resolve() in known:
            skipped[str(path)] = "already in the history"
            continue
        try:
            found = read_png_metadata(path)
        except UserFacingError as exc:
            skipped[str(path)] = str(exc)
            continue
        if found.request is None:
            skipped[str(path)] = "no generation parameters"
            continue
        try:
            with Image.open(path) as img:
                thumb = write_thumbnail(img, paths.thumbnails / "imported" / f"{abs(hash(str(path.resolve())))}.jpg")
        except (OSError, Image.DecompressionBombError) as exc:
            skipped[str(path)] = f"unreadable image ({exc})"
            continue
        model = dict(found.model, imported_from=found.source)
        added.append(store.add(found.request, path.resolve(), model, {}, thumb, created=path.stat().st_mtime))
    return added, skipped
