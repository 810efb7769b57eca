"""What an edit, LoRA or control job needs on a ComfyUI server besides its graph.

The graph is the one our PNG export writes (``history.comfy_export``); this module makes the
images its LoadImage nodes read and checks the files its loaders name:

- image-to-image and upscale: the source as the local engine uses it (img2img resized to the
  output size; upscale as it is: the graph's ImageScale resizes it);
- inpaint and outpaint: the canvas with the mask as its alpha (``comfy_input_image``: ComfyUI's
  LoadImage gives MASK = 1 − alpha), the mask the local engine gives the model (the feathered
  mask's whole reach), and afterwards the same composite the local engine makes, so pixels
  outside the mask are the source's exactly;
- control: the preprocessed control image (canny, grey, …), made here as the local engine makes it.

Every upload is named by the sha256 of its PNG bytes: two jobs never overwrite each other's input
on a server (ComfyUI's ``/upload/image`` keeps a file whose name and content match, and renames a
clash), and the control image's name is the one the history stores it under.
LoRA and ControlNet files are looked up by name in the server's ``/object_info`` lists; a file the
server lacks is ``MissingOnServer``: one sentence, and the job may run on an engine that has it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.request import GenerationRequest
from ..history.comfy_export import CONTROLNET_FILE, comfy_input_image, lora_file_name
from ..messages import msg
from .client import Upload
from .http import RemoteError

# The loaders whose file lists say whether a server can run a LoRA or control job.
FILE_LOADERS = {"lora": ("LoraLoaderModelOnly", "lora_name"), "model_patch": ("ModelPatchLoader", "name")}


class MissingOnServer(RemoteError):
    """The server lacks a file the job names (a LoRA, the ControlNet): the job may run on another
    engine, but not again on this one; the server itself is fine (no pause)."""

    retriable = True


@dataclass
class JobInputs:
    uploads: tuple[Upload, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)  # merged into the image's model record
    control_images: tuple[Any, ...] = ()  # the preprocessed control images (kept with the history)
    notes: tuple[str, ...] = ()
    finish: Callable[[Any], Any] = lambda image: image  # the server's picture → the job's picture


def png_upload(image: Any) -> Upload:
    """``image`` as PNG bytes under the name of their sha256 (what control_inputs.store_image names it)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    return Upload(f"{hashlib.sha256(data).hexdigest()}.png", data)


def wanted_files(request: GenerationRequest) -> dict[str, tuple[str, ...]]:
    """{"lora": the LoRA file names the graph loads, "model_patch": the ControlNet if it has a control}."""
    from ..engine.loras import requested_loras

    loras = tuple(lora_file_name(ref.name) for ref in requested_loras(request.prompt, request.loras))
    return {"lora": loras, "model_patch": (CONTROLNET_FILE,) if request.controls else ()}


def match_file(wanted: str, offered: tuple[str, ...]) -> str | None:
    """The server's name for ``wanted``: the same name, else the same file name in a subfolder
    (ComfyUI lists ``sub/name.safetensors``), compared without case."""
    if wanted in offered:
        return wanted
    low = wanted.lower()
    return next((n for n in offered if n.replace("\\", "/").rsplit("/", 1)[-1].lower() == low), None)


def pick_controlnet(offered: tuple[str, ...], wanted: str | None) -> str | None:
    """The Z-Image ControlNet Union on the server: the local engine's file when it has it, else the
    newest-looking name with "z-image" and "control" in it."""
    if wanted and (found := match_file(wanted, offered)) is not None:
        return found
    if (found := match_file(CONTROLNET_FILE, offered)) is not None:
        return found
    fitting = [n for n in offered if "control" in n.lower() and any(h in n.lower() for h in ("z-image", "z_image",
                                                                                               "zimage"))]
    return sorted(fitting)[-1] if fitting else None


def check_files(server: str, request: GenerationRequest, offered: dict[str, tuple[str, ...]],
                controlnet: str | None = None) -> dict[str, Any]:
    """The model-record entries that name the server's files (``"loras"``: {our name: server's},
    ``"controls"``: the ControlNet); raises MissingOnServer naming the first file it lacks."""
    wanted = wanted_files(request)
    loras: dict[str, str] = {}
    for name in wanted["lora"]:
        found = match_file(name, offered.get("lora", ()))
        if found is None:
            raise MissingOnServer(msg("remote.missing_lora", "{server} does not have the LoRA {name} (in its "
                                      "models/loras folder).", server=server, name=name))
        loras[name] = found
    out: dict[str, Any] = {"server_loras": loras} if loras else {}
    if wanted["model_patch"]:
        found = pick_controlnet(offered.get("model_patch", ()), controlnet)
        if found is None:
            raise MissingOnServer(msg("remote.missing_controlnet", "{server} does not have the Z-Image ControlNet "
                                      "Union file {name} (in its models/model_patches folder).", server=server,
                                      name=controlnet or CONTROLNET_FILE))
        out["controls"] = [{"name": found}]
    return out


def prepare_inputs(request: GenerationRequest, models_dir: Path | None = None, server: str = "") -> JobInputs:
    """The uploads of a single-image request and how to finish the server's picture."""
    from PIL import Image

    from ..engine.editing import canvas_and_mask, feathered_mask, request_source

    inputs = JobInputs()
    if request.controls:
        from ..engine.control_images import open_source, prepare

        control = request.controls[0]
        if control.image is None:
            from ..errors import BadInputError

            raise BadInputError(msg("generator.control_no_image", "The {kind} control has no image file.",
                                    kind=control.kind))
        prepared = prepare(control.kind, open_source(control.image), request.width, request.height, models_dir)
        upload = png_upload(prepared.image)
        inputs.uploads += (upload,)
        inputs.model["controls"] = [{"prepared": upload.name}]
        inputs.control_images = (prepared.image,)
        inputs.notes = (prepared.note,) if prepared.note else ()
    if not request.is_edit:
        return inputs
    source, notes = request_source(request)
    inputs.notes += tuple(notes)
    if request.mode in ("img2img", "upscale"):
        size = (request.width, request.height)
        work = source if request.mode == "upscale" or source.size == size else source.resize(
            size, Image.Resampling.LANCZOS)
        upload = png_upload(comfy_input_image(work))
    else:
        canvas, hard, mask_notes = canvas_and_mask(request, source)
        inputs.notes += tuple(mask_notes)
        alpha = feathered_mask(hard, request.mask_blur)
        # The uploaded file is what the PNG's own graph reads in ComfyUI's input/ (the graph pads,
        # feathers and composites itself: history/comfy_edit_graph.py); the composite below leaves
        # the pixels outside the mask the source's own, past ComfyUI's 8-bit rounding.
        upload = png_upload(comfy_input_image(source, hard if request.mode == "inpaint" else None))

        touched = alpha.point(lambda v: 255 if v else 0)

        def finish(made: Any) -> Any:
            # The graph has already pasted the result through the feathered edge; compositing again
            # would pull the edge toward the source. Only the pixels the edge never reaches are set back
            # to the source's own bytes (ComfyUI's SaveImage rounds them down by up to one level).
            full = made if made.size == canvas.size else made.resize(canvas.size, Image.Resampling.LANCZOS)
            return Image.composite(full, canvas.convert(full.mode), touched)

        inputs.finish = finish
    inputs.uploads += (upload,)
    inputs.model["edit_input"] = upload.name
    return inputs


__all__ = ["FILE_LOADERS", "JobInputs", "MissingOnServer", "check_files", "match_file", "pick_controlnet",
           "png_upload", "prepare_inputs", "wanted_files"]
