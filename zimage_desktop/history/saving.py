"""Save a generated image: PNG with metadata, thumbnail, then the history row — in that order."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Paths
from ..engine.request import GeneratedImage
from ..errors import UserFacingError
from ..messages import clause, joined, msg
from ..errors_os import describe_os_error
from ..fsutil import write_exclusive
from .control_inputs import keep_control_inputs
from .metadata import build_pnginfo
from .store import THUMB_SIZE, HistoryStore


class SaveError(UserFacingError):
    """The image could be written nowhere."""


@dataclass(frozen=True)
class SavedImage:
    path: Path
    thumb_path: Path | None
    history_id: int | None
    problem: str | None = None  # one sentence when the image was kept elsewhere or not recorded


def default_image_path(paths: Paths, seed: int) -> Path:
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    return paths.images / stamp[:10] / f"{stamp}-{seed}.png"


def write_thumbnail(image, target: Path) -> Path:
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    return write_exclusive(target, lambda fh: thumb.save(fh, format="JPEG", quality=85))


def _reason(exc: BaseException) -> str:
    return describe_os_error(exc) if isinstance(exc, OSError) else clause(getattr(exc, "message", str(exc)))


def write_image_file(image: GeneratedImage, path: Path, paths: Paths) -> tuple[Path, str | None]:
    """Write the PNG under ``path`` (or a free variant of it); if that fails, keep the image in the
    data folder's images, else the temp folder. Returns (where it is, why it is not at ``path``)."""
    pnginfo = build_pnginfo(image.request, image.model, image.timings)

    def write(fh) -> None:
        image.image.save(fh, format="PNG", pnginfo=pnginfo)

    try:
        return write_exclusive(path, write), None
    except OSError as exc:
        first = exc
    fallbacks = [default_image_path(paths, image.seed),
                 Path(tempfile.gettempdir()) / "zimage-desktop" / path.name]
    for place in fallbacks:
        if place.parent == path.parent:
            continue
        try:
            kept = write_exclusive(place, write)
        except OSError:
            continue
        return kept, msg("saving.could_save_image_was", "Could not save the image to {path} ({reason}); it was kept at "
                         "{kept}.", path=path, reason=_reason(first), kept=kept)
    raise SaveError(msg("saving.could_save_image_nor", "Could not save the image to {path} ({reason}), nor in {images} or "
                        "the temp folder.",
                        path=path, reason=_reason(first), images=paths.images))


def save_generated(image: GeneratedImage, paths: Paths, store: HistoryStore | None, target: Path | None = None,
                   parent_id: int | None = None) -> SavedImage:
    """The image file and thumbnail exist before the row commits; a crash in between leaves an
    image without a row (found by ``history check``), never a row without its image. Each image
    gets a file of its own: an existing file is never replaced."""
    wanted = Path(target) if target is not None else default_image_path(paths, image.seed)
    image = keep_control_inputs(image, paths)
    path, problem = write_image_file(image, wanted, paths)
    thumb = None
    history_id = None
    if store is not None:
        try:
            thumb = write_thumbnail(image.image, paths.thumbnails / path.parent.name / (path.stem + ".jpg"))
        except OSError:  # the gallery shows the image itself instead; nothing is lost
            thumb = None
        try:
            parent = parent_id if parent_id is not None else _existing(store, image.request.source_entry)
            history_id = store.add(image.request, path.resolve(), image.model, image.timings, thumb, parent)
        except UserFacingError as exc:
            not_recorded = msg("saving.not_recorded", "The image is saved at {path} but could not be recorded in the "
                               "history ({reason}).", path=path, reason=clause(exc.message))
            problem = joined([problem, not_recorded]) if problem else not_recorded
    return SavedImage(path, thumb, history_id, problem)


def _existing(store: HistoryStore, image_id: int | None) -> int | None:
    """An edit's source entry as its lineage parent, if that entry is still in the history."""
    return image_id if image_id is not None and image_id in store.image_paths() else None


def import_images(folder: Path, paths: Paths, store: HistoryStore) -> tuple[list[int], dict[str, str]]:
    """Add PNGs made by this app, A1111/Forge or ComfyUI to the history, where they are (no copy).
    Returns (new history ids, {file: why it was skipped})."""
    return import_files(sorted(Path(folder).rglob("*.png")), paths, store)


def import_files(files: list[Path], paths: Paths, store: HistoryStore) -> tuple[list[int], dict[str, str]]:
    """``import_images`` for these PNG files (the window adopts the images a crash left without
    their row this way: the image is renamed into place before its row commits)."""
    from PIL import Image

    from .metadata import read_png_metadata

    known = {p.resolve() for p in store.image_paths().values()}
    added: list[int] = []
    skipped: dict[str, str] = {}
    for path in files:
        if path.resolve() in known:
            skipped[str(path)] = msg("saving.already_in_history", "already in the history")
            continue
        try:
            found = read_png_metadata(path)
        except UserFacingError as exc:
            skipped[str(path)] = exc.message
            continue
        if found.request is None:
            skipped[str(path)] = msg("saving.no_parameters", "no generation parameters")
            continue
        try:
            with Image.open(path) as img:
                thumb = write_thumbnail(img, paths.thumbnails / "imported" / f"{abs(hash(str(path.resolve())))}.jpg")
        except (OSError, Image.DecompressionBombError) as exc:
            skipped[str(path)] = msg("saving.unreadable_image", "unreadable image ({exc})", exc=exc)
            continue
        model = dict(found.model, imported_from=found.source)
        added.append(store.add(found.request, path.resolve(), model, {}, thumb, created=path.stat().st_mtime))
    return added, skipped
