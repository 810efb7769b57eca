"""The CPU's fast GGUF decoders (engine/gguf_fast.py): the same values as gguf-py's reference
dequantizer, the same layer outputs as diffusers' GGUFLinear within float16 rounding, no byte more
held, and the loaders use them for the transformer and the text encoder."""

import gguf
import numpy as np
import pytest
import torch
from diffusers.quantizers.gguf.utils import GGUFLinear, GGUFParameter

from zimage_desktop.devkit.gguf_files import encode_tensor
from zimage_desktop.devkit import fast_reference
from zimage_desktop.engine import gguf_fast
from zimage_desktop.engine.gguf_fast import FastGGUFLinear, dequantize_into, fast_type, speed_up

FAST = ("Q8_0", "Q4_K", "Q6_K")


def _weight(kind: str, rows: int = 48, cols: int = 512, seed: int = 0) -> tuple[GGUFParameter, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Rows of very different magnitudes, an all-zero row and outliers: every scale path is used.
    values = rng.standard_normal((rows, cols)).astype(np.float32) * np.logspace(-4, 0, rows, dtype=np.float32)[:, None]
    values[3] = 0
    values[5, ::37] = 3.0
    blocks, raw = encode_tensor(values, kind)
    assert raw == gguf.GGMLQuantizationType[kind]
    return GGUFParameter(torch.from_numpy(blocks), quant_type=raw), gguf.quants.dequantize(blocks, raw)


@pytest.mark.parametrize("kind", FAST)
@pytest.mark.parametrize("slice_rows", [None, 5])
def test_decoders_give_exactly_gguf_pys_values(kind, slice_rows, monkeypatch):
    if slice_rows is not None:  # slices of 5 rows of 48: nine whole ones and one of 3 (the real size: one)
        monkeypatch.setattr(gguf_fast, "DECODE_SLICE_VALUES", 512 * slice_rows)
    weight, reference = _weight(kind)
    ours = dequantize_into(weight).numpy()
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference)
    # Into a reused buffer too (the forward's path), after other values were there.
    buffer = torch.full((weight.shape[0] * reference.shape[1],), float("nan"))
    np.testing.assert_array_equal(dequantize_into(weight, buffer).numpy(), reference)


@pytest.mark.parametrize("kind", sorted(fast_reference.DECODERS))
def test_sliced_decoders_match_the_old_whole_tensor_ones_bit_for_bit(kind, monkeypatch):
    """Round 36 decodes in slices of rows with 64-bit word operations: on the odd shapes a file can
    have (one block a row, rows not a multiple of the slice) the values are the old decoder's."""
    monkeypatch.setattr(gguf_fast, "DECODE_SLICE_VALUES", 256 * 7)
    for rows, cols in ((37, 256), (16, 1280), (6, 768)):
        weight, _ = _weight(kind, rows=rows, cols=cols, seed=rows)
        raw = weight.as_tensor().view(torch.uint8).reshape(rows, -1)
        old = fast_reference.DECODERS[kind](raw, rows, cols, torch.empty(rows * cols))
        assert torch.equal(dequantize_into(weight), old.view(rows, cols))


@pytest.mark.parametrize("kind", FAST)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("tokens", [7, 40])  # 14 tokens: multiplied a slice at a time; 80: whole
def test_fast_linear_matches_diffusers_gguf_linear(kind, dtype, tokens, monkeypatch):
    monkeypatch.setattr(gguf_fast, "DECODE_SLICE_VALUES", 768 * 5)  # 13 slices of rows, the last of 4
    weight, reference = _weight(kind, rows=64, cols=768, seed=1)
    x = torch.randn(2, tokens, 768, generator=torch.Generator().manual_seed(2)).to(dtype)
    bias = torch.nn.Parameter(torch.randn(64).to(dtype), requires_grad=False)
    layers = []
    for cls in (GGUFLinear, FastGGUFLinear):
        layer = cls(768, 64, bias=True, compute_dtype=dtype)
        layer.weight = torch.nn.Parameter(weight, requires_grad=False)
        layer.bias = bias
        layers.append(layer)
    plain, fast = (layer(x) for layer in layers)
    assert fast.dtype == plain.dtype == dtype and fast.shape == (2, tokens, 64)
    exact = x.float() @ torch.from_numpy(reference).t() + bias.float()
    # The fast path is at least as close to the file's exact values as diffusers' (which rounds
    # its scales to float16), and both agree within that rounding.
    scale = exact.abs().max()
    fast_err = float((fast.float() - exact).abs().max() / scale)
    plain_err = float((plain.float() - exact).abs().max() / scale)
    assert fast_err <= max(plain_err, 1e-6) * 1.01 + (1e-2 if dtype == torch.bfloat16 else 0)
    assert fast_err < (1e-2 if dtype == torch.bfloat16 else 1e-5)


def test_other_types_and_devices_take_diffusers_path():
    weight, reference = _weight("Q5_K", cols=256)
    assert not fast_type(weight)
    layer = FastGGUFLinear(256, 48, bias=False, compute_dtype=torch.float32)
    layer.weight = torch.nn.Parameter(weight, requires_grad=False)
    x = torch.randn(3, 256, generator=torch.Generator().manual_seed(0))
    out = layer(x)
    # exactly diffusers' own forward (its Q5_K decoding rounds scales to float16, ~1e-3 off the file)
    assert torch.equal(out, GGUFLinear.forward_native(layer, x))
    assert torch.allclose(out, x @ torch.from_numpy(reference).t(), atol=5e-3 * out.abs().max().item())


def test_speed_up_keeps_the_bytes_and_the_hooks():
    weight, reference = _weight("Q4_K", rows=32, cols=256)
    model = torch.nn.Sequential(GGUFLinear(256, 32, bias=False, compute_dtype=torch.float32))
    model[0].weight = torch.nn.Parameter(weight, requires_grad=False)
    before = [(p.data_ptr(), p.numel(), p.element_size()) for p in model.parameters()]
    seen = []
    model[0].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    assert speed_up(model) == 1 and type(model[0]) is FastGGUFLinear
    assert [(p.data_ptr(), p.numel(), p.element_size()) for p in model.parameters()] == before
    x = torch.randn(4, 256)
    np.testing.assert_allclose(model(x).numpy(), (x @ torch.from_numpy(reference).t()).numpy(), rtol=1e-5, atol=1e-5)
    assert seen == [torch.Size([4, 32])]


def test_q8_0_files_load_fast_and_make_plain_diffusers_picture(tmp_path):
    """A Q8_0 transformer and a Q8_0 encoder load with fast layers (the K-quant mixes' pictures are
    checked in tests/test_kquants.py), and the picture equals plain diffusers' on the same file."""
    import shutil

    from diffusers import GGUFQuantizationConfig, ZImagePipeline, ZImageTransformer2DModel

    from tests.fixtures import build_tiny_pipeline
    from zimage_desktop.devkit.gguf_files import use_gguf_text_encoder, write_transformer_gguf
    from zimage_desktop.devkit.keys import transformer_to_comfy
    from zimage_desktop.devkit.tiny import write_comfy_folder
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.model_files import resolve_model_set
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import GenerationRequest

    pipe = build_tiny_pipeline(seed=3)
    write_comfy_folder(pipe, tmp_path, transformer="gguf")
    shutil.rmtree(tmp_path / "diffusion_models")
    (tmp_path / "diffusion_models").mkdir()
    types = write_transformer_gguf(transformer_to_comfy(dict(pipe.transformer.state_dict())),
                                   tmp_path / "diffusion_models" / "tiny-Q8_0.gguf", "Q8_0")
    assert "Q8_0" in types.values()
    use_gguf_text_encoder(pipe, tmp_path, "Q8_0")
    ms = resolve_model_set(tmp_path)
    req = GenerationRequest(prompt="a lighthouse", seed=5, width=256, height=256, steps=2)
    gen = Generator(tmp_path, device="cpu", plan=reference_plan("cpu"))
    ours = np.asarray(gen.run(req).images[0].image, np.int16)
    for model in (gen.pipe.transformer, gen.prompts.text_encoder):
        layers = [m for m in model.modules() if isinstance(m, GGUFLinear)]
        assert layers and all(type(m) is FastGGUFLinear for m in layers)
        assert any(fast_type(m.weight) and m.weight.quant_type.name == "Q8_0" for m in layers)
    transformer = ZImageTransformer2DModel.from_single_file(
        str(ms.transformer), quantization_config=GGUFQuantizationConfig(compute_dtype=torch.float32),
        config=str(ms.config_dir), subfolder="transformer", local_files_only=True)
    assert not any(type(m) is FastGGUFLinear for m in transformer.modules())  # diffusers' own layers
    plain = ZImagePipeline(scheduler=gen.pipe.scheduler, vae=gen.pipe.vae, text_encoder=gen.pipe.text_encoder,
                           tokenizer=gen.pipe.tokenizer, transformer=transformer)
    plain.set_progress_bar_config(disable=True)
    image = plain(prompt_embeds=[gen.prompts.encode(req.prompt)], height=256, width=256, num_inference_steps=2,
                  guidance_scale=0.0, generator=torch.Generator("cpu").manual_seed(5)).images[0]
    assert ours.std() > 1
    assert np.abs(np.asarray(image, np.int16) - ours).max() <= 1


def test_matmul_takes_onednn_where_usable_and_falls_back_to_f_linear(monkeypatch):
    """The float32 product behind every fast layer: oneDNN's matmul on an x86 CPU with mkldnn (measured
    faster there), F.linear above the measured token limit, and F.linear for good once the op refuses."""
    x, w, b = torch.randn(9, 64), torch.randn(32, 64), torch.randn(32)
    expected = torch.nn.functional.linear(x, w, b)
    monkeypatch.setattr(gguf_fast, "_onednn", [])
    if gguf_fast._onednn_limit():
        direct = torch.ops.mkldnn._linear_pointwise(x, w, b, "none", [], "")
        assert torch.equal(gguf_fast.matmul(x, w, b), direct)
    torch.testing.assert_close(gguf_fast.matmul(x, w, b), expected, rtol=1e-5, atol=1e-5)
    calls = []

    def refuses(*args):
        calls.append(args)
        raise RuntimeError("no such kernel")

    limit = gguf_fast.ONEDNN_MAX_TOKENS
    monkeypatch.setattr(gguf_fast, "_onednn", [limit])
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", refuses)
    assert torch.equal(gguf_fast.matmul(x, w, b), expected) and len(calls) == 1
    assert gguf_fast._onednn == [0]
    assert torch.equal(gguf_fast.matmul(x, w, b), expected) and len(calls) == 1  # not asked again
    monkeypatch.setattr(gguf_fast, "_onednn", [limit])

    def out_of_memory(*args):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 123 bytes.")

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", out_of_memory)
    with pytest.raises(RuntimeError, match="allocate memory"):  # the engine's recovery says it, not a fallback
        gguf_fast.matmul(x, w, b)
    assert gguf_fast._onednn == [limit]
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", refuses)
    long = torch.randn(limit + 1, 64)
    assert torch.equal(gguf_fast.matmul(long, w, b), torch.nn.functional.linear(long, w, b)) and len(calls) == 1


@pytest.mark.parametrize("capability,machine,expected", [
    ("AVX512", "x86_64", gguf_fast.ONEDNN_MAX_TOKENS_AVX512), ("AVX2", "x86_64", gguf_fast.ONEDNN_MAX_TOKENS),
    ("DEFAULT", "AMD64", gguf_fast.ONEDNN_MAX_TOKENS), ("AVX512", "arm64", 0)])
def test_onednn_token_limit_follows_the_measured_cpu(capability, machine, expected, monkeypatch):
    """oneDNN beat MKL at every token count on an AVX-512 CPU but lost at a 512² step's 1 056 tokens on
    an AVX2 one (docs/PERFORMANCE.md): the limit is chosen by the CPU kernel torch picked; off x86
    it is never used (not measured there)."""
    if not (torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")):
        pytest.skip("this torch has no oneDNN matmul")
    monkeypatch.setattr(gguf_fast, "_onednn", [])
    monkeypatch.setattr(gguf_fast.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    assert gguf_fast._onednn_limit() == expected
