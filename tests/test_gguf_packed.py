"""GGUF layers converted at load into PyTorch's int8/int4 CPU kernels (engine/gguf_packed.py,
issue 28): close to the file's values, the GGUF bytes let go, the planner's figures what is held,
and the CPU encoder of a generation packed with its picture within the GGUF tolerance."""

import math

import gguf
import numpy as np
import pytest
import torch
from diffusers.quantizers.gguf.utils import GGUFLinear, GGUFParameter

from zimage_desktop.devkit.gguf_files import encode_tensor
from zimage_desktop.engine.gguf_packed import (INT8_KERNEL_MAX_TOKENS, PackedGGUFLinear, pack_cpu_text_encoder,
                                               pack_for_short_inputs)


def _layer(kind: str, rows: int = 64, cols: int = 512, seed: int = 0, bias: bool = False):
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal((rows, cols)) * np.logspace(-3, 0, rows)[:, None]).astype(np.float32)
    values[7] = 0  # an all-zero row: its scale must not divide by zero
    blocks, raw = encode_tensor(values, kind)
    layer = GGUFLinear(cols, rows, bias=bias, compute_dtype=torch.float32)
    layer.weight = torch.nn.Parameter(GGUFParameter(torch.from_numpy(blocks), quant_type=raw), requires_grad=False)
    if bias:
        layer.bias = torch.nn.Parameter(torch.randn(rows), requires_grad=False)
    return layer, torch.from_numpy(gguf.quants.dequantize(blocks, raw))


@pytest.mark.parametrize("kind,form", [("Q4_K", "int4"), ("Q6_K", "int8")])
def test_packed_layer_is_close_to_the_files_values(kind, form):
    layer, exact_w = _layer(kind, bias=True)
    packed = PackedGGUFLinear.from_gguf(layer)
    assert packed.kind == form
    x = torch.randn(2, 50, 512, generator=torch.Generator().manual_seed(1))
    exact = x @ exact_w.t() + layer.bias
    out = packed(x)
    assert out.shape == (2, 50, 64) and out.dtype == torch.float32
    # bf16 activations (and for int8 the per-row requantization): within 1.5 % of the largest output,
    # and every row follows its own scale (the zero row gives zeros plus its bias).
    assert float((out - exact).abs().max() / exact.abs().max()) < 0.015
    assert torch.allclose(out[..., 7], layer.bias[7].expand(2, 50))
    # Bytes held: int4 levels 0.5 + a bf16 (scale, zero) pair per 32; int8 1 + a bf16 scale per row.
    held = sum(p.numel() * p.element_size() for p in packed.parameters() if p is not packed.bias)
    expected = 64 * 512 * 0.5 + 64 * 512 / 32 * 4 if form == "int4" else 64 * 512 + 64 * 2
    assert held == expected


def test_int8_layer_multiplies_long_inputs_in_float32():
    layer, exact_w = _layer("Q6_K")
    packed = PackedGGUFLinear.from_gguf(layer)
    int8_w = packed.weight.float() * packed.scales.float()[:, None]
    long = torch.randn(INT8_KERNEL_MAX_TOKENS + 1, 512, generator=torch.Generator().manual_seed(2))
    # Above the crossover, the float32 path: the int8 weight's exact product, no bf16 rounding of the input.
    torch.testing.assert_close(packed(long), long @ int8_w.t(), rtol=1e-5, atol=1e-5)
    short = long[:INT8_KERNEL_MAX_TOKENS]
    kernel = packed(short)
    assert not torch.allclose(kernel, short @ int8_w.t(), rtol=1e-5, atol=1e-5)  # the kernel's bf16 input
    assert float((kernel - short @ exact_w.t()).abs().max() / (short @ exact_w.t()).abs().max()) < 0.015


def test_pack_replaces_q4_k_and_q6_k_layers_and_lets_their_bytes_go():
    model = torch.nn.Sequential(_layer("Q4_K")[0], _layer("Q6_K", seed=1)[0], _layer("Q8_0", seed=2)[0])
    x = torch.randn(3, 512)
    assert pack_cpu_text_encoder(model, held_on_cpu=False) == 0  # a GPU borrows it: left as is
    assert pack_for_short_inputs(model) == 2
    assert [type(m).__name__ for m in model] == ["PackedGGUFLinear", "PackedGGUFLinear", "GGUFLinear"]
    assert [m.kind for m in model[:2]] == ["int4", "int8"]
    assert not any(isinstance(p, GGUFParameter) for p in model[:2].parameters())  # no GGUF copy beside
    assert model[2].weight.quant_type.name == "Q8_0"  # Q8_0 keeps the fast path
    assert all(m(x).shape == (3, 64) for m in model)


def test_pack_lets_each_layers_bytes_go_before_the_next_layer_converts(monkeypatch):
    """The load's peak holds one layer in both forms, not the whole encoder twice (round 34: the
    full-size Q6_K encoder's window load peaked at 10.8 GiB, 8.8 after)."""
    import weakref

    model = torch.nn.Sequential(*(torch.nn.Sequential(_layer("Q6_K", seed=i)[0]) for i in range(4)))
    gone = [weakref.ref(block[0].weight) for block in model]
    alive_when_converting: list[int] = []
    convert = PackedGGUFLinear.from_gguf.__func__

    def watched(cls, layer):
        alive_when_converting.append(sum(ref() is not None for ref in gone))
        return convert(cls, layer)

    monkeypatch.setattr(PackedGGUFLinear, "from_gguf", classmethod(watched))
    assert pack_for_short_inputs(model) == 4
    # The layer being converted and those not reached yet: every converted layer's GGUF bytes are freed.
    assert alive_when_converting == [4, 3, 2, 1]
    assert all(ref() is None for ref in gone)


def _held_growth(quant: str) -> float:
    """A Qwen3-4B GGUF file's bytes against what its packed form holds, from the real shapes."""
    from transformers import Qwen3Config, Qwen3Model

    from zimage_desktop.devkit.gguf_files import llama_cpp_name, qwen3_type_for
    from zimage_desktop.engine.model_files import shipped_config_dir

    config = Qwen3Config.from_pretrained(str(shipped_config_dir() / "text_encoder"))
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in Qwen3Model(config).state_dict().items()}
    per_weight = {"Q6_K": 210 / 256, "Q4_K": 144 / 256, "F32": 4.0}
    file = held = 0.0
    for name, shape in shapes.items():
        kind = qwen3_type_for(llama_cpp_name(name), quant, config.num_hidden_layers)
        size = math.prod(shape) * per_weight[kind]
        file += size
        if name.startswith("embed_tokens") or kind == "F32":
            held += size
        elif kind == "Q4_K":
            held += math.prod(shape) * (0.5 + 4 / 32)
        else:
            held += math.prod(shape) + shape[0] * 2
    return held / file


def test_planner_counts_what_a_packed_cpu_encoder_holds():
    from zimage_desktop.engine.planner import CPU_HELD_GROWTH, build_table

    for form, quant in (("Q6_K", "Q6_K"), ("Q4_K", "Q4_K_M")):
        assert CPU_HELD_GROWTH[form] == pytest.approx(_held_growth(quant), abs=0.01)
    sizes = {"Q4_K": 1.0, "te:Q6_K": 3.0}

    def encoder_gib(device, te):
        table = build_table(device, "Q4_K", "float32", te, "Q6_K", "none", True, sizes)
        return next(c.gib for c in table.components if c.name == "text_encoder")

    assert encoder_gib("cpu", "cpu") == pytest.approx(3.0 * CPU_HELD_GROWTH["Q6_K"])
    assert encoder_gib("cuda:0", "cpu") == pytest.approx(3.0 * CPU_HELD_GROWTH["Q6_K"])
    assert encoder_gib("cuda:0", "offload") == pytest.approx(3.0)  # a GPU borrows it: never packed
    assert encoder_gib("mps", "cpu") == pytest.approx(3.0)  # a Mac keeps the fast path


def test_cpu_generation_packs_the_gguf_encoder_and_stays_within_the_gguf_tolerance(tmp_path):
    """A Q4_K_M encoder (Q4_K + Q6_K layers) held on the CPU is packed at load; the picture differs
    from the safetensors encoder's by no more than tests/test_gguf_encoder.py allows the GGUF one."""
    import shutil

    from tests.fixtures import build_tiny_pipeline
    from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, use_gguf_text_encoder
    from zimage_desktop.devkit.tiny import write_comfy_folder
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import GenerationRequest

    pipe = build_tiny_pipeline(seed=5, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(pipe, tmp_path / "st")
    shutil.copytree(tmp_path / "st", tmp_path / "gguf")
    use_gguf_text_encoder(pipe, tmp_path / "gguf", "Q4_K_M")
    req = GenerationRequest(prompt="a lighthouse at dusk", seed=11, width=256, height=256, steps=2)
    images = {}
    for name in ("st", "gguf"):
        gen = Generator(tmp_path / name, device="cpu", plan=reference_plan("cpu"))
        images[name] = np.asarray(gen.run(req).images[0].image, np.int16)
    kinds = {m.kind for m in gen.prompts.text_encoder.modules() if isinstance(m, PackedGGUFLinear)}
    assert kinds == {"int4", "int8"}
    assert not any(isinstance(p, GGUFParameter) and p.quant_type.name in ("Q4_K", "Q6_K")
                   for n, p in gen.prompts.text_encoder.named_parameters() if "embed" not in n)
    assert images["gguf"].std() > 1
    one_shot = Generator(tmp_path / "gguf", device="cpu", plan=reference_plan("cpu"), pack_encoder=False)
    assert np.abs(np.asarray(one_shot.run(req).images[0].image, np.int16) - images["gguf"]).mean() < 2
    assert not any(isinstance(m, PackedGGUFLinear) for m in one_shot.prompts.text_encoder.modules())
    assert float(np.abs(images["gguf"] - images["st"]).mean()) < 4.0


def test_standalone_enhancer_on_the_cpu_decodes_with_the_kernels(tmp_path):
    """The prompt enhancer (one token a call) packs a GGUF Q6_K encoder it holds on the CPU, and its
    logits stay as close to the file's as the enhancer's GGUF test allows."""
    from tests.fixtures import build_tiny_pipeline
    from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, use_gguf_text_encoder
    from zimage_desktop.devkit.tiny import write_comfy_folder
    from zimage_desktop.engine.enhance import CausalLM, Sampling
    from zimage_desktop.engine.enhance_session import load_standalone
    from zimage_desktop.engine.loader import load_text_encoder
    from zimage_desktop.engine.model_files import resolve_model_set

    pipe = build_tiny_pipeline(seed=5, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(pipe, tmp_path)
    use_gguf_text_encoder(pipe, tmp_path, "Q6_K")
    enhancer, placement = load_standalone(tmp_path, device_choice="cpu")
    assert placement.device == "cpu"
    packed = [m for m in enhancer.lm.model.modules() if isinstance(m, PackedGGUFLinear)]
    assert packed and {m.kind for m in packed} == {"int8"}
    fast = CausalLM(load_text_encoder(resolve_model_set(tmp_path), torch.float32))
    ids = torch.tensor([[1, 5, 9, 42, 7]])
    with torch.inference_mode():
        got, want = enhancer.lm(ids, last_only=False), fast(ids, last_only=False)
    assert (got - want).abs().max() <= 0.05 * want.abs().max()
    assert enhancer.enhance("a red kite", Sampling(max_new_tokens=4, seed=1, temperature=0.0)).tokens > 0


@pytest.mark.parametrize("enhance", [False, True])
def test_one_prompt_generate_packs_a_cpu_gguf_encoder_only_for_the_enhancer(tmp_path, data_dir, monkeypatch, capsys,
                                                                             enhance):
    """`generate` for one prompt keeps a CPU-held GGUF encoder's layers as they are; with --enhance it
    converts them at load (the enhancer's short calls are where the int kernels win). Measured on the
    full-size Q6_K encoder, idle machine (bench/pack_time.py, round 33): converting costs 9-12 s and a
    100-token encode takes 14.7 s unpacked, 15.2 s packed. Either way the picture is written."""
    import json

    from tests.fixtures import build_tiny_pipeline
    from zimage_desktop.cli import main
    from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, use_gguf_text_encoder
    from zimage_desktop.devkit.tiny import write_comfy_folder
    from zimage_desktop.engine.generator import Generator

    pipe = build_tiny_pipeline(seed=5, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(pipe, tmp_path / "models")
    use_gguf_text_encoder(pipe, tmp_path / "models", "Q6_K")
    made_here: list[Generator] = []
    made = Generator.__init__

    def recording(self, *args, **kwargs):  # the CLI's own Generator, kept to look at after the run
        made(self, *args, **kwargs)
        made_here.append(self)

    monkeypatch.setattr(Generator, "__init__", recording)
    from zimage_desktop.engine.prompts import PromptEncoder

    released: list = []  # the CLI lets its encoder go once the prompt is encoded: look at it then
    release = PromptEncoder.release_encoder
    monkeypatch.setattr(PromptEncoder, "release_encoder", lambda self: released.append(self.text_encoder) or release(self))
    out = tmp_path / "one.png"
    assert main(["generate", "--models", str(tmp_path / "models"), "--prompt", "a lighthouse", "--width", "256",
                 "--height", "256", "--steps", "1", "--device", "cpu", "--no-history", "--out", str(out)]
                + (["--enhance"] if enhance else [])) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["path"] == str(out) and out.stat().st_size
    generator = made_here[0]
    assert generator.prompts.released and len(released) == 1
    packed = [m for m in released[0].modules() if isinstance(m, PackedGGUFLinear)]
    assert len(packed) == (7 * KQUANT_TEXT_ENCODER["num_hidden_layers"] if enhance else 0)  # q, k, v, o, gate, up, down
    # The image's predicted peak is this process's: a CLI process's allowance (measured at full size,
    # bench/recipe_ram.py), not the window's, and the encoder as this run holds it.
    from zimage_desktop.engine.residency import CLI_PROCESS_RAM_GIB, PROCESS_RAM_GIB

    plan = generator.plan
    assert plan.process_gib == CLI_PROCESS_RAM_GIB < PROCESS_RAM_GIB and plan.encoder_packed == enhance
    # (the image's own phases: the enhancer ran before it, as a request of its own)
    assert line["predicted_peak_gib"]["ram"] == plan.table("cpu").peaks(256, 256, ("enhance",))[1]
