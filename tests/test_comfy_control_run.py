"""A control graph from our PNGs, run end to end in the unmodified ComfyUI of the kit: the kit's
tiny weights, a tiny ControlNet Union 2.1 of the kit's width in the server's
``models/model_patches``, and the preprocessed control image in its ``input/``. The picture
ComfyUI makes is compared with ours from the same files (run under ``flock /work/heavy.lock``)."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.engine import request as request_module

pytestmark = [
    pytest.mark.comfy, pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing()),
]
KIT_DIT = {"dim": 1152, "n_heads": 9, "n_kv_heads": 9}  # the kit's README


def test_a_control_graph_runs_in_comfyui_and_makes_our_picture(tmp_path, monkeypatch):
    from bench.comfyui_control_graph import SITECUSTOMIZE, run_graph

    from zimage_desktop.devkit.controlnet import write_tiny_controlnet
    from zimage_desktop.engine.control_images import open_source, prepare
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import ControlRef, GenerationRequest
    from zimage_desktop.history.comfy_export import api_prompt

    monkeypatch.setattr(request_module, "MIN_SIDE", 64)
    python = comfy_kit.kit_python()
    assert python is not None
    kit = comfy_kit.build_weights(python, tmp_path / "kit")
    local = comfy_kit.local_models(kit, tmp_path / "local")
    patch = write_tiny_controlnet(local, "2.1", transformer=KIT_DIT)
    work = tmp_path / "work"
    (work / "models" / "model_patches").mkdir(parents=True)
    shutil.copy(patch, work / "models" / "model_patches" / patch.name)
    drawing = tmp_path / "drawing.png"
    picture = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(picture).ellipse((10, 10, 54, 50), fill="black")
    picture.save(drawing)
    (work / "input").mkdir()
    prepare("canny", open_source(drawing), 64, 64).image.save(work / "input" / "control.png")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)

    ours = Generator(local, device="cpu", plan=reference_plan("cpu"))
    facts = json.loads((kit / "tiny_zimage.json").read_text())["files"]
    model = {"roles": {"transformer": Path(facts["dit"]).name, "text_encoder": Path(facts["te"]).name,
                       "vae": Path(facts["vae"]).name}, "controls": [{"name": patch.name, "prepared": "control.png"}]}
    # the server works in ``work`` (its model_patches and input are there already), with the hook
    with comfy_kit.kit_servers(python, {"work": kit}, tmp_path, preview="none", pythonpath=hook) as servers:
        pictures = {}
        for strength in (1.0, 0.0):
            req = GenerationRequest(prompt="a round logo", width=64, height=64, steps=2, seed=5,
                                    controls=(ControlRef("canny", str(drawing), None, strength),))
            theirs = np.asarray(Image.open(io.BytesIO(run_graph(servers["work"].url, api_prompt(req, model),
                                                                timeout=600))).convert("RGB"), dtype=np.int16)
            mine = np.asarray(ours.run(req).images[0].image.convert("RGB"), dtype=np.int16)
            pictures[strength] = (theirs, mine)
            diff = np.abs(theirs - mine)
            print(f"strength {strength}: ComfyUI vs ours: max {diff.max()}, mean {diff.mean():.3f} grey levels")
            assert diff.max() <= 1, diff.max()
        # and the control did something in ComfyUI too
        assert np.abs(pictures[1.0][0] - pictures[0.0][0]).mean() > 0.5
        # the diffusers schedule (3 steps: "simple" differs) with the control over the first two steps:
        # two ManualSigmas → SamplerCustom segments, the second going on from the first's leftover noise
        req = GenerationRequest(prompt="a round logo", width=64, height=64, steps=3, seed=5, scheduler="diffusers",
                                controls=(ControlRef("canny", str(drawing), None, 1.0, 0.0, 0.67),))
        graph = api_prompt(req, model)
        assert [n["class_type"] for n in graph.values()].count("SamplerCustom") == 2
        theirs = np.asarray(Image.open(io.BytesIO(run_graph(servers["work"].url, graph, timeout=600))).convert("RGB"),
                            dtype=np.int16)
        mine = np.asarray(ours.run(req).images[0].image.convert("RGB"), dtype=np.int16)
        diff = np.abs(theirs - mine)
        print(f"diffusers schedule, control over 2 of 3 steps: max {diff.max()}, mean {diff.mean():.3f} grey levels")
        assert diff.max() <= 1, diff.max()


def test_an_inpaint_with_a_control_on_the_server_makes_our_picture(tmp_path, monkeypatch):
    """The edit modes use the same hints (engine/control_inpaint.controlled): an inpaint with a
    Union 2.1 control sent to the kit's server through the remote engine (its own graph, uploads
    and paste) equals the local engine's picture."""
    from bench.comfyui_control_graph import SITECUSTOMIZE

    from zimage_desktop.devkit.controlnet import write_tiny_controlnet
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import ControlRef, GenerationRequest
    from zimage_desktop.remote.engine import RemoteEngine
    from zimage_desktop.remote.http import ServerConfig

    monkeypatch.setattr(request_module, "MIN_SIDE", 64)
    python = comfy_kit.kit_python()
    assert python is not None
    kit = comfy_kit.build_weights(python, tmp_path / "kit")
    local = comfy_kit.local_models(kit, tmp_path / "local")
    patch = write_tiny_controlnet(local, "2.1", transformer=KIT_DIT)
    (tmp_path / "work" / "models" / "model_patches").mkdir(parents=True)
    shutil.copy(patch, tmp_path / "work" / "models" / "model_patches" / patch.name)
    rng = np.random.default_rng(5)
    ramp = np.linspace(0, 255, 64, dtype=np.float32)
    base = np.stack([ramp[None, :].repeat(64, 0), ramp[:, None].repeat(64, 1), np.full((64, 64), 90.0)], -1)
    Image.fromarray(np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)).save(tmp_path / "src.png")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 12, 48, 52))
    mask.save(tmp_path / "mask.png")
    drawing = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(drawing).ellipse((10, 10, 54, 50), fill="black")
    drawing.save(tmp_path / "drawing.png")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)

    req = GenerationRequest(prompt="a red door", width=64, height=64, steps=4, seed=77, mode="inpaint",
                            strength=0.75, mask_blur=4, source=str(tmp_path / "src.png"),
                            mask=str(tmp_path / "mask.png"),
                            controls=(ControlRef("canny", str(tmp_path / "drawing.png"), None, 1.0),))
    ours = Generator(local, device="cpu", plan=reference_plan("cpu"))
    mine = np.asarray(ours.run(req).images[0].image.convert("RGB"), dtype=np.int16)
    unguided = np.asarray(ours.run(replace(req, controls=(replace(req.controls[0], strength=0.0),)))
                          .images[0].image.convert("RGB"), dtype=np.int16)
    with comfy_kit.kit_servers(python, {"work": kit}, tmp_path, preview="none", pythonpath=hook) as servers:
        made = RemoteEngine(ServerConfig("kit", servers["work"].url, timeout_s=20), models_dir=local).run(req).images[0]
    theirs = np.asarray(made.image.convert("RGB"), dtype=np.int16)
    diff, control = np.abs(theirs - mine), np.abs(unguided - mine)
    print(f"inpaint with control: ComfyUI vs ours max {diff.max()}, mean {diff.mean():.3f}; "
          f"the control itself moves the picture by mean {control.mean():.2f}")
    assert control.mean() > 0.5  # the control acts, so the comparison can see it
    assert diff.max() <= 1, diff.max()
