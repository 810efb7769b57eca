"""Pixel upscaling for the upscale mode: an ESRGAN-family model from ``models/upscale_models/``
through ``spandrel`` (the loader ComfyUI uses), Lanczos otherwise.

spandrel is an optional extra (``pip install zimage-desktop[upscale-models]``); it is imported
only here, only when a model is used, and through ``spandrel_import`` so that a missing or broken
torchvision does not stop it. Files: ``.safetensors``, and ``.pth`` read with torch's
``weights_only`` unpickler (tensors and plain containers only: a file that holds code is refused,
as ComfyUI's ``safe_load`` does); TorchScript ``.pt``/``.ckpt`` are never loaded. The model runs
in tiles with a margin, the tile side from the memory plan, so a 2048² result needs a few hundred
MB, not gigabytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..errors import BadInputError
from ..messages import msg
from .pixels import to_8bit
from .upscale_files import LANCZOS, SUFFIXES, upscale_model_file, upscale_model_files

__all__ = ["LANCZOS", "SUFFIXES", "load_upscaler", "pixel_upscale", "run_tiled", "upscale_model_file",
           "upscale_model_files"]

TILE = 512
MARGIN = 32


def lanczos(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of an upscale model file, never running code from it."""
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        data: Any = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception:  # a truncated or foreign file, or a pickle that holds code: every reader raises its own kind
        raise BadInputError(msg("upscale.unreadable", "The upscale model {name} cannot be read: it is damaged, or "
                                "holds more than plain weights (code is never loaded).", name=path.name)) from None
    if isinstance(data, dict) and isinstance(data.get("params_ema", data.get("params")), dict):
        data = data.get("params_ema", data.get("params"))  # BasicSR's training checkpoints
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise BadInputError(msg("upscale.not_weights", "The upscale model {name} holds no model weights.",
                                name=path.name))
    return data


def load_upscaler(path: Path) -> Any:
    """spandrel's ``ImageModelDescriptor`` of an RGB super-resolution model file (in eval mode)."""
    from .spandrel_import import import_spandrel

    try:
        spandrel = import_spandrel()
    except ImportError:
        raise BadInputError(msg("upscale.no_spandrel", "The upscale model {name} needs the spandrel package "
                                "(pip install spandrel), which is not installed.", name=path.name)) from None
    state = read_state_dict(path)
    try:
        model = spandrel.ModelLoader().load_from_state_dict(spandrel.canonicalize_state_dict(state))
    except Exception as exc:  # UnsupportedModelError, or a shape error from a damaged file
        raise BadInputError(msg("upscale.unknown", "{name} is not an upscale model spandrel knows ({reason}).",
                                name=path.name, reason=str(exc).splitlines()[0][:160] if str(exc) else
                                type(exc).__name__)) from None
    if not isinstance(model, spandrel.ImageModelDescriptor) or model.scale < 2 or model.input_channels != 3:
        raise BadInputError(msg("upscale.not_upscaler", "{name} is not an upscale model for colour pictures "
                                "(it is {kind}).", name=path.name, kind=f"{model.architecture.name}, "
                                f"×{getattr(model, 'scale', 1)}"))
    return model.eval()


def pixel_upscale(image: Image.Image, size: tuple[int, int], folder: Path, scale: float,
                  model_name: str | None = None, tile: int = TILE) -> tuple[Image.Image, list[str]]:
    """``image`` at ``size``: through the upscale model when there is one, then Lanczos to the size."""
    path = upscale_model_file(folder, model_name)
    if path is None or scale <= 1:
        return lanczos(image, size), []
    try:
        model = load_upscaler(path)
    except BadInputError as exc:
        if model_name is not None:  # the user chose this file: say why it cannot be used
            raise
        # picked by default from the folder: the picture is still made, the note says why not with it
        return lanczos(image, size), [msg("edit.note_upscaler_unknown", "The upscale model {name} could not be "
                                          "loaded ({reason}); Lanczos was used.", name=path.name, reason=str(exc))]
    big = run_tiled(model, image, tile)
    return lanczos(big, size), [msg("edit.note_upscaler_used", "Upscaled with {name}.", name=path.name)]


def run_tiled(model: Any, image: Image.Image, tile: int = TILE, margin: int = MARGIN) -> Image.Image:
    """The model (RGB in [0, 1] → RGB ×``model.scale``) over ``image`` in tiles with a margin each side;
    a tile of at least the picture's size runs it whole."""
    scale = int(model.scale)
    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    _, _, height, width = pixels.shape
    out = torch.zeros(1, 3, height * scale, width * scale)
    with torch.inference_mode():
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                t0, l0 = max(0, top - margin), max(0, left - margin)
                t1, l1 = min(height, top + tile + margin), min(width, left + tile + margin)
                part = model(pixels[:, :, t0:t1, l0:l1]).float()
                bottom, right = min(height, top + tile), min(width, left + tile)
                out[:, :, top * scale:bottom * scale, left * scale:right * scale] = part[
                    :, :, (top - t0) * scale:(bottom - t0) * scale, (left - l0) * scale:(right - l0) * scale]
    return to_image(out)


def to_image(pixels: torch.Tensor) -> Image.Image:
    """A 1×3×H×W tensor in [0, 1] as an 8-bit RGB picture, truncated as ComfyUI's SaveImage."""
    return to_8bit(pixels)
