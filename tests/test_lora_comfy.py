"""Our LoRA PNGs' ComfyUI graph run in a real ComfyUI server (the kit's, loopback, CPU).

The kit's tiny weights, LoRAs for its transformer in its ``models/loras`` (a kohya LoRA with the
fused qkv, a LyCORIS LoHa and LoKr), a picture made here with them, saved as our PNG; the PNG's
``prompt`` graph (``LoraLoaderModelOnly`` nodes chained from the model loader) is queued unchanged
on the server and its picture must equal ours within one grey level — the key mapping and the
strength semantics are ComfyUI's. Skipped with the reason when the kit's venv is not there.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
import torch

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.engine import request as request_module
from zimage_desktop.engine.request import GenerationRequest, LoraRef
from zimage_desktop.remote.client import ComfyClient
from zimage_desktop.remote.http import ServerConfig

pytestmark = [pytest.mark.comfy, pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing())]


@pytest.fixture(autouse=True)
def small_images(monkeypatch):
    """64×64 images: the kit's VAE has the real model's size."""
    monkeypatch.setattr(request_module, "MIN_SIDE", 64)


def write_kohya_lora(shapes: dict[str, tuple[int, int]], path, rank: int = 4, alpha: float = 2.0) -> None:
    """A kohya LoRA as sd-scripts writes one for Z-Image: ``lora_unet_`` + ComfyUI's module names
    (fused ``attention_qkv``, ``attention_out``, ``feed_forward_w1``), lora_down/up + alpha."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(11)
    state = {}
    for name, (out, inp) in shapes.items():
        if not name.startswith("layers.") or not name.endswith(tl.TARGETS) or name.endswith((".to_k", ".to_v")):
            continue
        if name.endswith(".to_q"):
            name, out = name[: -len(".to_q")] + ".qkv", out * 3
        key = "lora_unet_" + name.replace(".attention.to_out.0", ".attention.out").replace(".", "_")
        state[f"{key}.lora_down.weight"] = (torch.randn(rank, inp, generator=g) * 0.2).to(torch.bfloat16)
        state[f"{key}.lora_up.weight"] = (torch.randn(out, rank, generator=g) * 0.2).to(torch.bfloat16)
        state[f"{key}.alpha"] = torch.tensor(alpha)
    save_file(state, str(path))


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.lora_weights import linear_shapes
    from zimage_desktop.engine.planner import reference_plan

    python = comfy_kit.kit_python()
    assert python is not None
    root = tmp_path_factory.mktemp("comfy-lora")
    models = comfy_kit.build_weights(python, root / "models")
    local = comfy_kit.local_models(models, root / "local")
    gen = Generator(local, device="cpu", plan=reference_plan("cpu"))
    gen.ensure_loaded()
    assert gen.pipe is not None
    shapes = linear_shapes(gen.pipe.transformer)
    loras = models / "loras"
    loras.mkdir(exist_ok=True)
    write_kohya_lora(shapes, loras / "kit_kohya.safetensors")
    tl.write_lycoris(shapes, loras / "kit_loha.safetensors", "loha", "kohya", magnitude=0.5)
    tl.write_lycoris(shapes, loras / "kit_lokr.safetensors", "lokr", "lycoris", magnitude=0.5)
    os.symlink(loras, local / "loras")
    server = comfy_kit.KitServer(python, models, root / "server").start()
    try:
        server.wait_ready()
        yield {"gen": gen, "server": server, "root": root}
    finally:
        server.stop()


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def our_png_graph(kit, request: GenerationRequest):
    """Our picture, saved as the app saves it, and the ComfyUI graph its PNG carries."""
    from PIL import Image

    from zimage_desktop.config import Paths
    from zimage_desktop.history.saving import save_generated

    made = kit["gen"].run(request).images[0]
    saved = save_generated(made, Paths(kit["root"] / "data"), None)
    with Image.open(saved.path) as png:
        graph = json.loads(png.text["prompt"])
        return pixels(png), graph


def comfy_picture(kit, graph) -> np.ndarray:
    from PIL import Image

    client = ComfyClient(ServerConfig("kit", kit["server"].url, timeout_s=60))
    outcome = client.run(graph, previews=False)
    assert not outcome.cancelled and len(outcome.images) == 1
    return pixels(Image.open(io.BytesIO(outcome.images[0])))


@pytest.mark.parametrize("loras", [(("kit_kohya", 0.8),), (("kit_loha", 0.7), ("kit_lokr", -0.6))],
                         ids=["kohya", "loha+lokr"])
def test_our_lora_png_graph_makes_the_same_picture_in_comfyui(kit, loras):
    base = dict(prompt="a lantern on a snowy street", width=64, height=64, steps=2, seed=777)
    ours, graph = our_png_graph(kit, GenerationRequest(**base, loras=tuple(LoraRef(n, s) for n, s in loras)))
    chain = [node["inputs"] for node in graph.values() if node["class_type"] == "LoraLoaderModelOnly"]
    assert [(c["lora_name"], c["strength_model"]) for c in chain] == [(f"{n}.safetensors", s) for n, s in loras]
    plain, _ = our_png_graph(kit, GenerationRequest(**base))
    print(f"LoRA change: mean {np.abs(ours - plain).mean():.2f} grey levels")
    assert np.abs(ours - plain).mean() > 2  # the LoRAs change the picture
    theirs = comfy_picture(kit, graph)
    diff = np.abs(ours - theirs)
    print(f"LoRA graph {loras}: max {diff.max()}, mean {diff.mean():.4f} grey levels")
    assert diff.max() <= 1, (diff.max(), diff.mean())
