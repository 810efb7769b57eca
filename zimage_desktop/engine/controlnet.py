"""Sampling with a ControlNet Union: loading the file, encoding the control image the way ComfyUI's
``ZImageFunControlnet`` does, and our own denoising loop that adds the control's hints.

The loop is ZImagePipeline's own (same timestep mapping, same velocity sign, the same
``ScheduledFlowScheduler`` for ComfyUI's schedules and samplers), so with the control switched
off for a step that step is bit-for-bit the uncontrolled one. The control acts on the steps
``round(start·n) ≤ i < round(end·n)``, with its hints scaled by the strength (ComfyUI's
``strength``; diffusers' ``conditioning_scale``).

Control context, as ``ZImageControlPatch.encode_latent_cond``: the control image's VAE latent
(mode, then Flux's ``(z − shift)·scale``); for 2.x files (33 channels) followed by a mask channel
(0: nothing to inpaint) and the latent of a mid-grey image (ComfyUI's default inpaint image).
diffusers' ControlNet pipeline pads those 17 channels with zeros instead, which is not the
picture ComfyUI makes.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import torch

from ..errors import ModelFilesError
from ..messages import msg
from .controlnet_files import ControlNetFile
from .sampling import ScheduledFlowScheduler

log = logging.getLogger(__name__)

StepHook = Callable[[int, torch.Tensor, ScheduledFlowScheduler], bool]  # False stops the loop


def load_controlnet(file: ControlNetFile, transformer: Any, dtype: torch.dtype, device: torch.device,
                    where: str = "resident"):
    """A ZImageControlNetModel from a published single file, sharing the transformer's embedders
    and refiners (``from_transformer``); its own weights placed as ``where`` says
    (engine/control_plan.py: "resident", "fp8" or "offload")."""
    from accelerate import init_empty_weights
    from diffusers import ZImageControlNetModel
    from diffusers.loaders.single_file_utils import convert_z_image_controlnet_checkpoint_to_diffusers
    from safetensors.torch import load_file

    t_config = transformer.config
    if int(t_config.dim) != file.dim:
        raise ModelFilesError(msg("controlnet.other_model", "{name} is a ControlNet for a model of width {dim}, not for "
                                  "this Z-Image transformer (width {expected}).",
                                  name=file.path.name, dim=file.dim, expected=t_config.dim))
    config = file.diffusers_config(int(t_config.n_heads))
    state = convert_z_image_controlnet_checkpoint_to_diffusers(load_file(str(file.path)), config)
    with init_empty_weights(include_buffers=False):
        model = ZImageControlNetModel.from_config(config)
    expected = set(model.state_dict())
    if set(state) != expected:
        missing, unexpected = expected - set(state), set(state) - expected
        raise ModelFilesError(msg("controlnet.mismatch", "{name} does not match the ControlNet Union {version} layout "
                                  "({missing} tensors missing, {unexpected} unexpected).", name=file.path.name,
                                  version=file.version, missing=len(missing), unexpected=len(unexpected)))
    here = device if where == "resident" else torch.device("cpu")
    model.load_state_dict({k: v.to(device=here, dtype=dtype) for k, v in state.items()}, assign=True, strict=True)
    model.eval()
    if where == "fp8":
        model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
        model.to(device)
    elif where == "offload":
        model.enable_group_offload(onload_device=device, offload_device=torch.device("cpu"),
                                   offload_type="block_level", num_blocks_per_group=1)
    # After placing its own weights: the shared modules stay where the transformer's plan put them.
    return ZImageControlNetModel.from_transformer(model, transformer)


def _vae_latent(pipe: Any, image: torch.Tensor) -> torch.Tensor:
    vae = pipe.vae
    with torch.inference_mode():
        latent = vae.encode(image.to(device=vae.device, dtype=vae.dtype)).latent_dist.mode()
    return (latent - vae.config.shift_factor) * vae.config.scaling_factor


def control_context(pipe: Any, file: ControlNetFile, image: Any) -> torch.Tensor:
    """[1, C, 1, H/8, W/8] float32 for a PIL control image already at the output size."""
    import numpy as np

    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 127.5 - 1.0)
    pixels = pixels.permute(2, 0, 1).unsqueeze(0)
    latent = _vae_latent(pipe, pixels).float()
    if file.inpaints:
        grey = _vae_latent(pipe, torch.zeros_like(pixels)).float()  # 0 in [-1, 1] is ComfyUI's 0.5 grey
        mask = torch.zeros_like(latent[:, :1])
        latent = torch.cat([latent, mask, grey], dim=1)
    if latent.shape[1] != file.control_in_dim:
        raise ModelFilesError(msg("controlnet.channels", "{name} takes {expected} input channels, not {got}.",
                                  name=file.path.name, expected=file.control_in_dim, got=latent.shape[1]))
    return latent.unsqueeze(2)


def active_steps(steps: int, start: float, end: float) -> range:
    return range(round(start * steps), round(end * steps))


def denoise(pipe: Any, controlnet: Any, embeds: torch.Tensor, latents: torch.Tensor, sigmas: list[float],
            sampler: str, context: torch.Tensor, strength: float, steps_on: range, on_step: StepHook) -> torch.Tensor:
    """ZImagePipeline's loop with the ControlNet's hints computed as ComfyUI's ZImageControlPatch
    does (engine/controlnet_hints.py); returns the final latents (float32)."""
    from .controlnet_hints import comfy_control, hints_for

    transformer = pipe.transformer
    device = latents.device
    scheduler = ScheduledFlowScheduler.for_sampler(pipe.scheduler.config, sampler)
    scheduler.set_timesteps(sigmas=sigmas, device=device)
    context = context.to(device=device, dtype=transformer.dtype)
    # One state for the controlled steps: they are one sampling run (one KSamplerAdvanced) in ComfyUI.
    hints = hints_for(controlnet, context, strength)
    on = [False]
    # no_grad, as ZImagePipeline's own call: under inference_mode a streamed (group-offloaded)
    # transformer kept the modules the ControlNet shares on the GPU after each step
    # (tests/test_residency_phases.py: the 4gb residency table streams them).
    with torch.no_grad(), comfy_control(transformer, hints, lambda: on[0]):
        for i, t in enumerate(scheduler.timesteps):
            timestep = ((1000 - t.expand(latents.shape[0])) / 1000)
            x = list(latents.to(transformer.dtype).unsqueeze(2).unbind(dim=0))
            on[0] = strength != 0 and i in steps_on
            out = transformer(x, timestep, [embeds] * len(x), return_dict=False)[0]
            velocity = -torch.stack([o.float() for o in out], dim=0).squeeze(2)
            latents = scheduler.step(velocity.to(torch.float32), t, latents, return_dict=False)[0]
            if not on_step(i, latents, scheduler):
                break
    return latents
