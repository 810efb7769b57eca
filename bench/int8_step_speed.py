"""One denoising step of Z-Image's transformer on the CPU: the fast GGUF path against ``--cpu-int8``
(engine/gguf_int8.py), in CPU time (issue 28).

Z-Image-Turbo's real widths (dim 3840, 30 heads, FFN 10240, caption features 2560, 2 noise and 2
context refiner blocks) with 1 and 2 main blocks of random weights in a GGUF file written the way
the published files are laid out (``devkit.write_streamed`` + ``transformer_type_for``: Q4_K_M mix
by default), loaded as engine/loader.py loads it (``read_gguf_state`` → ``from_single_file`` →
``gguf_fast.speed_up``) and, for "int8", then converted by ``gguf_int8.convert_to_int8``. A step
costs a + b·blocks; the two depths give both, and the 30 blocks of the real model are predicted as
a + 30·b. Tokens: a 256² image is 256 latent patches and a caption padded to 32 (288 tokens); 512²
is 1024 + 32 (``--sizes``).

Also measured: the conversion's CPU time per weight, and the process's peak resident memory during
the conversion against before and after it (sampled every 2 ms from /proc/self/statm): a streamed
conversion peaks near the larger of the two forms, never at their sum.

Prints one JSON line per (size, path, blocks) and one per (size, path) with the prediction and
the int8 / fast ratio. Usage:
python bench/int8_step_speed.py [--threads 1] [--sizes 256,512] [--quant Q4_K_M] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FULL_BLOCKS = 30
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def write_model(folder: Path, blocks: int, quant: str) -> Path:
    import shutil

    import torch
    from diffusers import ZImageTransformer2DModel

    from zimage_desktop.devkit.gguf_files import transformer_type_for, write_streamed
    from zimage_desktop.devkit.keys import transformer_to_comfy
    from zimage_desktop.engine.model_files import shipped_config_dir

    root = folder / f"blocks{blocks}"
    config_dir = root / "transformer"
    config_dir.mkdir(parents=True, exist_ok=True)
    config = json.loads((shipped_config_dir() / "transformer" / "config.json").read_text())
    config["n_layers"] = blocks
    (config_dir / "config.json").write_text(json.dumps(config))
    path = root / f"model-{quant}.gguf"
    if not path.exists():
        with torch.device("meta"):
            model = ZImageTransformer2DModel.from_config(config)
            shapes = {k: tuple(v.shape) for k, v in transformer_to_comfy(dict(model.state_dict())).items()}
        write_streamed(path, "lumina2", [(n, s, transformer_type_for(n, quant)) for n, s in shapes.items()])
    shutil.copy(config_dir / "config.json", root / "config.json")
    return path


def load(path: Path):
    import torch
    from diffusers import GGUFQuantizationConfig, ZImageTransformer2DModel

    from zimage_desktop.engine.gguf_fast import speed_up
    from zimage_desktop.engine.gguf_read import read_gguf_state

    model = ZImageTransformer2DModel.from_single_file(
        read_gguf_state(path), quantization_config=GGUFQuantizationConfig(compute_dtype=torch.float32),
        config=str(path.parent), subfolder="transformer", local_files_only=True, torch_dtype=torch.float32)
    speed_up(model)
    return model.eval()


def convert(model) -> dict:
    from zimage_desktop.engine.gguf_int8 import Int8Linear, convert_to_int8

    peak = [rss()]
    before = peak[0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.process_time()
    layers = convert_to_int8(model)
    cpu = time.process_time() - start
    stop.set()
    sampler.join()
    weights = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, Int8Linear))
    after = rss()
    return {"layers": layers, "weights": weights, "cpu_s": round(cpu, 2), "ns_per_weight": round(cpu / weights * 1e9, 2),
            "rss_before_mib": before >> 20, "rss_after_mib": after >> 20, "rss_peak_mib": max(peak[0], after) >> 20}


def step_time(model, size: int, repeat: int) -> float:
    import torch

    torch.manual_seed(0)
    latent = [torch.randn(16, 1, size // 8, size // 8)]
    caption = [torch.randn(32, 2560)]
    t = torch.tensor([0.5])

    def call() -> None:
        with torch.inference_mode():
            model(latent, t, caption, return_dict=False)

    call()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--quant", default="Q4_K_M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", default="", help="folder for the GGUF files (default: a temporary one)")
    args = parser.parse_args()
    import gc

    import torch

    torch.set_num_threads(args.threads)
    folder = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="int8-step-"))
    sizes = [int(s) for s in args.sizes.split(",")]
    times: dict[tuple[int, str, int], float] = {}
    for blocks in (1, 2):
        path = write_model(folder, blocks, args.quant)
        for mode in ("fast", "int8"):
            gc.collect()
            model = load(path)
            if mode == "int8":
                print(json.dumps({"conversion": convert(model), "blocks": blocks, "quant": args.quant,
                                  "threads": args.threads}), flush=True)
            for size in sizes:
                times[size, mode, blocks] = step_time(model, size, args.repeat)
                print(json.dumps({"size": size, "path": mode, "blocks": blocks, "quant": args.quant,
                                  "threads": args.threads, "step_cpu_s": round(times[size, mode, blocks], 3),
                                  "load": round(os.getloadavg()[0], 2)}), flush=True)
            del model
    for size in sizes:
        predicted = {}
        for mode in ("fast", "int8"):
            b = times[size, mode, 2] - times[size, mode, 1]
            a = times[size, mode, 1] - b
            predicted[mode] = a + FULL_BLOCKS * b
        print(json.dumps({"size": size, "quant": args.quant, "threads": args.threads,
                          "predicted_30_blocks_cpu_s": {k: round(v, 1) for k, v in predicted.items()},
                          "fast_over_int8": round(predicted["fast"] / predicted["int8"], 2)}), flush=True)


if __name__ == "__main__":
    main()
