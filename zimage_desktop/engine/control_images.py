"""Control images: the user's file fitted to the output size, then made into what the ControlNet
Union was trained on — canny edges (OpenCV), grey, a scribble (white strokes on black), a depth map
(Depth Anything V2 Small, when its folder is installed) or a glyph image (already an edge map).

No torch at import; depth imports transformers lazily. Fitting is ComfyUI's ``common_upscale(…,
"area", "center")``: crop the middle to the output's aspect ratio, then an area (box) resize.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import BadInputError
from ..messages import msg

CANNY_LOW = 100  # ComfyUI's Canny node defaults are 0.4 / 0.8 of 255; 100/200 is OpenCV's classic pair
CANNY_HIGH = 200
DEPTH_DIR = "depth/depth-anything-v2-small"  # under the models folder; a transformers checkpoint


@dataclass(frozen=True)
class PreparedControl:
    image: Image.Image  # RGB, exactly width × height
    resized_from: tuple[int, int] | None  # the source size when it was not the output size
    note: str = ""  # one sentence for the user when something was adjusted


def open_source(path: str | Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")
    except FileNotFoundError:
        raise BadInputError(msg("control.no_file", "The control image {path} does not exist.", path=path)) from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadInputError(msg("control.unreadable", "The control image {path} could not be read ({exc}).",
                                path=path, exc=exc)) from None


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), method=Image.Resampling.BOX, centering=(0.5, 0.5))


def canny(image: Image.Image, low: int = CANNY_LOW, high: int = CANNY_HIGH) -> Image.Image:
    import cv2

    grey = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, low, high)
    return Image.fromarray(edges).convert("RGB")


def grey(image: Image.Image) -> Image.Image:
    return image.convert("L").convert("RGB")


def scribble(image: Image.Image) -> Image.Image:
    """White strokes on black: a drawing on a light background is inverted, then thresholded."""
    values = np.asarray(image.convert("L"))
    if values.mean() > 127:
        values = 255 - values
    return Image.fromarray(np.where(values > 127, 255, 0).astype(np.uint8)).convert("RGB")


def depth(image: Image.Image, models_dir: Path) -> Image.Image:
    folder = Path(models_dir) / DEPTH_DIR
    if not (folder / "config.json").is_file():
        raise BadInputError(msg("control.no_depth_model", "Depth control needs the Depth Anything V2 Small model in "
                                "{folder}; download it in the model manager or choose another control kind.",
                                folder=folder))
    import torch
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForDepthEstimation.from_pretrained(str(folder), local_files_only=True).eval()
    with torch.inference_mode():
        predicted = model(**processor(images=image, return_tensors="pt")).predicted_depth
        predicted = torch.nn.functional.interpolate(predicted[:, None], size=image.size[::-1], mode="bicubic")[0, 0]
    span = (predicted.max() - predicted.min()).clamp(min=1e-6)
    values = ((predicted - predicted.min()) / span * 255).round().byte().numpy()
    return Image.fromarray(values).convert("RGB")


def prepare(kind: str, source: Image.Image, width: int, height: int, models_dir: Path | None = None) -> PreparedControl:
    """The control image for ``kind`` at the output size, from the user's picture."""
    resized_from = None if source.size == (width, height) else source.size
    fitted = fit(source.convert("RGB"), width, height)
    if kind == "canny":
        image = canny(fitted)
    elif kind == "grey":
        image = grey(fitted)
    elif kind == "scribble":
        image = scribble(fitted)
    elif kind == "depth":
        image = depth(fitted, Path(models_dir or "."))
    elif kind == "glyph":
        image = fitted
    else:
        raise BadInputError(msg("control.unknown_kind", "The control kind {kind!r} is not known.", kind=kind))
    note = ""
    if resized_from is not None:
        note = msg("control.resized", "The control image ({w}×{h}) was cropped and resized to {width}×{height}.",
                   w=resized_from[0], h=resized_from[1], width=width, height=height)
    return PreparedControl(image, resized_from, note)
