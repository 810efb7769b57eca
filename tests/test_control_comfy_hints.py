"""Our ControlNet hints (engine/controlnet_hints.py) against ComfyUI's own ``ZImageControlPatch``
and ``ZImage_Control`` (loaded by its real ``ModelPatchLoader`` from the same Union file), run in
the kit's venv on the same tensors: what each adds after every refiner and main layer, over two
steps, for each published version (1.0, 2.0, 2.1), on a 30-layer transformer and on a 1-layer one
(where ComfyUI's state carries over between steps)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch

from zimage_desktop.devkit import comfy_kit

pytestmark = [
    pytest.mark.comfy, pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing()),
]
DIM, HEADS, AXES, THETA = 96, 3, [8, 12, 12], 256.0  # devkit/tiny.py's transformer
H, W, CAP = 8, 12, 32  # latent grid (24 image tokens, padded to 32), caption tokens
STRENGTH = 0.8

COMFY_SIDE = r'''
import json, sys
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
work = sys.argv[2]
import comfy.options
comfy.options.enable_args_parsing()
sys.argv = ["comfy", "--cpu"]
import torchvision.transforms.functional  # the kit's stand-in, imported as ComfyUI's start-up does (nodes_wanmove)
import folder_paths
import comfy.model_patcher, comfy.model_management, comfy.utils, comfy.ops
import comfy.ldm.lumina.controlnet as lumina_control
from comfy.ldm.flux.layers import EmbedND
from comfy_extras.nodes_model_patch import ModelPatchLoader, ZImageControlPatch

spec = json.load(open(f"{work}/spec.json"))
init = lumina_control.ZImage_Control.__init__
def tiny(self, *args, **kwargs):  # ComfyUI builds Z-Image's sizes; the file is the tiny transformer's
    for key, value in (("dim", spec["dim"]), ("n_heads", spec["heads"]), ("n_kv_heads", spec["heads"])):
        kwargs.setdefault(key, value)
    init(self, *args, **kwargs)
lumina_control.ZImage_Control.__init__ = tiny
folder_paths.add_model_folder_path("model_patches", f"{work}/model_patches")
t = {k: torch.from_numpy(v) for k, v in np.load(f"{work}/tensors.npz").items()}
pe = EmbedND(dim=spec["dim"] // spec["heads"], theta=spec["theta"], axes_dim=spec["axes"])(t["pos"][None]).movedim(1, 2)

class Vae:  # all the patch asks of its VAE once the control latent is encoded
    def spacial_compression_encode(self):
        return 8

out = {}
for version, name in spec["files"].items():
    (model_patch,) = ModelPatchLoader().load_model_patch(name)
    model_patch.model.float()
    for layers in spec["layers"]:
        patch = ZImageControlPatch.__new__(ZImageControlPatch)
        patch.model_patch, patch.vae, patch.strength, patch.temp_data = model_patch, Vae(), spec["strength"], None
        patch.image = patch.inpaint_image = patch.mask = None
        patch.encoded_image = t["context"]
        patch.encoded_image_size = (spec["h"] * 8, spec["w"] * 8)
        x = torch.zeros(1, 16, spec["h"], spec["w"])
        with torch.inference_mode():
            for step in range(2):
                for k in range(2):
                    img = t[f"refined{step}{k}"].clone()
                    patch({"img": img, "img_input": t[f"x_input{step}"], "txt": t["cap"], "pe": pe, "vec": t[f"vec{step}"],
                           "x": x, "block_index": k, "block_type": "noise_refiner"})
                    out[f"{version}/{layers}/{step}/r{k}"] = (img - t[f"refined{step}{k}"]).numpy()
                for i in range(layers):
                    img = t[f"layer{step}_{i}"].clone()
                    patch({"img": img, "img_input": t[f"img_input{step}"], "txt": t["cap"], "pe": pe, "vec": t[f"vec{step}"],
                           "x": x, "block_index": i})
                    out[f"{version}/{layers}/{step}/l{i}"] = (img - t[f"layer{step}_{i}"]).numpy()
np.savez(f"{work}/comfy.npz", **out)
'''


def _pos_ids() -> torch.Tensor:
    """Image token positions as both transformers make them: (caption length + 1, row, column),
    padding tokens at (0, 0, 0)."""
    rows, cols = torch.meshgrid(torch.arange(H // 2), torch.arange(W // 2), indexing="ij")
    ids = torch.stack([torch.full_like(rows, CAP + 1), rows, cols], dim=-1).reshape(-1, 3)
    return torch.cat([ids, torch.zeros(32 - len(ids), 3, dtype=ids.dtype)]).float()


def test_our_hints_equal_comfyuis_patch_for_every_version(tmp_path):
    from diffusers import ZImageTransformer2DModel
    from diffusers.models.transformers.transformer_z_image import RopeEmbedder

    from zimage_desktop.devkit.controlnet import FILE_NAMES, write_tiny_controlnet
    from zimage_desktop.devkit.tiny import TRANSFORMER_CONFIG
    from zimage_desktop.engine.controlnet import load_controlnet
    from zimage_desktop.engine.controlnet_files import identify
    from zimage_desktop.engine.controlnet_hints import hints_for

    python = comfy_kit.kit_python()
    assert python is not None
    files = {v: write_tiny_controlnet(tmp_path, v, seed=4) for v in FILE_NAMES}
    gen = torch.Generator().manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen)

    tensors = {"context": rand(1, 33, H, W), "cap": rand(1, CAP, DIM), "pos": _pos_ids()}
    for step in range(2):
        tensors.update({f"x_input{step}": rand(1, 32, DIM), f"img_input{step}": rand(1, 32, DIM), f"vec{step}": rand(1, DIM)})
        tensors.update({f"refined{step}{k}": rand(1, 32, DIM) for k in range(2)})
        tensors.update({f"layer{step}_{i}": rand(1, 32, DIM) for i in range(30)})
    context16 = tensors["context"][:, :16]
    np.savez(tmp_path / "tensors.npz", **{k: v.numpy() for k, v in tensors.items()})
    layer_counts = [30, 1]
    (tmp_path / "spec.json").write_text(json.dumps({
        "dim": DIM, "heads": HEADS, "axes": AXES, "theta": THETA, "h": H, "w": W, "strength": STRENGTH,
        "layers": layer_counts, "files": {v: p.name for v, p in files.items()}}))
    # ComfyUI's side: 2.x files read the 33-channel context, 1.0 the control latent's 16 channels.
    run_versions = {"2.0": files["2.0"], "2.1": files["2.1"]}
    theirs: dict[str, np.ndarray] = {}
    for versions, context in ((run_versions, tensors["context"]), ({"1.0": files["1.0"]}, context16)):
        work = tmp_path / f"run-{'-'.join(versions)}"
        (work / "model_patches").mkdir(parents=True)
        for path in versions.values():
            (work / "model_patches" / path.name).write_bytes(path.read_bytes())
        np.savez(work / "tensors.npz", **{k: v.numpy() for k, v in {**tensors, "context": context}.items()})
        spec = json.loads((tmp_path / "spec.json").read_text())
        (work / "spec.json").write_text(json.dumps({**spec, "files": {v: p.name for v, p in versions.items()}}))
        run = subprocess.run([str(python), "-c", COMFY_SIDE, str(comfy_kit.kit_dir() / "ComfyUI"), str(work)],
                             capture_output=True, text=True, timeout=300,
                             env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1",
                                  "PYTHONPATH": str(comfy_kit.kit_dir() / "shim")})
        assert run.returncode == 0, run.stderr[-3000:]
        theirs.update(dict(np.load(work / "comfy.npz")))

    transformer = ZImageTransformer2DModel(**{**TRANSFORMER_CONFIG, "n_refiner_layers": 2})
    freqs = RopeEmbedder(theta=THETA, axes_dims=AXES, axes_lens=[1536, 512, 512])(tensors["pos"].long())[None]
    worst = 0.0
    for version, path in files.items():
        net = load_controlnet(identify(path), transformer, torch.float32, torch.device("cpu"))
        context = (context16 if version == "1.0" else tensors["context"]).unsqueeze(2)
        for layers in layer_counts:
            hints = hints_for(net, context, STRENGTH)
            added = 0
            with torch.inference_mode():
                for step in range(2):
                    hints.x_input, hints.freqs, hints.adaln = tensors[f"x_input{step}"], freqs, tensors[f"vec{step}"]
                    outs = {}
                    for k in range(2):
                        outs[f"r{k}"] = hints.after_refiner(k, tensors[f"refined{step}{k}"]) - tensors[f"refined{step}{k}"]
                    hints.img_input = tensors[f"img_input{step}"]
                    for i in range(layers):
                        unified = torch.cat([tensors[f"layer{step}_{i}"], tensors["cap"]], dim=1)  # diffusers: image first
                        delta = hints.after_layer(i, unified) - unified
                        assert not delta[:, 32:].any(), "a hint reached the caption tokens"
                        outs[f"l{i}"] = delta[:, :32]
                    for key, ours in outs.items():
                        comfy = torch.from_numpy(theirs[f"{version}/{layers}/{step}/{key}"])
                        assert ours.shape == comfy.shape
                        # float32 on both sides, rope as complex numbers vs rotation matrices
                        off = float((ours - comfy).abs().max()) / (float(comfy.abs().max()) or 1.0)
                        assert off <= 1e-4, (version, layers, step, key, off)
                        assert ours.any() == comfy.any(), (version, layers, step, key)
                        worst = max(worst, off)
                        added += int(bool(comfy.any()))
            assert added > 0, (version, layers)  # the control did act
    print(f"hints vs ComfyUI's ZImageControlPatch: max difference {worst:.2e} of the largest hint")
