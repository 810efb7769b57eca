"""ComfyUI-compatible sampling: its "simple" schedule and its "euler" / "res_multistep" samplers.

Same seed, same picture as ComfyUI needs the same noise (generator.initial_latents: a CPU
generator, float32, [1, 16, H/8, W/8]), the same sigmas and the same update rule.

Schedules. Z-Image samples a discrete flow with shift 3: ComfyUI tabulates σ(k/1000), k = 1…1000,
σ(t) = shift·t / (1 + (shift − 1)·t), and its "simple" schedule takes, for step x of n, entry
−(1 + ⌊x·1000/n⌋) of that table, then 0. ZImagePipeline's own schedule ("diffusers") shifts
linspace(1, 1/n, n) instead: the same sigmas when n divides 1000, up to 1.8e-3 apart for n = 9.

Samplers. The model predicts a velocity v; the denoised estimate is D = x − σ·v.
- euler: x' = x + (σ' − σ)·v, the pipeline scheduler's own step.
- res_multistep (Zhang & Chen's RES, arXiv:2308.02157, as ComfyUI runs it on flow models with
  eta 0): in t = −log σ with step h = log(σ/σ'), an exponential integrator whose data term is
  extrapolated linearly from the previous step's D:
      x' = e^(−h)·x + h·(b1·D + b2·D_prev),  b1 = φ1 − φ2/c,  b2 = φ2/c,
      φ1 = φ1(−h) = (e^(−h) − 1)/(−h),  φ2 = (φ1 − 1)/(−h),  c = −h_prev/h,
  where h_prev = log(σ_prev/σ). The first step (no D_prev) and the last (σ' = 0) are Euler steps.

``ScheduledFlowScheduler`` plugs both into ZImagePipeline unchanged: the pipeline's ``sigmas=``
argument carries the finished schedule (this scheduler does not shift it again) and the pipeline's
loop calls ``step`` as for its own scheduler.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import numpy as np
import torch
from diffusers.schedulers.scheduling_flow_match_euler_discrete import (
    FlowMatchEulerDiscreteScheduler, FlowMatchEulerDiscreteSchedulerOutput,
)

from .architectures import DEFAULT, Architecture
from .request import SAMPLERS, SCHEDULERS

TABLE_SIZE = 1000


def sigma_table(shift: float) -> torch.Tensor:
    """ComfyUI's discrete-flow table, float32: σ(k/1000) for k = 1…1000."""
    t = torch.arange(1, TABLE_SIZE + 1, 1) / TABLE_SIZE
    return shift * t / (1 + (shift - 1) * t)


def simple_sigmas(steps: int, shift: float) -> list[float]:
    table = sigma_table(shift)
    stride = len(table) / steps
    return [float(table[-(1 + int(x * stride))]) for x in range(steps)]


def diffusers_sigmas(steps: int, shift: float) -> list[float]:
    """ZImagePipeline's default, shifted exactly as FlowMatchEulerDiscreteScheduler does (float32)."""
    t = np.array(torch.linspace(1.0, 1 / steps, steps).tolist()).astype(np.float32)
    return (shift * t / (1 + (shift - 1) * t)).tolist()


def schedule(name: str, steps: int, shift: float) -> list[float]:
    """The sigmas of each step (without the final 0)."""
    if name == "simple":
        return simple_sigmas(steps, shift)
    if name == "diffusers":
        return diffusers_sigmas(steps, shift)
    raise ValueError(f"unknown schedule {name!r}; known: {SCHEDULERS}")


def res_multistep_coefficients(sigma_prev: float, sigma: float, sigma_next: float) -> tuple[float, float, float]:
    """(a, c1, c0) with x' = a·x + c1·D + c0·D_prev for the second-order step."""
    h = math.log(sigma / sigma_next)
    c = -math.log(sigma_prev / sigma) / h
    phi1 = math.expm1(-h) / -h
    phi2 = (phi1 - 1.0) / -h
    return math.exp(-h), h * (phi1 - phi2 / c), h * (phi2 / c)


class ScheduledFlowScheduler(FlowMatchEulerDiscreteScheduler):
    """A FlowMatchEulerDiscreteScheduler that takes finished sigmas and steps with ``sampler``.

    ``denoised`` holds the last step's D (float32) for previews, whatever the sampler."""

    sampler: str = "euler"
    denoised: torch.Tensor | None = None
    _sigma_values: list[float] = []
    _previous: tuple[float, torch.Tensor] | None = None

    @classmethod
    def for_sampler(cls, config, sampler: str) -> "ScheduledFlowScheduler":
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; known: {SAMPLERS}")
        scheduler = cls.from_config(config)
        assert isinstance(scheduler, cls)
        scheduler.sampler = sampler
        return scheduler

    def set_timesteps(self, num_inference_steps=None, device=None, sigmas=None, mu=None, timesteps=None):  # type: ignore[override]
        if sigmas is None:
            raise ValueError("ScheduledFlowScheduler needs the finished sigmas")
        given = torch.as_tensor(np.asarray(sigmas, dtype=np.float32))
        self.num_inference_steps = len(given)
        self.timesteps = (given * self.config.num_train_timesteps).to(device=device)
        self.sigmas = torch.cat([given, torch.zeros(1)]).to(device=device)
        self._sigma_values = given.tolist() + [0.0]  # read on the CPU: no device sync per step
        self._step_index = None
        self._begin_index = None
        self._previous = None
        self.denoised = None

    def step(self, model_output, timestep, sample, **kwargs):  # type: ignore[override]
        if self.step_index is None:
            self._init_step_index(timestep)
        index = self.step_index
        sigma, sigma_next = self._sigma_values[index], self._sigma_values[index + 1]
        x = sample.to(torch.float32)
        velocity = model_output.to(torch.float32)
        denoised = x - sigma * velocity
        self.denoised = denoised
        if self.sampler == "euler" or self._previous is None or sigma_next == 0:
            self._previous = (sigma, denoised)
            return super().step(model_output, timestep, sample, **kwargs)
        sigma_prev, denoised_prev = self._previous
        a, c1, c0 = res_multistep_coefficients(sigma_prev, sigma, sigma_next)
        prev_sample = (a * x + c1 * denoised + c0 * denoised_prev).to(model_output.dtype)
        self._previous = (sigma, denoised)
        self._step_index = index + 1  # type: ignore[assignment]
        if not kwargs.get("return_dict", True):
            return (prev_sample,)
        return FlowMatchEulerDiscreteSchedulerOutput(prev_sample=prev_sample)


@contextlib.contextmanager
def sampler_installed(pipe: Any, sampler: str) -> Iterator[ScheduledFlowScheduler]:
    """The pipeline steps with ``sampler`` inside the block and has its own scheduler back after it."""
    own = pipe.scheduler
    pipe.scheduler = ScheduledFlowScheduler.for_sampler(own.config, sampler)
    try:
        yield pipe.scheduler
    finally:
        pipe.scheduler = own


def initial_latents(seed: int, width: int, height: int, device: torch.device,
                    arch: Architecture = DEFAULT) -> torch.Tensor:
    """The starting noise of ZImagePipeline.prepare_latents for a CPU generator with this seed."""
    from diffusers.utils.torch_utils import randn_tensor

    generator = torch.Generator("cpu").manual_seed(seed)
    shape = (1, arch.latent_channels, height // arch.vae_scale, width // arch.vae_scale)
    return randn_tensor(shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32).to(device)
