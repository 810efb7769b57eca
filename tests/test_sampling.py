"""Same seed, same picture as ComfyUI: its "simple" schedule, its noise, its euler and res_multistep
samplers, checked against a reference written here from diffusers components and the published
rules (MODEL_FACTS "ComfyUI's sampling"), not from our engine."""

import math

import numpy as np
import pytest
import torch

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.engine.sampling import diffusers_sigmas, schedule, simple_sigmas

COMFY_SEED = 47447417949230


def comfy_simple_sigmas(steps: int) -> list[float]:
    """σ(k/1000) = 3t/(1+2t) for k = 1…1000; step x takes entry −(1 + int(x·1000/steps)); then 0."""
    table = [3 * t / (1 + 2 * t) for t in (k / 1000 for k in range(1, 1001))]
    return [table[-(1 + int(x * 1000 / steps))] for x in range(steps)] + [0.0]


def test_simple_schedule_is_comfyuis_and_differs_from_the_pipelines_at_9_steps():
    for steps in (1, 4, 8, 9, 20, 30):
        assert simple_sigmas(steps, 3.0) == pytest.approx(comfy_simple_sigmas(steps)[:-1], abs=1e-6)
    assert simple_sigmas(9, 3.0)[0] == 1.0
    assert max(abs(a - b) for a, b in zip(simple_sigmas(8, 3.0), diffusers_sigmas(8, 3.0))) < 1e-6
    gap = max(abs(a - b) for a, b in zip(simple_sigmas(9, 3.0), diffusers_sigmas(9, 3.0)))
    assert 1.5e-3 < gap < 2.0e-3  # MODEL_FACTS: "differ by up to 1.8e-3 in σ"
    with pytest.raises(ValueError):
        schedule("karras", 8, 3.0)


def test_diffusers_schedule_is_exactly_the_pipeline_schedulers():
    from diffusers import FlowMatchEulerDiscreteScheduler

    from zimage_desktop.devkit.tiny import build_tiny_pipeline

    scheduler = FlowMatchEulerDiscreteScheduler.from_config(build_tiny_pipeline(seed=0).scheduler.config)
    for steps in (8, 9):
        scheduler.set_timesteps(sigmas=torch.linspace(1.0, 1 / steps, steps).tolist())
        assert diffusers_sigmas(steps, 3.0) == scheduler.sigmas[:-1].tolist()


@torch.no_grad()
def reference_image(gen, prompt: str, seed: int, steps: int, sampler: str, width: int, height: int):
    """ComfyUI's recipe on the pipeline's own transformer and VAE, step by step."""
    pipe = gen.pipe
    embeds = gen.prompts.encode(prompt).to(dtype=gen.dtype)
    sigmas = comfy_simple_sigmas(steps)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # ComfyUI's prepare_noise: the global CPU generator, float32
        x = torch.randn([1, 16, height // 8, width // 8], dtype=torch.float32, device="cpu")
    previous = None
    for i in range(steps):
        s, s_next = sigmas[i], sigmas[i + 1]
        out = pipe.transformer([x[0].unsqueeze(1).to(pipe.transformer.dtype)], torch.tensor([1.0 - s]), [embeds],
                               return_dict=False)[0]
        v = -out[0].float().squeeze(1).unsqueeze(0)  # the flow velocity: x_next = x + (s_next - s)·v
        denoised = x - s * v
        if sampler == "euler" or previous is None or s_next == 0:
            x = x + (s_next - s) * v
        else:
            # RES second order in closed form: exact integral in t = −log σ of a data term that is
            # linear through the previous and the current denoised estimates.
            s_prev, d_prev = previous
            h, h_prev = math.log(s / s_next), math.log(s_prev / s)
            x = (math.exp(-h) * x + -math.expm1(-h) * denoised
                 + (h + math.expm1(-h)) / h_prev * (denoised - d_prev))
        previous = (s, denoised)
    vae = pipe.vae
    decoded = vae.decode(x.to(vae.dtype) / vae.config.scaling_factor + vae.config.shift_factor, return_dict=False)[0]
    # ComfyUI's VAE.decode (float32, then (x + 1) / 2 clamped) and SaveImage (truncation)
    unit = torch.clamp((decoded.float() + 1.0) / 2.0, min=0.0, max=1.0)[0].permute(1, 2, 0).numpy()
    return np.clip(255. * unit, 0, 255).astype(np.uint8).astype(np.int16)


@pytest.mark.parametrize("steps, sampler", [(8, "euler"), (9, "euler"), (8, "res_multistep"), (9, "res_multistep")])
def test_generation_matches_comfyuis_recipe(generators, steps, sampler):
    gen = generators["diffusers"]
    req = GenerationRequest(prompt="一只熊猫 a panda", seed=COMFY_SEED, steps=steps, width=256, height=256,
                            sampler=sampler, scheduler="simple")
    ours = np.asarray(gen.run(req).images[0].image, dtype=np.int16)
    ref = reference_image(gen, req.prompt, COMFY_SEED, steps, sampler, 256, 256)
    diff = np.abs(ours - ref)
    assert diff.max() <= 1 and diff.mean() < 0.01, (diff.max(), diff.mean())


def test_schedule_and_sampler_change_the_picture(generators):
    gen = generators["diffusers"]
    base = dict(prompt="a lighthouse", seed=3, steps=9, width=256, height=256)
    images = {key: np.asarray(gen.run(GenerationRequest(**base, **kw)).images[0].image, dtype=np.int16)
              for key, kw in {"simple": {}, "diffusers": {"scheduler": "diffusers"},
                              "res": {"sampler": "res_multistep"}}.items()}
    assert np.abs(images["simple"] - images["diffusers"]).max() > 0
    assert np.abs(images["simple"] - images["res"]).mean() > 0.5


def test_previews_follow_the_res_multistep_estimate(generators):
    gen = generators["comfy"]
    events = []
    gen.run(GenerationRequest(prompt="a tree", seed=1, width=256, height=256, sampler="res_multistep"),
            on_step=events.append)
    assert [e.step for e in events] == list(range(1, 9))
    assert all(e.preview is not None and e.preview.shape == (32, 32, 3) for e in events)
