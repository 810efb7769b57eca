"""Checks made before any model loads: where images go, the data folder, free space, the device.

A generation takes from seconds to minutes; finding out afterwards that the output folder is a
file, read-only or full would throw the image away (or keep it somewhere the user did not ask).
Every problem here is the user's to fix, so each is a ``BadInputError`` (exit code 2).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import BadInputError
from .messages import clause, msg
from .errors_os import describe_os_error

# A PNG of the largest size with metadata stays well under this; the thumbnail and row are small.
MIN_FREE_BYTES = 64 * 1024**2


def _first_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_folder_writable(folder: Path, what: str, needed: int = MIN_FREE_BYTES) -> None:
    """Create ``folder`` if needed and prove a file can be written there, with room to spare."""
    existing = _first_existing(folder)
    if not existing.is_dir():
        raise BadInputError(msg("preflight.cannot_save_file_folder", "Cannot save {what} in {folder}: {existing} is a file, "
                                "not a folder.",
                                what=what, folder=folder, existing=existing))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".tmp", dir=folder)
        try:
            os.write(fd, b"\0")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise BadInputError(msg("preflight.cannot_save", "Cannot save {what} in {folder}: {reason}.",
                                what=what, folder=folder, reason=describe_os_error(exc))) from None
    if free < needed:
        raise BadInputError(msg("preflight.cannot_save_only_mb", "Cannot save {what} in {folder}: only {free:.0f} MB are "
                                "free and at least {needed:.0f} MB are needed.",
                                what=what, folder=folder, free=free / 1024**2, needed=needed / 1024**2))


def check_output_paths(targets: list[Path | None]) -> None:
    """Each --out target must be a new file name in a folder that can be written."""
    folders: set[Path] = set()
    for target in targets:
        if target is None:
            continue
        try:
            os.fsencode(str(target)).decode("utf-8")
        except UnicodeError:
            raise BadInputError(msg("preflight.output_path_contains_bytes", "The output path {target!r} contains bytes that "
                                    "are not valid UTF-8; choose another name.",
                                    target=str(target))) from None
        if target.is_dir():
            raise BadInputError(msg("preflight.cannot_save_image_folder", "Cannot save the image as {target}: it is a "
                                    "folder; give a new .png file name or a folder name without .png.",
                                    target=target))
        folders.add(target.parent)
    for folder in sorted(folders):
        check_folder_writable(folder, msg("preflight.the_images", "the images"))


def check_data_folder(data: Path, images: Path) -> None:
    """The history, thumbnails and (without --out) the images live in the data folder."""
    try:
        check_folder_writable(images, msg("preflight.images_and_history", "the images and history"))
    except BadInputError as exc:
        raise BadInputError(msg("preflight.start_data_dir_pointing", "{problem}; start with --data-dir pointing at a folder "
                                "you can write (now {data}).",
                                problem=clause(exc.message), data=data)) from None


def check_device(choice: str) -> None:
    """A device the user forced must exist here (``auto`` always does)."""
    if choice not in ("cuda", "mps") and not choice.startswith("cuda:"):
        return
    import torch

    if choice.startswith("cuda:") and torch.cuda.is_available():
        index = int(choice.split(":", 1)[1]) if choice.split(":", 1)[1].isdigit() else -1
        if not 0 <= index < torch.cuda.device_count():
            raise BadInputError(msg("preflight.no_gpu_with_index", "The device {choice} was chosen, but this computer "
                                    "has {count} CUDA GPU(s), numbered from 0.", choice=choice,
                                    count=torch.cuda.device_count()))
        return
    if choice.startswith("cuda:"):
        choice = "cuda"

    if choice == "cuda" and not torch.cuda.is_available():
        raise BadInputError(msg("preflight.device_cuda_was_chosen", "The device CUDA was chosen, but this computer has no "
                                "usable NVIDIA CUDA GPU; choose the device auto or cpu."))
    if choice == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise BadInputError(msg("preflight.device_mps_was_chosen", "The device MPS was chosen, but Apple MPS is not "
                                "available on this computer; choose the device auto or cpu."))
