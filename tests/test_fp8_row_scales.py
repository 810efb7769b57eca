"""Row-wise scaled FP8 files (engine/fp8_scales.py): each weight matrix in float8_e4m3fn with one
scale per output row (``scale_weight`` shaped (rows, 1) or (rows,), real weight = fp8 × its row's
scale), as row-wise quantizing tools write them beside ComfyUI's per-tensor files. The picture and
the weights match the unscaled file's; a scale row that is missing, infinite or NaN is refused in
one sentence."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from tests.fixtures import build_tiny_pipeline, write_comfy_folder
from zimage_desktop.cli import main
from zimage_desktop.devkit.keys import transformer_to_comfy
from zimage_desktop.devkit.tiny import scaled_fp8_state
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.request import GenerationRequest

REQ = GenerationRequest(prompt="a small house by a lake", seed=21, width=256, height=256)
LAYER = "layers.0.feed_forward.w1"  # a plain Linear (the fused qkv is split into row views on load)
SHAPES = {"rows-by-one": (-1, 1), "vector": (-1,)}


def _psnr(a, b) -> float:
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The tiny transformer as bf16 (the unscaled reference), per-tensor scaled FP8, and row-wise
    scaled FP8 in both scale shapes, side by side."""
    root = tmp_path_factory.mktemp("rows") / "models"
    pipe = build_tiny_pipeline(seed=0)
    write_comfy_folder(pipe, root)
    state = transformer_to_comfy(dict(pipe.transformer.state_dict()))
    save_file(scaled_fp8_state(state), str(root / "diffusion_models" / "tiny_fp8_tensor.safetensors"))
    for name, shape in SHAPES.items():
        save_file(scaled_fp8_state(state, rows=shape), str(root / "diffusion_models" / f"tiny_fp8_{name}.safetensors"))
    return root, pipe


def _effective(gen: Generator) -> torch.Tensor:
    layer = gen.pipe.transformer.get_submodule(LAYER)
    with torch.no_grad():
        out = layer(torch.eye(layer.in_features, dtype=gen.dtype)).float()
        if layer.bias is not None:
            out = out - layer.bias.float()
    return out.T  # row i of x·Wᵀ with x = I is column i of Wᵀ


@pytest.mark.parametrize("shape", list(SHAPES))
def test_row_scaled_fp8_makes_the_unscaled_files_picture(folder, shape):
    from safetensors import safe_open

    root, pipe = folder
    path = root / "diffusion_models" / f"tiny_fp8_{shape}.safetensors"
    with safe_open(str(path), "pt") as f:  # the file is what such tools write
        weight, scale = f.get_tensor(f"{LAYER}.weight"), f.get_tensor(f"{LAYER}.scale_weight")
        assert "scaled_fp8" in f.keys()
    assert weight.dtype == torch.float8_e4m3fn and scale.numel() == weight.shape[0] > 1
    assert len(set(scale.flatten().tolist())) > 1  # really one scale per row
    own = weight.float() * scale.float().reshape(-1, 1)  # what the file means

    plan = reference_plan()
    reference = Generator(root, device="cpu", plan=plan).run(replace(REQ, transformer="tiny_zimage_bf16.safetensors"))
    gen = Generator(root, device="cpu", plan=plan)
    rows = gen.run(replace(REQ, transformer=path.name)).images[0].image
    tensor = Generator(root, device="cpu", plan=plan).run(replace(REQ, transformer="tiny_fp8_tensor.safetensors"))
    # the layer computes with the file's own weights (row i scaled by its own scale, not column i)
    effective = _effective(gen)
    assert float((effective - own).abs().max()) <= 1e-3 * float(own.abs().max())
    original = pipe.transformer.get_submodule(LAYER).weight.detach().float()
    assert float((effective - original).norm() / original.norm()) < 0.05  # e4m3's own rounding, per row
    # and the picture is the unscaled file's, as close as the per-tensor file's or closer
    assert _psnr(rows, reference.images[0].image) > 25
    assert _psnr(rows, reference.images[0].image) >= _psnr(tensor.images[0].image, reference.images[0].image) - 1


@pytest.mark.parametrize("damage", ["a row missing", "an infinite row", "a NaN row"])
def test_a_damaged_scale_row_is_refused_in_one_sentence(folder, tmp_path, data_dir, capsys, damage):
    from safetensors.torch import load_file

    root, _ = folder
    models = tmp_path / "models"
    write_comfy_folder(build_tiny_pipeline(seed=0), models)
    for path in (models / "diffusion_models").iterdir():
        path.unlink()
    state = load_file(str(root / "diffusion_models" / "tiny_fp8_rows-by-one.safetensors"))
    key = f"{LAYER}.scale_weight"
    if damage == "a row missing":
        state[key] = state[key][:-1].clone()
    else:
        state[key] = state[key].clone()
        state[key][3] = float("inf") if damage == "an infinite row" else float("nan")
    save_file(state, str(models / "diffusion_models" / "tiny_fp8_rows.safetensors"))
    out = tmp_path / "o.png"
    assert main(["generate", "--models", str(models), "--prompt", "fox", "--seed", "1", "--width", "256",
                 "--height", "256", "--no-history", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    words = "numbers for a weight of" if damage == "a row missing" else "is not a finite number"
    assert "is a scaled FP8 file, but the scale of" in err and LAYER in err and words in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
