"""Issue 27: every kind of out-of-memory takes one path, NaN is never hidden, fp32 is not sticky,
the first image waits for no hashing, one chosen GPU, and the prediction per image size."""

import hashlib
import json
import threading
from dataclasses import replace

import pytest
import torch

from tests.test_profiles import REQ, _machine_for, many_forms  # noqa: F401  (module fixture)
from zimage_desktop.cli import main
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.planner import make_plan
from zimage_desktop.engine.oom import is_out_of_memory
from zimage_desktop.engine.recovery import fp32_retry_problem, host_memory
from zimage_desktop.errors import OutOfMemoryError
from zimage_desktop.models import hashing
from zimage_desktop.models.hashing import HashCache

G = 1024**3

# Messages as the libraries word them (torch/csrc/cuda/CUDABlas.cpp, cuDNN, MPSAllocator.mm, c10).
OOM_TEXTS = [
    "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    "cuDNN error: CUDNN_STATUS_ALLOC_FAILED",
    "CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported",
    "MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.2 GB, max allowed: 18.13 GB).",
    "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes",
]


@pytest.mark.parametrize("text", OOM_TEXTS)
def test_every_allocation_failure_is_out_of_memory(text):
    assert is_out_of_memory(RuntimeError(text))


def test_other_errors_are_not_out_of_memory():
    assert is_out_of_memory(MemoryError()) and host_memory(MemoryError())
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not host_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"))
    assert not is_out_of_memory(ValueError("out of memory"))


@pytest.mark.parametrize("error", [RuntimeError(OOM_TEXTS[0]), MemoryError()], ids=["cublas", "host"])
def test_cublas_and_host_oom_free_the_model_and_offer_the_lighter_profile(many_forms, error):  # noqa: F811
    plan = make_plan(_machine_for("8gb"), {"Q8_0", "Q4_K"}, "8gb")
    gen = Generator(many_forms, device="cpu", plan=plan)

    def inject(pipe):
        def boom(module, args):
            raise error
        pipe.transformer.register_forward_pre_hook(boom)

    gen.on_loaded.append(inject)
    with pytest.raises(OutOfMemoryError) as info:
        gen.run(REQ)
    assert info.value.lighter_profile == "6gb" and "6gb" in str(info.value)
    assert ("RAM" in str(info.value)) == isinstance(error, MemoryError)
    assert gen.pipe is None and info.value.__context__ is None


def test_a_float32_retry_must_fit_the_profile():
    """A 24 GB Turing card (fp16) running the bf16 file the user chose: fp32 widens it to 23 GiB."""
    titan = MachineInfo(gpus=(GpuInfo(0, "TITAN RTX", 24 * G, 24 * G, (7, 5), False),), total_ram=64 * G)
    only_bf16 = make_plan(titan, {"bf16", "fp8"}, "24gb", compute_dtype="float32", force_form="bf16")
    problem = fp32_retry_problem(only_bf16, titan, 3, "float16")
    assert problem is not None and "step 3" in problem and "24gb" in problem
    with_q8 = make_plan(titan, {"bf16", "fp8", "Q8_0"}, "24gb", compute_dtype="float32")
    assert with_q8.transformer_form == "Q8_0" and fp32_retry_problem(with_q8, titan, 3, "float16") is None


def test_float32_lasts_for_one_request_only(many_forms):  # noqa: F811
    turing = MachineInfo(gpus=(GpuInfo(0, "Tesla T4", 16 * G, 16 * G, (7, 5), False),), total_ram=32 * G)
    gen = Generator(many_forms, device="cpu", machine=turing)

    def overflow_in_fp16(pipe):
        def hook(module, args, out):
            return torch.full_like(out, float("inf")) if out.dtype == torch.float16 else out
        pipe.transformer.layers[0].register_forward_hook(hook)
    gen.on_loaded.append(overflow_in_fp16)
    first = gen.run(replace(REQ, profile="16gb")).images[0]
    assert "overflowed" in first.notes[0] and gen.plan.compute_dtype == "float32"
    gen.on_loaded.clear()
    second = gen.run(replace(REQ, profile="16gb", seed=22)).images[0]
    # The next request is planned in fp16 again (the session did not stay in fp32).
    assert second.notes == () and gen.plan.compute_dtype == "float16" and second.model["dtype"] == "float16"


def test_first_image_waits_for_no_hashing(many_forms, monkeypatch):  # noqa: F811
    calls = []
    real = hashing.sha256_file

    def recorded(path):
        calls.append(threading.current_thread().name)
        return real(path)

    monkeypatch.setattr(hashing, "sha256_file", recorded)
    gen = Generator(many_forms, device="cpu", hash_cache=HashCache())
    image = gen.run(REQ).images[0]
    assert image.image.size == (256, 256)
    assert threading.current_thread().name not in calls  # never on the thread making the image
    gen._hasher.thread.join(timeout=60)
    files = gen.model_info()["files"]
    first = gen.model_set.files()[0]
    assert files[0]["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    # Each image says the plan's predicted peak for its own size.
    peak = image.model["predicted_peak_gib"]
    assert (peak["vram"], peak["ram"]) == gen.plan.predicted_peaks(256, 256, enhance=False)


def test_info_json_predicts_for_the_size_asked(tmp_path, capsys):
    assert main(["info", "--data-dir", str(tmp_path), "--json", "--profile", "8gb", "--width", "512",
                 "--height", "512"]) == 0
    small = json.loads(capsys.readouterr().out)
    assert main(["info", "--data-dir", str(tmp_path), "--json", "--profile", "8gb", "--width", "2048",
                 "--height", "2048"]) == 0
    big = json.loads(capsys.readouterr().out)
    assert small["prediction"]["width"] == 512 and small["prediction"]["vram_gib"] < big["prediction"]["vram_gib"]
    rows = {row["component"]: row for row in small["residency"]["components"]}
    assert set(rows) == {"text_encoder", "transformer", "vae"}
    assert rows["transformer"]["phases"]["denoise"] == "device" and small["residency"]["cuda_context_gib"] == 0.5
    assert main(["info", "--data-dir", str(tmp_path), "--width", "250"]) == 2
    assert "250" in capsys.readouterr().err


def test_device_names_a_gpu_by_index(tmp_path, capsys):
    assert main(["generate", "--data-dir", str(tmp_path), "--prompt", "a", "--device", "gpu1"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["generate", "--data-dir", str(tmp_path), "--prompt", "a", "--device", "cuda:1"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "CUDA" in err
