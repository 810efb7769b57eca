"""Every profile's code path on the CPU: quantized forms, FP8 storage, offload modes, recovery."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.fixtures import build_tiny_pipeline, write_comfy_folder, write_gguf
from zimage_desktop.devkit.keys import transformer_to_comfy
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.planner import PROFILES, make_plan, reference_plan
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import OutOfMemoryError, UserFacingError

SMALL = dict(width=256, height=256)
REQ = GenerationRequest(prompt="a small house by a lake", seed=21, **SMALL)


def pixels(img):
    return np.asarray(img, dtype=np.float64)


def psnr(a, b):
    mse = np.mean((pixels(a) - pixels(b)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def many_forms(tmp_path_factory):
    """One folder holding the same tiny transformer as bf16, Q8_0 and Q4_0 files."""
    folder = tmp_path_factory.mktemp("forms") / "models"
    pipe = build_tiny_pipeline(seed=0)
    write_comfy_folder(pipe, folder)
    state = transformer_to_comfy(dict(pipe.transformer.state_dict()))
    write_gguf(state, folder / "diffusion_models" / "tiny_zimage-Q8_0.gguf", "Q8_0")
    write_gguf(state, folder / "diffusion_models" / "tiny_zimage-Q4_0.gguf", "Q4_0")
    return folder


@pytest.fixture(scope="module")
def reference_image(many_forms):
    gen = Generator(many_forms, device="cpu", plan=reference_plan())
    return gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0].image


def test_gguf_q8_and_q4_stay_close_to_bf16(many_forms, reference_image):
    scores = {}
    for name in ("tiny_zimage-Q8_0.gguf", "tiny_zimage-Q4_0.gguf"):
        gen = Generator(many_forms, device="cpu", plan=reference_plan())
        image = gen.run(replace(REQ, transformer=name)).images[0]
        assert image.model["files"][0]["name"] == name
        scores[name] = psnr(image.image, reference_image)
    print("PSNR vs bf16 reference:", {k: round(v, 1) for k, v in scores.items()})
    assert scores["tiny_zimage-Q8_0.gguf"] > 45
    assert scores["tiny_zimage-Q4_0.gguf"] > 30
    assert scores["tiny_zimage-Q8_0.gguf"] > scores["tiny_zimage-Q4_0.gguf"]


def test_fp8_storage_from_a_bf16_file(many_forms, reference_image):
    plan = replace(reference_plan(), transformer_form="fp8")
    gen = Generator(many_forms, device="cpu", plan=plan)
    image = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0]
    weight = gen.pipe.transformer.layers[0].feed_forward.w1.weight
    assert weight.dtype == torch.float8_e4m3fn
    # precision-sensitive embedders stay in the compute dtype
    assert gen.pipe.transformer.t_embedder.mlp[0].weight.dtype == torch.float32
    assert psnr(image.image, reference_image) > 25


def test_fp8_single_file_loads_without_upcasting(tmp_path, reference_image):
    folder = tmp_path / "fp8"
    write_comfy_folder(build_tiny_pipeline(seed=0), folder, transformer="fp8")
    gen = Generator(folder, device="cpu", plan=reference_plan())
    ms, = [gen.ensure_loaded()]
    assert ms.transformer_form == "fp8"
    assert gen.pipe.transformer.layers[0].attention.to_q.weight.dtype == torch.float8_e4m3fn
    image = gen.run(REQ).images[0]
    assert psnr(image.image, reference_image) > 25


@pytest.mark.parametrize("kind", ["fp8_scaled", "fp8_weight_scale"])
def test_scaled_fp8_files_apply_their_scales(tmp_path, reference_image, kind):
    """ComfyUI's scaled FP8 (weight = fp8 × per-layer scale, older scale_weight + scaled_fp8 marker,
    newer weight_scale + comfy_quant with bf16 embedders): same picture as the plain file. Read as
    plain, the weights would be off by their scales and the picture noise."""
    from safetensors import safe_open

    folder = tmp_path / kind
    path = write_comfy_folder(build_tiny_pipeline(seed=0), folder, transformer=kind)
    with safe_open(str(path), "pt") as f:  # the file is what those tools write
        keys = set(f.keys())
    scale_key = ".scale_weight" if kind == "fp8_scaled" else ".weight_scale"
    assert any(k.endswith(scale_key) for k in keys)
    assert ("scaled_fp8" in keys) == (kind == "fp8_scaled") and any(k.endswith(".comfy_quant") for k in keys) == (
        kind == "fp8_weight_scale")
    gen = Generator(folder, device="cpu", plan=reference_plan())
    assert gen.ensure_loaded().transformer_form == "fp8"
    assert gen.pipe.transformer.layers[0].attention.to_q.weight.dtype == torch.float8_e4m3fn
    assert psnr(gen.run(REQ).images[0].image, reference_image) > 25


@pytest.mark.parametrize("offload", ["none", "model", "group", "sequential"])
def test_every_offload_mode_runs(many_forms, reference_image, offload):
    plan = replace(reference_plan(), offload=offload, text_encoder="cpu")
    gen = Generator(many_forms, device="cpu", plan=plan)
    image = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0]
    assert psnr(image.image, reference_image) > 40  # same weights, same dtype: only order of ops differs


def test_group_offload_with_gguf(many_forms):
    """GGUF weights streamed by group offload: still GGUF (not dequantized copies), each leaf has
    an offload group, and the picture equals the same GGUF file run without offloading."""
    from diffusers.hooks.group_offloading import _get_group_onload_device
    from diffusers.quantizers.gguf.utils import GGUFParameter

    req = replace(REQ, transformer="tiny_zimage-Q4_0.gguf")
    plain = Generator(many_forms, device="cpu", plan=replace(reference_plan(), text_encoder="cpu")).run(req)
    plan = replace(reference_plan(), offload="group", text_encoder="cpu", vae_tiling=True, vae_slicing=True)
    gen = Generator(many_forms, device="cpu", plan=plan)
    image = gen.run(req).images[0]
    transformer = gen.pipe.transformer
    from zimage_desktop.engine.placement import layout_for

    assert layout_for(plan).transformer == "stream"
    assert _get_group_onload_device(transformer) == torch.device("cpu")
    w1 = transformer.layers[0].feed_forward.w1
    assert isinstance(w1.weight, GGUFParameter) and w1.weight.quant_type.name == "Q4_0"
    assert w1._diffusers_hook.get_hook("group_offloading") is not None
    assert psnr(image.image, plain.images[0].image) > 40


def _machine_for(profile):
    gib = {"24gb": 24, "16gb": 16, "12gb": 12, "8gb": 8, "6gb": 6, "4gb": 4}.get(profile, 0)
    gpus = (GpuInfo(0, "test GPU", int(gib * 1024**3), int(gib * 1024**3), (8, 6), True),) if gib else ()
    return MachineInfo(gpus=gpus, mps=profile == "mps", total_ram=32 * 1024**3)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_code_path_runs_on_cpu(many_forms, reference_image, profile):
    """The planner's real plan for each profile, executed on the CPU (so its loading, casting and
    offload code runs here); bf16/fp16 compute is kept where the CPU supports it."""
    ms_forms = {"bf16", "fp8", "Q8_0", "Q4_K"}
    plan = make_plan(_machine_for(profile), ms_forms, profile)
    assert plan.profile == profile
    gen = Generator(many_forms, device="cpu", plan=plan)
    result = gen.run(REQ)
    assert gen.model_info()["profile"] == profile
    # Each component is held as the table's row says (form and dtype), and the picture is the
    # model's, not just an image of the right size.
    table = plan.table()
    vae = next(gen.pipe.vae.parameters())
    assert str(vae.dtype) == "torch." + table.component("vae").dtype
    w1 = gen.pipe.transformer.layers[0].feed_forward.w1.weight
    form = table.component("transformer").form
    if form == "fp8":
        assert w1.dtype == torch.float8_e4m3fn
    elif form == "bf16":
        assert str(w1.dtype) == "torch." + plan.compute_dtype
    else:
        assert type(w1).__name__ == "GGUFParameter"
    assert psnr(result.images[0].image, reference_image) > 20


def test_out_of_memory_during_generation_frees_and_names_lighter_profile(many_forms):
    plan = make_plan(_machine_for("8gb"), {"Q8_0", "Q4_K"}, "8gb")
    gen = Generator(many_forms, device="cpu", plan=plan)
    calls = []

    def inject(pipe):
        def boom(module, args):
            calls.append(1)
            if len(calls) == 2:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
        pipe.transformer.register_forward_pre_hook(boom)

    gen.on_loaded.append(inject)
    with pytest.raises(OutOfMemoryError) as info:
        gen.run(REQ)
    assert info.value.lighter_profile == "6gb" and "6gb" in str(info.value)
    assert gen.pipe is None  # memory was released
    # The app stays alive: the next run loads again and works.
    assert gen.run(REQ).images[0].image.size == (256, 256)


def test_out_of_memory_while_loading(many_forms):
    plan = make_plan(_machine_for("24gb"), {"bf16", "fp8"}, "24gb")
    gen = Generator(many_forms, device="cpu", plan=plan)

    def boom(pipe):
        raise torch.OutOfMemoryError("CUDA out of memory (injected)")

    gen.on_loaded.append(boom)
    with pytest.raises(OutOfMemoryError, match="while loading.*16gb"):
        gen.ensure_loaded()
    assert gen.pipe is None


def _overflow_from_step(step, dtype):
    """A fault injector: the first block's output turns inf from ``step`` on, in ``dtype`` only."""
    def inject(pipe):
        counter = {"n": 0}

        def hook(module, args, out):
            counter["n"] += 1
            if counter["n"] >= step and out.dtype == dtype:
                return torch.full_like(out, float("inf"))
            return out
        pipe.transformer.layers[0].register_forward_hook(hook)
    return inject


def test_non_finite_latents_are_caught_in_their_step_and_retried_in_fp32(many_forms, reference_image):
    plan = replace(reference_plan(), compute_dtype="bfloat16", fp16_retry_fp32=True)
    gen = Generator(many_forms, device="cpu", plan=plan)
    gen.on_loaded.append(_overflow_from_step(3, torch.bfloat16))
    events = []
    result = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors"), on_step=events.append)
    steps = [e.step for e in events]
    assert steps[:2] == [1, 2] and steps[2:] == list(range(1, 9))  # stopped in step 3, then a full run
    image = result.images[0]
    assert "overflowed at step 3" in image.notes[0]
    assert gen.dtype == torch.float32 and image.model["dtype"] == "float32"
    assert psnr(image.image, reference_image) > 40  # the fp32 result, not a black image


def test_non_finite_in_fp32_is_a_clear_error(many_forms):
    gen = Generator(many_forms, device="cpu", plan=reference_plan())
    gen.on_loaded.append(_overflow_from_step(1, torch.float32))
    with pytest.raises(UserFacingError, match="numerically invalid at step 1"):
        gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors"))


def test_fp16_guards_clamp_overflow(many_forms):
    plan = replace(reference_plan(), compute_dtype="float16")
    gen = Generator(many_forms, device="cpu", plan=plan)

    def inject(pipe):
        w3 = pipe.transformer.layers[0].feed_forward.w3
        # Positive values overflow to +inf in fp16 (an overflow, not a broken layer: no NaN).
        w3.register_forward_hook(lambda m, a, out: torch.where(out > 0, out * 1e30, out))
    gen.on_loaded.append(inject)
    image = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0]
    assert image.notes == () and gen.dtype == torch.float16  # clamped, so no retry was needed
    assert np.isfinite(pixels(image.image)).all()


def test_fp16_guards_never_turn_nan_into_a_number(many_forms):
    """A NaN (a broken layer, not an overflow) passes the guards, so the step check sees it and the
    image is made again in float32 — never a finite wrong picture in fp16."""
    from zimage_desktop.engine.guards import install_fp16_guards

    ff = build_tiny_pipeline(seed=0).transformer.to(torch.float16)
    install_fp16_guards(ff)
    w2 = ff.layers[0].feed_forward.w2
    x = torch.tensor([[float("inf"), float("nan"), -float("inf")] + [1.0] * (w2.in_features - 3)], dtype=torch.float16)
    seen = {}
    w2.register_forward_pre_hook(lambda m, a: seen.setdefault("input", a[0]))
    w2(x)
    assert seen["input"][0, 0] == 65504 and seen["input"][0, 2] == -65504 and torch.isnan(seen["input"][0, 1])

    plan = replace(reference_plan(), compute_dtype="float16", fp16_retry_fp32=True)
    gen = Generator(many_forms, device="cpu", plan=plan)

    def broken(pipe):
        out0 = pipe.transformer.layers[0].attention.to_out[0]
        out0.register_forward_hook(lambda m, a, out: out * float("nan") if out.dtype == torch.float16 else out)
    gen.on_loaded.append(broken)
    image = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0]
    assert "overflowed at step 1" in image.notes[0] and gen.dtype == torch.float32


@pytest.mark.parametrize("kind", ["fp8_scaled", "fp8_weight_scale"])
def test_scaled_fp8_weights_keep_the_files_own_error(tmp_path, kind):
    """The layer computes with the file's own weight fp8·scale: its error against the original is
    the file's quantization error, not the double rounding of re-quantizing the product to e4m3
    (3.7 % against 2.6 % in issue 25). The weight stays fp8 in memory."""
    from safetensors.torch import load_file

    original = build_tiny_pipeline(seed=0)
    path = write_comfy_folder(original, tmp_path / kind, transformer=kind)
    stored = load_file(str(path))
    key = next(k for k in stored if k.endswith("layers.0.feed_forward.w1.weight"))
    scale = stored[next(k for k in stored if k.startswith(key[: -len("weight")]) and "scale" in k)].float()
    own = stored[key].float() * scale  # what the file means
    twice = own.to(torch.float8_e4m3fn).float()  # the product rounded to e4m3 again

    gen = Generator(tmp_path / kind, device="cpu", plan=reference_plan())
    gen.ensure_loaded()
    layer = gen.pipe.transformer.layers[0].feed_forward.w1
    assert layer.weight.dtype == torch.float8_e4m3fn
    with torch.no_grad():
        eye = torch.eye(layer.in_features, dtype=gen.dtype)
        out = layer(eye).float()
        if layer.bias is not None:
            out = out - layer.bias.float()
    effective = out.T  # row i of x·Wᵀ with x = I is column i of Wᵀ

    reference = original.transformer.layers[0].feed_forward.w1.weight.detach().float()

    def error(w):
        return float((w - reference).norm() / reference.norm())

    assert error(effective) <= error(own) * 1.01 + 1e-4
    assert error(twice) > error(own) * 1.1  # the double rounding this replaces is measurably worse
    assert float((effective - own).abs().max()) <= 1e-2 * float(own.abs().max())
