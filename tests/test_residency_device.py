"""Issue 27: an image's predicted peak is for the device that made it. A GPU profile run on the CPU
(`generate --device cpu --profile 4gb`, what bench/recipe_ram.py measures) swaps and pins nothing:
its prediction is the CPU table's, which the measured RSS is compared with."""

from dataclasses import replace

from tests.test_profiles import REQ
from zimage_desktop.engine.generator import Generator


def test_a_gpu_profile_run_on_the_cpu_predicts_its_cpu_table(tiny_models):
    gen = Generator(tiny_models.gguf, device="cpu")
    image = gen.run(replace(REQ, profile="4gb")).images[0]
    plan = gen.plan
    assert plan is not None and plan.profile == "4gb" and plan.device == "cuda"
    peak = image.model["predicted_peak_gib"]
    cpu_vram, cpu_ram = plan.table("cpu").peaks(REQ.width, REQ.height, ("enhance",))
    assert peak["device"] == "cpu" and (peak["vram"], peak["ram"]) == (0.0, cpu_ram) and cpu_vram == 0.0
    # The GPU table would have put the activations in VRAM and a pinned copy in RAM while loading.
    gpu = plan.table()
    assert gpu.component("transformer").pinned and not plan.table("cpu").component("transformer").pinned
    assert plan.predicted_peaks(REQ.width, REQ.height, enhance=False)[0] > 0
