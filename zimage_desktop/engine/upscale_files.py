"""The upscale models a models folder holds (no torch: the window lists them)."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInputError
from ..messages import msg

SUFFIXES = (".safetensors", ".pth")
LANCZOS = ""  # the request's ``upscale_model`` for "no model"


def upscale_model_files(folder: Path) -> list[Path]:
    """The upscale models in ``folder`` (by name): what the Upscale panel lists."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def upscale_model_file(folder: Path, name: str | None = None) -> Path | None:
    """The model ``name`` names in ``folder`` (None: the first there; ``LANCZOS``: none)."""
    if name == LANCZOS:
        return None
    files = upscale_model_files(folder)
    if name is None:
        return files[0] if files else None
    for path in files:
        if path.name == name:
            return path
    raise BadInputError(msg("upscale.model_missing", "The upscale model {name} is not in {folder}.",
                            name=name, folder=folder))


