"""Where every parameter is after each phase, on a pretend two-GPU machine (the chosen GPU is
cuda:1), against the plan's residency table — and the picture against the CPU's.

The real pipeline (tiny kit) runs with the real hooks (SwapHook rings, diffusers' group offload
with its CUDA-stream/pinned-memory path, FP8 layerwise casting, GGUF): only the device is pretend
(tests/fixtures/pretend_cuda.py keeps CPU storage, so the pixels are real). After each phase every
parameter's device, dtype and pinned state must be what the table's row and ``where()`` say.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from diffusers.quantizers.gguf.utils import GGUFParameter

from tests.fixtures.pretend_cuda import pretend_cuda
from tests.test_profiles import REQ, many_forms  # noqa: F401  (module fixture)
from zimage_desktop.engine import placement
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.residency import Residency

GIB = 1024**3
CUDA1 = torch.device("cuda", 1)
# profile → (GPU 1's memory in GiB, transformer file): the form the plan picks among the kit's
# files (bf16 for FP8 storage too, a GGUF for the small cards).
CASES = {
    "24gb": (24, "tiny_zimage_bf16.safetensors"),
    "16gb": (16, "tiny_zimage_bf16.safetensors"),
    "12gb": (12, "tiny_zimage_fp8_e4m3fn.safetensors"),  # FP8 storage, layerwise casting
    "8gb": (8, "tiny_zimage-Q8_0.gguf"),
    "6gb": (6, "tiny_zimage-Q4_0.gguf"),
    "4gb": (4, "tiny_zimage-Q4_0.gguf"),
}


@pytest.fixture(scope="module")
def kit(many_forms, tmp_path_factory):  # noqa: F811
    """The profiles' kit plus an FP8 file of the same transformer (the 12gb case)."""
    import shutil

    from tests.fixtures import build_tiny_pipeline, write_comfy_folder

    fp8 = write_comfy_folder(build_tiny_pipeline(seed=0), tmp_path_factory.mktemp("fp8") / "models", transformer="fp8")
    shutil.copy(fp8, many_forms / "diffusion_models" / fp8.name)
    return many_forms


def two_gpus(gib: int) -> MachineInfo:
    """A big card at index 0 beside the chosen one at index 1: nothing may land on cuda:0."""
    return MachineInfo(gpus=(GpuInfo(0, "big card", 48 * GIB, 48 * GIB, (8, 9), True),
                             GpuInfo(1, "chosen card", gib * GIB, gib * GIB, (8, 6), True)),
                       total_ram=64 * GIB)


def components(gen: Generator) -> dict[str, torch.nn.Module]:
    assert gen.pipe is not None and gen.prompts is not None
    return {"transformer": gen.pipe.transformer, "vae": gen.pipe.vae, "text_encoder": gen.prompts.text_encoder}


def expected_dtype_ok(row: dict, param: torch.Tensor) -> bool:
    if isinstance(param, GGUFParameter):  # quantized storage, computed in the row's dtype
        return row["form"] not in ("bf16", "fp8", "fp32", "fp16")
    if param.dtype == torch.float8_e4m3fn:
        return row["form"] == "fp8"
    return param.dtype == getattr(torch, row["dtype"])


def placement_problems(gen: Generator, table: Residency, phase: str, gpus) -> list[str]:
    """Every parameter that is not where, in what, or pinned as the table says after ``phase``."""
    rows = {r["component"]: r for r in table.rows()}
    problems = []
    for name, module in components(gen).items():
        row, where = rows[name], table.where()[phase][name]
        wanted = CUDA1 if where == "device" else torch.device("cpu")  # ram, stream (between layers), cpu
        for pname, param in module.named_parameters():
            if param.device != wanted:
                problems.append(f"{phase}: {name}.{pname} on {param.device}, table says {where} ({wanted})")
            if not expected_dtype_ok(row, param):
                problems.append(f"{phase}: {name}.{pname} is {param.dtype}, table says {row['form']}/{row['dtype']}")
            if where != "device" and bool(param.is_pinned()) != row["pinned"]:
                problems.append(f"{phase}: {name}.{pname} pinned={param.is_pinned()}, table says {row['pinned']}")
    return problems


def run_phases(models, profile: str, prompts: tuple[str, ...]) -> tuple[Generator, list[tuple[str, list[str]]], list]:
    """Run one image per prompt on the pretend cuda:1, checking placement after each phase.
    Returns the generator, [(phase, problems)] in order, and the images."""
    gib, transformer = CASES[profile]
    gen = Generator(models, device="cuda:1", machine=two_gpus(gib))
    seen: list[tuple[str, list[str]]] = []
    images = []
    with pretend_cuda(count=2) as gpus:
        def check(phase: str) -> None:
            assert gen.plan is not None
            seen.append((phase, placement_problems(gen, gen.plan.table(), phase, gpus)))

        for prompt in prompts:
            state = {"encoded": False}

            def after_encode(module, args) -> None:  # before the transformer's own hook moves anything
                if not state["encoded"]:
                    state["encoded"] = True
                    check("encode")

            def on_stage(event) -> None:
                if event.stage == "decoding":
                    check("denoise")
                elif event.stage == "saving":
                    check("decode")

            gen.ensure_loaded(transformer, profile)
            handle = gen.pipe.transformer.register_forward_pre_hook(after_encode)
            try:
                result = gen.run(replace(REQ, prompt=prompt, transformer=transformer, profile=profile, steps=1),
                                 on_stage=on_stage, on_image=lambda image: None)
            finally:
                handle.remove()
            images.append(result.images[0])
    return gen, seen, images


def cpu_picture(models, gen: Generator, prompt: str, monkeypatch):
    """The same plan on the CPU (every weight in RAM, no hooks moving anything). A GPU computes
    GGUF layers with diffusers' own forward, the CPU with the fast decoders (``gguf_fast``, within a
    grey level of it): the reference takes the GPU's kernel so that only placement is compared."""
    from diffusers.quantizers.gguf.utils import GGUFLinear

    from zimage_desktop.engine.gguf_fast import FastGGUFLinear

    monkeypatch.setattr(FastGGUFLinear, "forward_native", GGUFLinear.forward_native)
    cpu = Generator(models, device="cpu", plan=gen.plan)
    _, transformer = next(v for k, v in CASES.items() if k == gen.plan.profile)
    return cpu.run(replace(REQ, prompt=prompt, transformer=transformer, profile=gen.plan.profile, steps=1)).images[0]


@pytest.mark.parametrize("profile", list(CASES))
def test_each_parameter_is_where_the_table_says_after_each_phase(kit, profile, monkeypatch):
    prompts = ("a small house by a lake", "a red kite over a beach")  # a new prompt brings the encoder back
    gen, seen, images = run_phases(kit, profile, prompts)
    assert gen.plan is not None and gen.plan.profile == profile and gen.plan.device_name == "cuda:1"
    assert [phase for phase, _ in seen] == ["encode", "denoise", "decode"] * 2
    # The first image starts from the parked state after loading; from the second on, each phase
    # must be the table's steady state (where() simulates the cycle twice for the same reason).
    first_encode = seen[0][1]
    others = [p for _, problems in seen[1:] for p in problems]
    assert others == [], "\n".join(others)
    assert all("cuda:0" not in p for p in first_encode)
    table = gen.plan.table()
    modes = {c.name: c.mode for c in table.components}
    if profile == "12gb":
        assert table.component("transformer").form == "fp8"
    if profile == "4gb":  # group offload took its stream path from pinned memory
        assert modes["transformer"] == "stream" and table.component("transformer").pinned
        assert placement.uses_streams(gen.plan, CUDA1)
    for image, prompt in zip(images, prompts):
        reference = cpu_picture(kit, gen, prompt, monkeypatch)
        assert np.array_equal(np.asarray(image.image), np.asarray(reference.image)), profile


def test_the_check_fails_when_a_swap_hook_forgets_to_evict(many_forms, monkeypatch):  # noqa: F811
    """Mutation: a SwapHook that leaves the other ring member on the GPU. The 16gb table says the
    encoder goes back to RAM when the transformer runs; the check must see it still on cuda:1."""
    monkeypatch.setattr(placement.SwapHook, "pre_forward",
                        lambda self, module, *a, **k: placement.CpuOffload.pre_forward(self, module, *a, **k))
    _, seen, _ = run_phases(many_forms, "16gb", ("a small house by a lake",))
    denoise = dict(seen)["denoise"]
    assert denoise and all("text_encoder" in p and "cuda:1" in p for p in denoise)


def test_the_check_fails_when_the_table_lies_about_pinning(many_forms, monkeypatch):  # noqa: F811
    """Mutation: the 4gb table without its pinned flag (the hooks still pin, as group offload on a
    CUDA stream does): the check must report the transformer's pinned parameters."""
    original = Residency.rows

    def unpinned(self):
        return [dict(row, pinned=False) for row in original(self)]

    monkeypatch.setattr(Residency, "rows", unpinned)
    _, seen, _ = run_phases(many_forms, "4gb", ("a small house by a lake",))
    assert any("transformer" in p and "pinned=True" in p for p in dict(seen)["denoise"])
