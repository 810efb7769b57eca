"""A text-to-image run that follows a control image: the ControlNet Union file, loaded once per
pipeline (placed again when a request's plan changes its room), and its denoising loop
(engine/controlnet.py) for the request's one control input.

Functions of the ``Generator`` that owns the pipeline (as ``edit_run``'s are): the loaded model
is kept on it (``_control_model``) with the control image and file of the last run
(``_control_run``, recorded with the image) and the preprocessing's note (``_control_notes``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import torch

from ..errors import BadInputError
from ..messages import msg
from .request import GenerationRequest

if TYPE_CHECKING:
    from .generator import Generator

log = logging.getLogger(__name__)


def denoise_controlled(gen: Generator, req: GenerationRequest, embeds: torch.Tensor, latents: torch.Tensor,
                       sigmas: list[float], step_done) -> torch.Tensor:
    """The ControlNet Union loop (engine/controlnet.py) for the request's one control input."""
    from . import controlnet as cn

    assert gen.pipe is not None and gen.dtype is not None
    control = req.controls[0]
    file, model = controlnet(gen)
    prepared = control_image(gen, control, req.width, req.height)
    gen._control_notes = [prepared.note] if prepared.note else []
    gen._control_run = (prepared.image, file)
    context = cn.control_context(gen.pipe, file, prepared.image)
    return cn.denoise(gen.pipe, model, embeds, latents, sigmas, req.sampler, context, control.strength,
                      cn.active_steps(req.steps, control.start, control.end), step_done)


def control_image(gen: Generator, control, width: int, height: int):
    """The preprocessed control image of a ControlRef (also for the window's preview)."""
    from .control_images import open_source, prepare

    if control.image is None:
        raise BadInputError(msg("generator.control_no_image", "The {kind} control has no image file.",
                                kind=control.kind))
    return prepare(control.kind, open_source(control.image), width, height, gen.models_dir)


def controlnet(gen: Generator, inpaint: bool = False):
    """The installed ControlNet Union, loaded once per pipeline (and again when the file changes), and
    placed as this request's plan leaves room for (engine/control_plan.py): a later request whose plan
    leaves less or more room (a LoRA set added or dropped) moves it between "resident", "fp8" and
    "offload". It is read again then: FP8 storage cannot be undone, and the old weights leave first, so
    the card never holds both."""
    from .control_plan import place_controlnet
    from .controlnet import load_controlnet
    from .host_memory import release_dropped_weights
    from .controlnet_files import pick_controlnet

    assert gen.pipe is not None and gen.dtype is not None and gen.plan is not None
    file = pick_controlnet(gen.models_dir)
    if inpaint:  # the newest installed file is 1.0: no 2.x to inpaint with
        from .control_inpaint import check_inpaints

        check_inpaints(file)
    stat = file.path.stat()
    key = (file.path, stat.st_mtime_ns, id(gen.pipe))
    placement = place_controlnet(gen.plan, stat.st_size)  # pure and cheap: decided for every request
    loaded = gen._control_model
    if loaded is None or loaded[0] != key or loaded[3] != placement.where:
        if loaded is not None and loaded[0] == key:
            log.info("ControlNet %s: %s -> %s for this request's plan", file.path.name, loaded[3], placement.where)
        loaded = gen._control_model = None
        release_dropped_weights()  # what the dropped one held goes back before the next is read
        log.info("ControlNet %s: %s", file.path.name, placement.explanation)
        model = load_controlnet(file, gen.pipe.transformer, gen.dtype, gen.pipe._execution_device,
                                placement.where)
        loaded = gen._control_model = (key, file, model, placement.where)
    return loaded[1], loaded[2]

