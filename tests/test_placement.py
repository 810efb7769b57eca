"""Where every component of every profile executes, checked on the CPU against a pretend GPU.

No line of CUDA code can run here, but the placement hooks can be built for ``cuda`` without a
CUDA call: each test asserts which device each component (and the prompt embeddings) would
execute on, which is what decides whether a 6 GB card runs out of memory.
"""

import gc
import weakref
from dataclasses import replace

import pytest
import torch
from diffusers.hooks.group_offloading import _get_group_onload_device

from tests.fixtures import build_tiny_pipeline
from tests.test_profiles import REQ, _machine_for, many_forms  # noqa: F401  (module fixture)
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.placement import component_dtypes
from zimage_desktop.engine.placement import SwapHook, build_hooks, execution_device, layout_for, uses_streams
from zimage_desktop.engine.planner import PROFILES, make_plan
from zimage_desktop.engine.prompts import PromptEncoder
from zimage_desktop.errors import OutOfMemoryError

CUDA = torch.device("cuda")
CPU = torch.device("cpu")
ALL_FORMS = {"bf16", "fp8", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}

# profile → (transformer, vae, text encoder) placement
EXPECTED = {
    "24gb": ("resident", "resident", "resident"),
    "16gb": ("swap", "resident", "swap"),  # the transformer steps aside only for a new prompt
    "12gb": ("swap", "resident", "swap"),
    "8gb": ("resident", "resident", "cpu"),
    "6gb": ("swap", "swap", "cpu"),  # the 7.5 GiB encoder never reaches a 6 GB card
    "4gb": ("stream", "resident", "cpu"),
    "mps": ("resident", "resident", "resident"),  # unified memory: the encoder stays on the Apple GPU
    "cpu": ("resident", "resident", "cpu"),
}


def placed(profile: str, device: torch.device):
    plan = make_plan(_machine_for(profile), ALL_FORMS, profile)
    pipe = build_tiny_pipeline(seed=0)
    te = pipe.text_encoder
    pipe.register_modules(text_encoder=None)
    resident = build_hooks(pipe, te, plan, device, "bf16" if plan.transformer_form in ("bf16", "fp8") else "Q4_K")
    return plan, pipe, te, resident


@pytest.mark.parametrize("profile", [p for p in PROFILES if p != "4gb"])
def test_each_profile_executes_each_component_where_its_plan_says(profile):
    device = {"mps": torch.device("mps"), "cpu": CPU}.get(profile, CUDA)
    plan, pipe, te, resident = placed(profile, device)
    # The hooks follow the plan's residency table, the same rows its memory prediction adds up.
    modes = {c.name: c.mode for c in plan.table().components}
    if profile != "cpu":  # on the CPU the table says "cpu" for everything; the hooks are the GPU ones
        assert (modes["transformer"], modes["vae"], modes["text_encoder"]) == EXPECTED[profile]
    assert (layout_for(plan).transformer, layout_for(plan).vae, layout_for(plan).text_encoder) == EXPECTED[profile]
    modules = {"transformer": pipe.transformer, "vae": pipe.vae, "text_encoder": te}
    wanted = dict(zip(modules, EXPECTED[profile]))
    ring = [m for name, m in modules.items() if wanted[name] == "swap"]
    for name, module in modules.items():
        where = wanted[name]
        if where == "swap":
            hook = module._hf_hook
            assert isinstance(hook, SwapHook) and hook.ring == ring
            assert execution_device(module) == device
            assert next(module.parameters()).device == CPU  # parked until it runs
        elif where == "resident":
            assert any(module is r for r in resident) and not hasattr(module, "_hf_hook")
        elif where == "cpu":
            assert execution_device(module) == CPU and not hasattr(module, "_hf_hook")
    # The pipeline no longer holds the encoder, so nothing of diffusers can move it.
    assert pipe.text_encoder is None and "text_encoder" not in [k for k, v in pipe.components.items() if v is not None]


def test_the_4gb_profile_streams_the_transformer_and_encodes_on_the_cpu():
    # CUDA streams cannot be made without CUDA: a pretend Apple GPU (no streams) stands in here,
    # and uses_streams says what CUDA would get.
    mps = torch.device("mps")
    plan, pipe, te, resident = placed("4gb", mps)
    assert _get_group_onload_device(pipe.transformer) == mps
    assert [m is pipe.vae for m in resident] == [True]
    assert execution_device(te) == CPU
    assert uses_streams(plan, CUDA) and not uses_streams(plan, mps)
    assert not uses_streams(replace(plan, offload="sequential"), CUDA)


@pytest.mark.parametrize("profile", ["8gb", "6gb", "4gb"])
def test_prompt_embeddings_of_cpu_encoder_profiles_are_made_on_the_cpu(profile):
    device = torch.device("mps") if profile == "4gb" else CUDA
    plan, pipe, te, _ = placed(profile, device)
    embeds = PromptEncoder(pipe.tokenizer, te, "t").encode("a red kite")
    assert embeds.device == CPU


def test_swapped_encoder_would_encode_on_the_gpu():
    plan, pipe, te, _ = placed("16gb", CUDA)
    assert execution_device(te) == CUDA and execution_device(pipe.transformer) == CUDA


def test_the_encoder_stays_16_bit_and_the_vae_upcasts_under_fp16():
    turing = MachineInfo(gpus=(GpuInfo(0, "RTX 2080 Ti", 11 * 1024**3, 11 * 1024**3, (7, 5), False),),
                         total_ram=32 * 1024**3)
    plan = make_plan(turing, ALL_FORMS, "16gb")
    assert plan.compute_dtype == "float16"
    assert component_dtypes(plan, torch.float16) == (torch.float16, torch.float32)
    fp32 = make_plan(turing, ALL_FORMS, "16gb", compute_dtype="float32")
    assert component_dtypes(fp32, torch.float32) == (torch.float16, torch.float32)
    assert component_dtypes(make_plan(turing, ALL_FORMS, "6gb"), torch.float16)[0] == torch.bfloat16  # on the CPU


def test_fp32_replan_picks_a_form_that_fits():
    turing = MachineInfo(gpus=(GpuInfo(0, "Tesla T4", 16 * 1024**3, 16 * 1024**3, (7, 5), False),),
                         total_ram=32 * 1024**3)
    fp16 = make_plan(turing, ALL_FORMS, "16gb")
    assert (fp16.compute_dtype, fp16.transformer_form) == ("float16", "bf16")
    fp32 = make_plan(turing, ALL_FORMS, "16gb", compute_dtype="float32")
    # bf16 weights widened to fp32 would need ~23 GiB: the re-plan takes a form that fits 14.5.
    assert fp32.compute_dtype == "float32" and fp32.transformer_form != "bf16"
    assert fp32.predicted_vram_gib <= PROFILES["16gb"].budget_gib


def test_overflow_in_fp16_replans_in_fp32(many_forms):  # noqa: F811
    turing = MachineInfo(gpus=(GpuInfo(0, "Tesla T4", 16 * 1024**3, 16 * 1024**3, (7, 5), False),),
                         total_ram=32 * 1024**3)
    gen = Generator(many_forms, device="cpu", machine=turing)

    def overflow_in_fp16(pipe):
        def hook(module, args, out):
            return torch.full_like(out, float("inf")) if out.dtype == torch.float16 else out
        pipe.transformer.layers[0].register_forward_hook(hook)
    gen.on_loaded.append(overflow_in_fp16)
    image = gen.run(replace(REQ, profile="16gb")).images[0]
    assert "overflowed" in image.notes[0]
    # Re-planned by the planner in float32 (with the installed files' own sizes: these tiny ones
    # all fit; test_fp32_replan_picks_a_form_that_fits covers full-size files), encoder still 16-bit.
    assert gen.plan.compute_dtype == "float32" and gen.plan.text_encoder_dtype == "float16"
    assert gen.plan.predicted_vram_gib <= PROFILES["16gb"].budget_gib
    assert image.model["dtype"] == "float32"


def test_out_of_memory_releases_the_pipeline_before_reporting(many_forms):  # noqa: F811
    plan = make_plan(_machine_for("8gb"), {"Q8_0", "Q4_K"}, "8gb")
    gen = Generator(many_forms, device="cpu", plan=plan)
    refs = {}

    def inject(pipe):
        refs["transformer"] = weakref.ref(pipe.transformer)

        def boom(module, args):
            refs["activation"] = weakref.ref(args[0][0] if isinstance(args[0], list) else args[0])
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
        pipe.transformer.register_forward_pre_hook(boom)

    gen.on_loaded.append(inject)
    with pytest.raises(OutOfMemoryError) as info:
        gen.run(REQ)
    # Freed by the engine itself (its gc.collect and empty_cache ran with nothing left holding
    # them), not later: no traceback of the failed step rides along with the error.
    assert info.value.__context__ is None
    assert refs["transformer"]() is None and refs["activation"]() is None
    assert gen.pipe is None and gen.prompts is None
    gc.collect()


def test_apple_keeps_the_text_encoder_on_its_gpu_unless_memory_forces_it_off():
    """Unified memory: an encoder on the CPU holds the same bytes and runs slower, so the mps plan
    keeps it on the GPU and says why; only when the GPU's share would pass macOS's limit does it
    move to the CPU, and the plan says that instead (issue 28)."""
    from zimage_desktop.engine.planner import MPS_GPU_SHARE

    G = 1024**3
    for te_form in ("Q6_K", "Q8_0", "Q4_K", "bf16"):
        plan = make_plan(MachineInfo(mps=True, total_ram=32 * G), {"Q8_0", "Q4_K"}, "mps",
                         present_te_forms={te_form})
        assert plan.text_encoder == "device" and plan.text_encoder_form == te_form
        assert layout_for(plan).text_encoder == "resident"
        assert "on the Apple GPU (unified memory" in plan.explanation
        # The encoder is counted on the GPU side of the table, and that side fits what macOS allows.
        assert plan.table().where()["encode"]["text_encoder"] == "device"
        assert plan.predicted_vram_gib <= 32 * MPS_GPU_SHARE
    # An 8 GB Mac: the Q4_K transformer and the bf16 encoder do not fit the GPU's share together.
    small = make_plan(MachineInfo(mps=True, total_ram=8 * G), {"Q4_K"}, "mps", present_te_forms={"bf16"})
    assert small.text_encoder == "cpu" and layout_for(small).text_encoder == "cpu"
    assert "over the 5.6 GiB macOS lets the GPU use" in small.explanation
    # Built on a pretend Apple GPU, the hooks put the encoder where the plan says.
    plan = make_plan(MachineInfo(mps=True, total_ram=32 * G), {"Q4_K"}, "mps", present_te_forms={"Q6_K"})
    pipe = build_tiny_pipeline(seed=0)
    te = pipe.text_encoder
    pipe.register_modules(text_encoder=None)
    resident = build_hooks(pipe, te, plan, torch.device("mps"), "Q4_K")
    assert any(module is te for module in resident)
