"""What switching LoRAs costs: time and memory, without reloading the transformer.

1. Z-Image-Turbo's real layer shapes (the shipped transformer config, built on the meta device so
   no 12 GB of weights are needed): a kohya-layout LoRA of rank ``--rank`` on every attention and
   feed-forward layer of all 34 blocks is written in bf16, then timed: reading it (header checks,
   key conversion, NaN/shape checks), the first ``LoraPatcher.apply`` (read + hooks), changing the
   strength (cached file: only the hooks' list changes), switching it off and on again. Also the
   LoRA's resident size and the process's RSS growth.
2. A small random model generating on the CPU (``--size``): one image without a LoRA, then images
   while switching sets and strengths; prints how many times the transformer was loaded (target 1)
   and the time per image with a LoRA against without.

Imports: torch, diffusers, safetensors and the project.
Usage: python bench/lora_switch.py [--rank 32] [--size 256] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from pathlib import Path

import torch


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_shapes_model():
    from accelerate import init_empty_weights
    from diffusers import ZImageTransformer2DModel

    from zimage_desktop.engine.model_files import shipped_config_dir

    config = ZImageTransformer2DModel.load_config(str(shipped_config_dir()), subfolder="transformer")
    with init_empty_weights():
        return ZImageTransformer2DModel.from_config(config)


def write_kohya(shapes: dict[str, tuple[int, int]], path: Path, rank: int) -> None:
    from safetensors.torch import save_file

    from zimage_desktop.devkit.tiny_loras import TARGETS

    state: dict[str, torch.Tensor] = {}
    g = torch.Generator().manual_seed(0)
    for name, (out, inp) in shapes.items():
        if not any(name.endswith("." + t) for t in TARGETS) or not name.startswith(("layers.", "noise_refiner.",
                                                                                    "context_refiner.")):
            continue
        key = "lora_unet_" + name.replace(".", "_")
        state[f"{key}.lora_down.weight"] = (torch.randn(rank, inp, generator=g) * 0.01).to(torch.bfloat16)
        state[f"{key}.lora_up.weight"] = (torch.randn(out, rank, generator=g) * 0.01).to(torch.bfloat16)
        state[f"{key}.alpha"] = torch.tensor(float(rank))
    save_file(state, str(path))


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def real_shapes(rank: int, tmp: Path) -> None:
    from zimage_desktop.engine.lora_patch import LoraPatcher
    from zimage_desktop.engine.lora_weights import read_lora

    model = real_shapes_model()
    patcher = LoraPatcher(model)
    path = tmp / "real_rank.safetensors"
    write_kohya(patcher.shapes, path, rank)
    size_mb = path.stat().st_size / 1e6
    before = rss_mib()
    read_s = timed(lambda: read_lora(path, patcher.shapes))
    first_s = timed(lambda: patcher.apply([(path, 1.0)]))
    grown = rss_mib() - before
    weights = patcher.load(path)
    strength_s = timed(lambda: patcher.apply([(path, 0.6)]))
    off_s = timed(lambda: patcher.apply([]))
    on_s = timed(lambda: patcher.apply([(path, 1.0)]))
    print(f"Z-Image-Turbo shapes, rank {rank}: {len(weights.layers)} layers, file {size_mb:.0f} MB, "
          f"held {weights.nbytes / 1e6:.0f} MB")
    print("| step | seconds |")
    print("|---|---|")
    for label, value in (("read + convert + check the file", read_s), ("first apply (reads the file, adds hooks)", first_s),
                         ("change the strength", strength_s), ("switch off (hooks removed)", off_s),
                         ("switch on again (cached)", on_s)):
        print(f"| {label} | {value:.3f} |")
    print(f"RSS growth after the first apply: {grown:.0f} MiB; files read: {patcher.files_read}")


def small_model(size: int, tmp: Path) -> None:
    from zimage_desktop.devkit.tiny import SMALL_TEXT_ENCODER, SMALL_TRANSFORMER, build_tiny_pipeline
    from zimage_desktop.devkit.tiny_loras import write_peft_lora
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import GenerationRequest, LoraRef

    folder = tmp / "small"
    pipe = build_tiny_pipeline(0, transformer=SMALL_TRANSFORMER, text_encoder=SMALL_TEXT_ENCODER)
    pipe.save_pretrained(folder)
    for name, seed in (("a", 1), ("b", 2)):
        write_peft_lora(pipe.transformer, folder / "loras" / f"{name}.safetensors", rank=16, alpha=16, seed=seed,
                        magnitude=0.02)
    gen = Generator(folder, device="cpu", previews=False, plan=reference_plan("cpu"))
    loads: list[object] = []
    gen.on_loaded.append(loads.append)

    def image(*loras: tuple[str, float]) -> float:
        req = GenerationRequest(prompt="a lighthouse", width=size, height=size, seed=1,
                                loras=tuple(LoraRef(n, s) for n, s in loras))
        return timed(lambda: gen.run(req))

    image()  # load
    plain = min(image() for _ in range(2))
    sets = [(("a", 1.0),), (("a", 0.5),), (("a", 0.5), ("b", -0.8)), (("b", 1.0),), ()]
    times = [image(*s) for s in sets]
    with_lora = min(times[:4])
    print(f"Small model at {size}²: {len(loads)} transformer load(s) over {len(sets) + 3} images with "
          f"{len(sets)} LoRA sets; files read {gen.lora_patcher.files_read if gen.lora_patcher else 0}")
    print(f"image without LoRA {plain:.2f} s, with LoRA {with_lora:.2f} s (ratio {with_lora / plain:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from diffusers.utils import logging as dlog

    dlog.set_verbosity_error()
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        real_shapes(args.rank, Path(tmp))
        small_model(args.size, Path(tmp))


if __name__ == "__main__":
    main()
