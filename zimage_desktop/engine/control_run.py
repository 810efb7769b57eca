"""A text-to-image run that follows a control image: the ControlNet Union file, loaded once per
pipeline, and its denoising loop (engine/controlnet.py) for the request's one control input.

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
    """The installed ControlNet Union, loaded once per pipeline (and again when the file changes)."""
    from .controlnet import load_controlnet
    from .controlnet_files import pick_controlnet

    assert gen.pipe is not None and gen.dtype is not None
    file = pick_controlnet(gen.models_dir)
    if inpaint:  # the newest installed file is 1.0: no 2.x to inpaint with
        from .control_inpaint import check_inpaints

        check_inpaints(file)
    key = (file.path, file.path.stat().st_mtime_ns, id(gen.pipe))
    if gen._control_model is None or gen._control_model[0] != key:
        from .control_plan import place_controlnet

        gen._control_model = None
        assert gen.plan is not None
        placement = place_controlnet(gen.plan, file.path.stat().st_size)
        log.info("ControlNet %s: %s", file.path.name, placement.explanation)
        model = load_controlnet(file, gen.pipe.transformer, gen.dtype, gen.pipe._execution_device,
                                placement.where)
        gen._control_model = (key, file, model, placement.where)
    return gen._control_model[1], gen._control_model[2]
