"""Control images kept with the history, in its one input store (``input_store``: ``<data>/history/inputs/``).

A request names its control image by path while it is made; when the image is saved, the user's
file is copied in as PNG and the request records its sha256 (and the stored path), so re-making
the image months later does not depend on the user's file staying where it was. The preprocessed
control image (what the ControlNet saw: canny edges, glyphs …) is kept the same way; the ComfyUI
graph's LoadImage names it, so the graph reproduces the picture without our preprocessing. Both
leave with the last entry that uses them (``HistoryStore.input_hashes`` counts them).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from ..config import Paths
from ..engine.request import ControlRef, GeneratedImage, GenerationRequest
from .input_store import find, inputs_folder, keep_image


def inputs_dir(paths: Paths) -> Path:
    return inputs_folder(paths.data)


def store_image(image: Image.Image, paths: Paths) -> tuple[str, Path]:
    """(sha256, path) of ``image`` as a PNG in the input store; written once per content."""
    return keep_image(image, paths.data)


def keep_control_inputs(image: GeneratedImage, paths: Paths) -> GeneratedImage:
    """The image with its request's control files stored and named by content; the preprocessed
    control images' names go into ``model["controls"]`` (for the ComfyUI graph)."""
    request = image.request
    if not request.controls:
        return image
    controls: list[ControlRef] = []
    prepared_names: list[dict[str, Any]] = []
    for index, control in enumerate(request.controls):
        stored = control
        if control.image and Path(control.image).is_file():
            with Image.open(control.image) as src:
                sha, path = store_image(src.convert("RGB"), paths)
            stored = replace(control, image=str(path), image_sha256=sha)
        controls.append(stored)
        entry: dict[str, Any] = {}
        if index < len(image.control_images) and image.control_images[index] is not None:
            sha, path = store_image(image.control_images[index], paths)
            entry["prepared"] = path.name
        prepared_names.append(entry)
    model = dict(image.model)
    known = model.get("controls")
    known = known if isinstance(known, list) else []
    model["controls"] = [{**(known[i] if i < len(known) and isinstance(known[i], dict) else {}), **prepared_names[i]}
                         for i in range(len(controls))]
    return replace(image, request=replace(request, controls=tuple(controls)), model=model)


def restore_control_inputs(request: GenerationRequest, paths: Paths) -> GenerationRequest:
    """Point each control at a file that exists: its own path, else the stored copy by sha256."""
    if not request.controls:
        return request
    controls = []
    for control in request.controls:
        if (not control.image or not Path(control.image).is_file()) and control.image_sha256:
            stored = find(control.image_sha256, paths.data)
            if stored is not None:
                control = replace(control, image=str(stored))
        controls.append(control)
    return replace(request, controls=tuple(controls))
