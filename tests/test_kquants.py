"""The test kit's K-quant writer round-trips through gguf-py and diffusers, and K-quant GGUF
transformer mixes (like the published Q4_K_M / Q3_K_M files) generate like plain diffusers."""

import gguf
import numpy as np
import pytest
import torch

from zimage_desktop.devkit import kquants
from zimage_desktop.devkit.gguf_files import KQUANT_TRANSFORMER, write_transformer_gguf
from zimage_desktop.devkit.keys import transformer_to_comfy
from zimage_desktop.devkit.tiny import build_tiny_pipeline, write_comfy_folder
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.request import GenerationRequest

# Relative RMS error bounds for Gaussian weights (ggml's own quantizers reach about
# 0.15 / 0.07 / 0.035 / 0.018 on such data) and the legacy type each must beat.
BOUNDS = {"Q3_K": (0.18, None), "Q4_K": (0.08, "Q4_0"), "Q5_K": (0.04, "Q5_0"), "Q6_K": (0.02, None)}


def _rel_rmse(a, b):
    return float(np.sqrt(((a - b) ** 2).mean() / (b ** 2).mean()))


@pytest.mark.parametrize("quant", BOUNDS)
def test_kquant_round_trips_through_gguf_py(quant):
    rng = np.random.default_rng(1)
    weights = (rng.standard_normal((48, 512)) * 0.02).astype(np.float32)
    weights[5] = 0.0  # an all-zero row (a padding embedding) must stay exactly zero
    weights[6, :256] += 0.05  # an offset block (all positive): the mins of Q4_K/Q5_K matter
    qtype = gguf.GGMLQuantizationType[quant]
    blob = kquants.quantize(weights, quant)
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    assert blob.dtype == np.uint8 and blob.shape == (48, 512 // block * size)
    back = gguf.quants.dequantize(blob, qtype)
    assert back.shape == weights.shape and not np.any(back[5])
    bound, legacy = BOUNDS[quant]
    err = _rel_rmse(back, weights)
    assert err < bound, f"{quant}: relative RMS error {err:.4f}"
    assert _rel_rmse(back[6], weights[6]) < 2 * bound
    if legacy is not None:  # a K-quant is better than the legacy type of the same bits
        ltype = gguf.GGMLQuantizationType[legacy]
        assert err < _rel_rmse(gguf.quants.dequantize(gguf.quants.quantize(weights, ltype), ltype), weights)


@pytest.mark.parametrize("quant", BOUNDS)
def test_diffusers_reads_the_same_values_as_gguf_py(quant):
    from diffusers.quantizers.gguf.utils import GGUFParameter, dequantize_gguf_tensor

    weights = (np.random.default_rng(2).standard_normal((8, 256)) * 0.1).astype(np.float32)
    blob = kquants.quantize(weights, quant)
    qtype = gguf.GGMLQuantizationType[quant]
    ours = dequantize_gguf_tensor(GGUFParameter(torch.from_numpy(blob), quant_type=qtype)).float().numpy()
    expected = gguf.quants.dequantize(blob, qtype)
    # diffusers computes in float16 (the block scales are fp16): equal up to fp16 rounding.
    np.testing.assert_allclose(ours, expected, rtol=0, atol=4e-3 * np.abs(expected).max())


def test_rows_must_hold_whole_superblocks():
    with pytest.raises(ValueError, match="multiple of 256"):
        kquants.quantize(np.zeros((2, 96), np.float32), "Q4_K")


@pytest.fixture(scope="module")
def kquant_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("kquant-transformer")
    pipe = build_tiny_pipeline(seed=3, transformer=KQUANT_TRANSFORMER,
                               text_encoder=dict(hidden_size=256, intermediate_size=512, head_dim=64))
    write_comfy_folder(pipe, root / "bf16")
    state = transformer_to_comfy(dict(pipe.transformer.state_dict()))
    folders = {"bf16": root / "bf16"}
    for mix in ("Q4_K_M", "Q3_K_M"):
        write_comfy_folder(pipe, root / mix, transformer="gguf")
        for old in (root / mix / "diffusion_models").iterdir():
            old.unlink()
        types = write_transformer_gguf(state, root / mix / "diffusion_models" / f"tiny-{mix}.gguf", mix)
        folders[mix] = (root / mix, types)
    return folders


def test_kquant_transformer_mixes_generate_and_match_plain_diffusers(kquant_folders):
    from diffusers import GGUFQuantizationConfig, ZImagePipeline, ZImageTransformer2DModel

    req = GenerationRequest(prompt="a lighthouse", seed=5, width=256, height=256, steps=2)
    plan = reference_plan("cpu")
    ref = np.asarray(Generator(kquant_folders["bf16"], device="cpu", plan=plan).run(req).images[0].image, np.int16)
    expected_types = {"Q4_K_M": {"Q4_K", "Q6_K"}, "Q3_K_M": {"Q3_K", "Q4_K", "Q5_K"}}
    for mix, (folder, types) in ((m, kquant_folders[m]) for m in ("Q4_K_M", "Q3_K_M")):
        assert expected_types[mix] <= set(types.values())
        ms = resolve_model_set(folder)
        assert ms.transformer_format == "gguf" and ms.transformer_form == ("Q4_K" if mix == "Q4_K_M" else "Q3_K")
        gen = Generator(folder, device="cpu", plan=plan)
        ours = np.asarray(gen.run(req).images[0].image, np.int16)
        loaded = {p.quant_type.name for p in gen.pipe.transformer.parameters() if hasattr(p, "quant_type")}
        assert expected_types[mix] <= loaded  # still quantized in memory
        # Plain diffusers on the same file, same embeddings, same seed.
        transformer = ZImageTransformer2DModel.from_single_file(
            str(ms.transformer), quantization_config=GGUFQuantizationConfig(compute_dtype=torch.float32),
            config=str(ms.config_dir), subfolder="transformer", local_files_only=True)
        plain = ZImagePipeline(scheduler=gen.pipe.scheduler, vae=gen.pipe.vae, text_encoder=gen.pipe.text_encoder,
                               tokenizer=gen.pipe.tokenizer, transformer=transformer)
        plain.set_progress_bar_config(disable=True)
        image = plain(prompt_embeds=[gen.prompts.encode(req.prompt)], height=256, width=256, num_inference_steps=2,
                      guidance_scale=0.0, generator=torch.Generator("cpu").manual_seed(5)).images[0]
        assert np.abs(np.asarray(image, np.int16) - ours).max() <= 1, mix
        # And close to the unquantized weights (Q3_K is coarse: a looser bound).
        err = np.abs(ours - ref).mean()
        print(f"{mix}: mean |Δ| vs bf16 {err:.2f} grey levels")
        assert ours.std() > 1 and err < (6.0 if mix == "Q4_K_M" else 12.0), mix
