"""The exported ComfyUI graph of an edit (img2img, inpaint, outpaint) or a control carries the schedule
that was used: ZImagePipeline's own ("diffusers"), where ComfyUI's "simple" differs from it, goes as
ManualSigmas into SamplerCustom with exactly the sigmas our engine ran (an edit's last steps, a
control's segments), parsed the way ComfyUI's ManualSigmas parses them; "simple" stays a KSampler."""

from __future__ import annotations

import re

import pytest
import torch

from zimage_desktop.engine.edit_run import steps_run
from zimage_desktop.engine.request import ControlRef, GenerationRequest
from zimage_desktop.engine.sampling import schedule
from zimage_desktop.history.comfy_export import api_prompt
from tests.fixtures.edit_pictures import write_edit_pictures

MODEL = {"roles": {"transformer": "z_image_turbo_bf16.safetensors", "text_encoder": "qwen_3_4b.safetensors",
                   "vae": "ae.safetensors"}}
STEPS = 9  # 1000 / 9 is not whole: "simple" is not the diffusers schedule


def _f32(values) -> list[float]:
    return torch.tensor(values, dtype=torch.float32).tolist()


def _parsed(text: str) -> list[float]:
    """ComfyUI's ManualSigmas: its regular expression, then a float32 tensor."""
    return torch.FloatTensor([float(v) for v in re.findall(r"[-+]?(?:\d*\.*\d+)", text)]).tolist()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    return write_edit_pictures(tmp_path_factory.mktemp("pictures"))


def _edit(pictures, mode: str, **more) -> GenerationRequest:
    fields = dict(prompt="a poster", width=512, height=384, steps=STEPS, seed=3, mode=mode,
                  source=str(pictures / "src.png"), strength=0.6, scheduler="diffusers")
    if mode == "inpaint":
        fields["mask"] = str(pictures / "mask.png")
    if mode == "outpaint":
        fields.update(outpaint=(128, 0, 0, 64), width=640, height=448, strength=1.0)
    fields.update(more)
    return GenerationRequest(**fields)


def _samplers(graph: dict) -> list[dict]:
    """The sampling nodes from the decoder back to the first (each takes the one before's latent)."""
    found, node = [], graph[graph["8"]["inputs"]["samples"][0]]
    while node["class_type"] in ("SamplerCustom", "KSampler", "KSamplerAdvanced"):
        found.append(node)
        node = graph[node["inputs"]["latent_image"][0]]
    return found[::-1]


@pytest.mark.parametrize("mode", ["img2img", "inpaint", "outpaint"])
def test_an_edit_with_the_diffusers_schedule_exports_the_sigmas_it_ran(pictures, mode):
    request = _edit(pictures, mode)
    graph = api_prompt(request, MODEL)
    assert not any(n["inputs"].get("scheduler") == "simple" for n in graph.values())
    (sampler,) = _samplers(graph)
    assert sampler["class_type"] == "SamplerCustom" and sampler["inputs"]["add_noise"] is True
    assert graph[sampler["inputs"]["sampler"][0]]["inputs"]["sampler_name"] == request.sampler
    ran = _parsed(graph[sampler["inputs"]["sigmas"][0]]["inputs"]["sigmas"])
    full = [*schedule("diffusers", STEPS, 3.0), 0.0]
    begin = STEPS - steps_run(STEPS, request.strength)  # the engine's edit_run.denoise runs sigmas[begin:]
    assert ran == _f32(full[begin:]) and len(ran) == steps_run(STEPS, request.strength) + 1
    assert ran != _f32([*schedule("simple", STEPS, 3.0), 0.0][begin:])
    # the sampler still starts from the edit's latent (the encoded source, with its mask for an inpaint)
    latent = graph[sampler["inputs"]["latent_image"][0]]["class_type"]
    assert latent == ("VAEEncode" if mode == "img2img" else "SetLatentNoiseMask")


@pytest.mark.parametrize("mode", ["img2img", "inpaint"])
def test_an_edit_with_the_simple_schedule_keeps_comfyuis_ksampler(pictures, mode):
    for request in (_edit(pictures, mode, scheduler="simple"), _edit(pictures, mode, steps=8)):  # 8 divides 1000
        (sampler,) = _samplers(api_prompt(request, MODEL))
        assert sampler["class_type"] == "KSampler" and sampler["inputs"]["scheduler"] == "simple"


def _control(start: float = 0.0, end: float = 1.0) -> ControlRef:
    return ControlRef("canny", None, image_sha256="ab" * 32, strength=0.8, start=start, end=end)


def test_a_control_with_the_diffusers_schedule_exports_its_sigmas():
    request = GenerationRequest(prompt="a cat", seed=4, steps=STEPS, scheduler="diffusers", controls=(_control(),))
    graph = api_prompt(request, MODEL)
    (sampler,) = _samplers(graph)
    assert sampler["class_type"] == "SamplerCustom" and graph[sampler["inputs"]["model"][0]]["class_type"] == \
        "ZImageFunControlnet"
    assert _parsed(graph[sampler["inputs"]["sigmas"][0]]["inputs"]["sigmas"]) == _f32(
        [*schedule("diffusers", STEPS, 3.0), 0.0])


@pytest.mark.parametrize("edit", [False, True])
def test_a_control_over_part_of_the_steps_splits_the_diffusers_schedule_into_its_segments(pictures, edit):
    control = _control(start=0.3, end=0.7)
    request = _edit(pictures, "img2img", strength=0.8, controls=(control,)) if edit else \
        GenerationRequest(prompt="a cat", seed=4, steps=STEPS, scheduler="diffusers", controls=(control,))
    graph = api_prompt(request, MODEL)
    samplers = _samplers(graph)
    full = _f32([*schedule("diffusers", STEPS, 3.0), 0.0])
    begin = STEPS - steps_run(STEPS, request.strength) if edit else 0
    first, last = (max(begin, round(f * STEPS)) for f in (control.start, control.end))
    cuts = [c for c in (begin, first, last, STEPS) if c >= begin]
    spans = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    assert len(samplers) == len(spans) >= 2 and all(s["class_type"] == "SamplerCustom" for s in samplers)
    for number, (sampler, (a, b)) in enumerate(zip(samplers, spans)):
        assert _parsed(graph[sampler["inputs"]["sigmas"][0]]["inputs"]["sigmas"]) == full[a:b + 1]
        assert sampler["inputs"]["add_noise"] is (number == 0)  # later segments go on from the leftover noise
        patched = graph[sampler["inputs"]["model"][0]]["class_type"] == "ZImageFunControlnet"
        assert patched is (a >= first and b <= last)  # the control acts on its own steps only
