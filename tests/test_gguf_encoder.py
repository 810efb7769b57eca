"""A llama.cpp Qwen3 GGUF as the text encoder: recognised, kept quantized, close to the
safetensors encoder on the same weights, generating, and refused when it is another model."""

import shutil

import gguf
import numpy as np
import pytest
import torch

from zimage_desktop.cli import main
from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, use_gguf_text_encoder, write_qwen3_gguf
from zimage_desktop.devkit.tiny import build_tiny_pipeline, write_comfy_folder
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.loader import load_text_encoder
from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.prompts import PromptEncoder
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import ModelFilesError
from zimage_desktop.models.store import import_folder, recognise

PROMPTS = ("a red apple on a table", "海报 “新春特惠”，金色粗体")
# GGUF type the big matrices get in each test file ("Q4_K_M" is the Q4_K/Q6_K mix)
QUANTS = {"F16": "F16", "Q8_0": "Q8_0", "Q6_K": "Q6_K", "Q4_K_M": "Q4_K"}


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """One random pipeline whose encoder K-quants can hold, as a safetensors folder plus one
    folder per GGUF encoder type (same weights everywhere)."""
    root = tmp_path_factory.mktemp("gguf-encoder")
    pipe = build_tiny_pipeline(seed=5, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(pipe, root / "safetensors")
    folders = {"safetensors": root / "safetensors"}
    for quant in QUANTS:
        folder = root / quant
        shutil.copytree(root / "safetensors", folder)
        use_gguf_text_encoder(pipe, folder, quant)
        folders[quant] = folder
    return pipe, folders


def _encoder(folder):
    ms = resolve_model_set(folder)
    return ms, load_text_encoder(ms, torch.float32)


@pytest.mark.parametrize("quant", QUANTS)
def test_weights_stay_in_their_gguf_type(kit, quant):
    from diffusers.quantizers.gguf.utils import GGUFLinear, GGUFParameter

    _, folders = kit
    ms, enc = _encoder(folders[quant])
    assert ms.text_encoder_format == "gguf" and ms.text_encoder.suffix == ".gguf"
    linears = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(isinstance(m, GGUFLinear) for m in linears)
    q_proj = enc.layers[0].self_attn.q_proj.weight
    if quant == "F16":
        assert q_proj.dtype == torch.float16 and not isinstance(q_proj, GGUFParameter)
    else:
        assert isinstance(q_proj, GGUFParameter) and q_proj.quant_type.name == QUANTS[quant]
        assert q_proj.dtype == torch.uint8
    if quant == "Q4_K_M":  # llama.cpp's mix: tied embedding and some attn_v in Q6_K
        assert enc.embed_tokens.weight.quant_type.name == "Q6_K"
        assert {enc.layers[i].self_attn.v_proj.weight.quant_type.name for i in range(3)} == {"Q4_K", "Q6_K"}
    # Every layer is built, the last one too (the prompt enhancer runs it as a chat model).
    assert isinstance(enc.layers[-1].mlp.down_proj, GGUFLinear) and not any(p.is_meta for p in enc.parameters())
    # Stored bytes stay those of the file (target: ≤ 1.25× the file size).
    stored = sum(p.numel() * p.element_size() for p in enc.parameters())
    assert stored <= 1.25 * ms.text_encoder.stat().st_size


def test_encoding_is_close_to_the_safetensors_encoder(kit):
    _, folders = kit
    ref_ms, ref = _encoder(folders["safetensors"])
    reference = PromptEncoder(_tokenizer(ref_ms), ref, "ref")
    errors = {}
    for quant in QUANTS:
        ms, enc = _encoder(folders[quant])
        ours = PromptEncoder(_tokenizer(ms), enc, quant)
        worst = 0.0
        for prompt in PROMPTS:
            a, b = reference.encode(prompt), ours.encode(prompt)
            assert a.shape == b.shape
            worst = max(worst, float((a - b).abs().max() / a.abs().max()))
        errors[quant] = worst
    print("max |Δ| / max |x| of the embeddings:", {k: round(v, 4) for k, v in errors.items()})
    # The safetensors file is bf16, so even F16 differs by bf16 rounding.
    assert errors["F16"] < 0.02 and errors["Q8_0"] < 0.04 and errors["Q6_K"] < 0.1 and errors["Q4_K_M"] < 0.3
    assert errors["F16"] <= errors["Q8_0"] < errors["Q6_K"] < errors["Q4_K_M"]


def _tokenizer(ms):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(ms.config_dir / "tokenizer"), local_files_only=True)


def test_generation_with_a_gguf_encoder_matches_the_safetensors_one(kit):
    _, folders = kit
    plan = reference_plan("cpu")
    req = GenerationRequest(prompt="a lighthouse at dusk", seed=11, width=256, height=256)
    ref = np.asarray(Generator(folders["safetensors"], device="cpu", plan=plan).run(req).images[0].image, np.int16)
    diffs = {}
    for quant in QUANTS:
        result = Generator(folders[quant], device="cpu", plan=plan).run(req)
        image = np.asarray(result.images[0].image, np.int16)
        assert image.std() > 1
        diffs[quant] = float(np.abs(image - ref).mean())
        assert any(f["name"].endswith(".gguf") for f in result.images[0].model["files"])
    print("mean |Δ| of the final image in grey levels:", {k: round(v, 3) for k, v in diffs.items()})
    assert diffs["Q8_0"] <= 2.0 and diffs["F16"] <= 2.0  # the target for Q8_0
    assert diffs["Q4_K_M"] < 4.0


def test_a_gguf_of_another_architecture_is_refused_with_exit_2(kit, tmp_path, data_dir, capsys):
    pipe, folders = kit
    folder = tmp_path / "models"
    shutil.copytree(folders["safetensors"], folder)
    for old in (folder / "text_encoders").iterdir():
        old.unlink()
    path = folder / "text_encoders" / "llama.gguf"
    write_qwen3_gguf(pipe.text_encoder.state_dict(), pipe.text_encoder.config.to_dict(), path, "Q8_0")
    _rewrite_architecture(path, "llama")
    with pytest.raises(ModelFilesError, match="a Llama model, not a Qwen3 text encoder"):
        resolve_model_set(folder)
    rc = main(["generate", "--models", str(folder), "--prompt", "x", "--width", "256", "--height", "256",
               "--device", "cpu", "--no-history"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "not a Qwen3 text encoder" in err
    assert "Traceback" not in err


def test_a_qwen3_of_another_size_is_refused(tmp_path):
    small = build_tiny_pipeline(seed=1)  # hidden size 32, not the 256 the folder's config says
    kit_pipe = build_tiny_pipeline(seed=1, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(kit_pipe, tmp_path)
    use_gguf_text_encoder(small, tmp_path, "Q8_0")
    with pytest.raises(ModelFilesError, match="another size .*hidden_size 32 .expected 256"):
        resolve_model_set(tmp_path)


def test_gguf_encoder_is_recognised_imported_and_preferred(kit, tmp_path, monkeypatch):
    import zimage_desktop.engine.model_files as mf

    _, folders = kit
    gguf_file = next((folders["Q6_K"] / "text_encoders").glob("*.gguf"))
    assert recognise(gguf_file) is None  # tiny sizes are not Qwen3-4B: not adopted
    monkeypatch.setattr(mf, "shipped_config_dir", lambda model="z-image-turbo": folders["Q6_K"] / "configs" / "z-image-turbo")
    assert recognise(gguf_file) == "text_encoder"
    comfy = tmp_path / "ComfyUI" / "models" / "text_encoders"
    comfy.mkdir(parents=True)
    shutil.copy(gguf_file, comfy / gguf_file.name)
    report = import_folder(tmp_path / "ComfyUI", tmp_path / "ours")
    assert [p.name for p in (tmp_path / "ours" / "text_encoders").iterdir()] == [gguf_file.name]
    assert len(report.imported) == 1
    # Both formats in one folder: the safetensors file is first by name, a preference wins.
    both = tmp_path / "both"
    shutil.copytree(folders["safetensors"], both)
    shutil.copy(gguf_file, both / "text_encoders" / "zz-Qwen3.gguf")
    ms = resolve_model_set(both)
    assert ms.text_encoder_format == "safetensors" and ms.text_encoder_forms == {"bf16", "Q6_K"}
    chosen = resolve_model_set(both, prefer_text_encoder="Q6_K")
    assert chosen.text_encoder.name == "zz-Qwen3.gguf" and chosen.text_encoder_form == "Q6_K"


def _rewrite_architecture(path, arch: str) -> None:
    """Same tensors, another ``general.architecture`` (and its metadata prefix)."""
    reader = gguf.GGUFReader(path)
    writer = gguf.GGUFWriter(str(path) + ".tmp", arch=arch)
    for key, field in reader.fields.items():
        if key.startswith("qwen3."):
            value = field.contents()
            suffix = key[len("qwen3."):]
            if isinstance(value, float):
                writer.add_float32(f"{arch}.{suffix}", value)
            else:
                writer.add_uint32(f"{arch}.{suffix}", int(value))
    for tensor in reader.tensors:
        raw = None if tensor.tensor_type.name in ("F32", "F16") else tensor.tensor_type
        writer.add_tensor(tensor.name, np.array(tensor.data), raw_dtype=raw)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    shutil.move(str(path) + ".tmp", path)


@pytest.mark.parametrize("profile", ["6gb", "4gb"])
def test_low_vram_plans_run_with_the_gguf_encoder(kit, profile):
    """The 6gb plan (encoder swapped in by model offload) and the 4gb plan (encoder on the CPU,
    group offload) executed on the CPU with the GGUF encoder, as on a GPU."""
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo
    from zimage_desktop.engine.planner import make_plan

    _, folders = kit
    gib = 1024**3
    machine = MachineInfo(gpus=(GpuInfo(0, "test GPU", int(6 * gib), int(6 * gib), (8, 6), True),), total_ram=16 * gib)
    found = resolve_model_set(folders["Q6_K"])
    plan = make_plan(machine, found.available_forms, profile, present_te_forms=found.text_encoder_forms)
    assert plan.text_encoder_form == "Q6_K" and plan.text_encoder == ("offload" if profile == "6gb" else "cpu")
    gen = Generator(folders["Q6_K"], device="cpu", plan=plan)
    result = gen.run(GenerationRequest(prompt="a red apple", seed=2, width=256, height=256, steps=2))
    assert np.asarray(result.images[0].image, np.int16).std() > 1
    assert gen.model_set.text_encoder_format == "gguf"


def test_the_gguf_encoder_runs_as_the_prompt_enhancers_chat_model(kit):
    """The same quantized file serves images and the enhancer (issue 16): every layer is loaded,
    and its logits stay close to those of the safetensors encoder holding the same weights."""
    from zimage_desktop.engine.enhance import CausalLM, Sampling
    from zimage_desktop.engine.enhance_session import load_standalone

    _, folders = kit
    quantized = CausalLM(_encoder(folders["Q8_0"])[1])  # refused if a layer were missing
    reference = CausalLM(_encoder(folders["safetensors"])[1])
    ids = torch.tensor([[1, 5, 9, 42, 7]])
    with torch.inference_mode():
        got, want = quantized(ids, last_only=False), reference(ids, last_only=False)
    assert (got - want).abs().max() <= 0.05 * want.abs().max()
    enhancer, _ = load_standalone(folders["Q8_0"], device_choice="cpu")
    result = enhancer.enhance("a red kite", Sampling(max_new_tokens=4, seed=1, temperature=0.0))
    assert result.tokens > 0
