"""A ControlNet Union 2.x inside the edit modes: the control's hints added to the inpaint (and
image-to-image) passes of engine/edit_run.py, with the control context ComfyUI's
``ZImageControlPatch.encode_latent_cond`` builds from an inpaint image and a mask.

Context (33 channels, ComfyUI's order): the control image's latent; the mask channel — ComfyUI
turns the MASK input (1 = redraw) around (``1 − mask``, 1 = keep) and scales it to the latent
grid with "nearest"; the latent of the inpaint image with the area to redraw set to mid-grey —
the kept-area mask scaled to the image with "bilinear", rounded, and multiplied into the pixels
around 0.5. Union 1.0 files (16 channels) have no inpaint input: refused in one sentence.

The sampling stays the edit pipeline's own: a forward pre-hook on the transformer hands it the
ControlNet's hints on the steps ``round(start·n) ≤ i < round(end·n)`` of the full schedule, so
with strength 0 (or no step in range) the transformer sees exactly the call it sees without a
control, and the picture is bit-for-bit the plain edit's. Removing the hook restores the
transformer; nothing else is patched.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import BadInputError
from ..messages import msg
from .controlnet import _vae_latent
from .controlnet_hints import comfy_control, hints_for
from .controlnet_files import ControlNetFile


def _pixels(image: Image.Image) -> torch.Tensor:
    """[1, 3, H, W] in [-1, 1] (what ComfyUI's VAE makes of an IMAGE in [0, 1]: 2x − 1)."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array * 2.0 - 1.0).permute(2, 0, 1).unsqueeze(0)


def keep_mask(mask: Image.Image) -> torch.Tensor:
    """[1, 1, H, W]: 1 where the picture is kept — ComfyUI's ``1.0 − mask`` of a MASK that is 1
    where the picture may change (our masks: white = change)."""
    redraw = torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255.0)
    return (1.0 - redraw)[None, None]


def check_inpaints(file: ControlNetFile) -> None:
    if not file.inpaints:
        raise BadInputError(msg("control_inpaint.union_1", "{name} is a ControlNet Union {version}, which has no "
                                "inpaint input; editing with a control needs Union 2.0 or newer.",
                                name=file.path.name, version=file.version))


def inpaint_context(pipe: Any, file: ControlNetFile, control: Image.Image, inpaint: Image.Image,
                    mask: Image.Image | None) -> torch.Tensor:
    """[1, 33, 1, H/8, W/8] float32: control latent, keep-mask channel, masked inpaint latent.
    ``control``, ``inpaint`` and ``mask`` are at the working size; ``mask`` None is ComfyUI's
    node without a mask (a zero mask channel, the inpaint image whole)."""
    check_inpaints(file)
    latent = _vae_latent(pipe, _pixels(control)).float()
    pixels = _pixels(inpaint)
    if mask is not None:
        keep = keep_mask(mask)
        rounded = F.interpolate(keep, size=pixels.shape[-2:], mode="bilinear").round()
        pixels = pixels * rounded  # ((x − 0.5)·m + 0.5) in [0, 1] is x·m in [−1, 1]
    inpaint_latent = _vae_latent(pipe, pixels).float()
    if mask is None:
        channel = torch.zeros_like(inpaint_latent[:, :1])
    else:
        channel = F.interpolate(keep, size=inpaint_latent.shape[-2:], mode="nearest").to(inpaint_latent.device)
    context = torch.cat([latent, channel.to(latent.device), inpaint_latent], dim=1)
    return context.unsqueeze(2)


@contextmanager
def controlled(transformer: Any, controlnet: Any, context: torch.Tensor, strength: float, steps_on: range,
               first_step: int) -> Iterator[None]:
    """While inside, each transformer call (one per step; the edit pipelines run no CFG for
    Turbo) gets the ControlNet's hints, as ComfyUI computes them (engine/controlnet_hints.py), when
    its step of the full schedule — ``first_step`` plus the calls so far — is in ``steps_on``."""
    calls = [first_step]
    on = [False]
    hints = hints_for(controlnet, context.to(dtype=transformer.dtype), strength)

    def count(module: Any, args: tuple) -> None:
        on[0] = strength != 0 and calls[0] in steps_on
        calls[0] += 1
        if on[0]:
            hints.context = hints.context.to(device=args[0][0].device)

    handle = transformer.register_forward_pre_hook(count)
    try:
        with comfy_control(transformer, hints, lambda: on[0]):
            yield
    finally:
        handle.remove()
