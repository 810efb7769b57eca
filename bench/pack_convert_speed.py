"""How long converting one GGUF weight to PyTorch's int8/int4 CPU kernels takes (issue 28): the old
conversion (zimage_desktop/devkit/pack_reference.py) and today's (engine/gguf_packed.py) side by
side in one process, on one full-size-shaped tensor at a time (Qwen3-4B's MLP: 9728×2560 and
2560×9728), in process CPU time (median of --repeat, old and new alternating), checking that both
give the same tensors bit for bit. --stages also splits the old Q6_K conversion into its steps.

No model file is needed: each tensor is random values quantized by the devkit's writers
(zimage_desktop/devkit/kquants.py, ggml's reference quantizers) on 256 rows, repeated to the full
height (timing does not depend on the values).

Usage: python bench/pack_convert_speed.py [--types Q6_K,Q4_K,Q8_0] [--repeat 5] [--threads 1] [--stages]
       [--shapes mlp-in,mlp-out|ROWSxCOLS]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHAPES = {"mlp-in": (9728, 2560), "mlp-out": (2560, 9728)}
QWEN3_4B_WEIGHTS = 36 * (2560 * 4096 + 2 * 2560 * 1024 + 4096 * 2560 + 3 * 2560 * 9728)  # 252 Linear layers


def quantized(kind: str, rows: int, cols: int):
    import gguf
    import numpy as np
    import torch
    from diffusers.quantizers.gguf.utils import GGUFParameter

    from zimage_desktop.devkit.gguf_files import encode_tensor

    slab, raw = encode_tensor((np.random.default_rng(0).standard_normal((256, cols)) * 0.02).astype(np.float32), kind)
    blocks = np.ascontiguousarray(np.tile(slab, (-(-rows // 256), 1))[:rows])
    return GGUFParameter(torch.from_numpy(blocks), quant_type=gguf.GGMLQuantizationType[kind])


def old_q6_k_stages(weight) -> dict[str, float]:
    """The old Q6_K conversion step by step (CPU seconds)."""
    import torch

    from zimage_desktop.devkit.pack_reference import exact_values

    times: dict[str, float] = {}
    clock = time.process_time()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.process_time()
        times[name] = round(now - clock, 4)
        clock = now

    values = exact_values(weight)
    lap("decode to float32 (fresh tensor)")
    peak = values.abs().amax(1)
    lap("abs + amax per row")
    step = (peak / 127 * (1 + 2**-8)).clamp_min(1e-30).to(torch.bfloat16)
    lap("scale per row")
    quotient = values / step.float()[:, None]
    lap("divide (fresh tensor)")
    rounded = torch.round(quotient)
    lap("round (fresh tensor)")
    rounded.clamp_(-127, 127)
    lap("clamp (in place)")
    rounded.to(torch.int8)
    lap("to int8")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--types", default="Q6_K,Q4_K,Q8_0")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stages", action="store_true")
    parser.add_argument("--shapes", default="mlp-in,mlp-out", help="names above or ROWSxCOLS (tests: a small one)")
    args = parser.parse_args()
    import torch

    from zimage_desktop.devkit import pack_reference
    from zimage_desktop.engine.gguf_packed import PackedGGUFLinear

    torch.set_num_threads(args.threads)

    def new(weight):
        layer = torch.nn.Linear(1, 1, bias=False)
        layer.weight = torch.nn.Parameter(weight, requires_grad=False)
        packed = PackedGGUFLinear.from_gguf(layer)
        return packed.kind, packed.weight.data, packed.scales.data

    for kind in args.types.split(","):
        for name in args.shapes.split(","):
            rows, cols = SHAPES[name] if name in SHAPES else map(int, name.split("x"))
            weight = quantized(kind, rows, cols)
            times: dict[str, list[float]] = {"old": [], "new": []}
            kernel: dict[str, list[float]] = {"old": [], "new": []}  # system time: page faults of fresh memory
            results = {}
            kept = []  # every result stays alive, as a loaded encoder's layers do: each output is fresh memory
            for _ in range(args.repeat):
                for which, convert in (("old", pack_reference.convert), ("new", new)):
                    start, system = time.process_time(), os.times().system
                    results[which] = convert(weight)
                    kept.append(results[which])
                    times[which].append(time.process_time() - start)
                    kernel[which].append(os.times().system - system)
            same = results["old"][0] == results["new"][0] and all(
                torch.equal(a.view(torch.uint8) if a.dtype != torch.bfloat16 else a.view(torch.int16),
                            b.view(torch.uint8) if b.dtype != torch.bfloat16 else b.view(torch.int16))
                for a, b in zip(results["old"][1:], results["new"][1:]))
            old, fresh = statistics.median(times["old"]), statistics.median(times["new"])
            line = {"type": kind, "shape": f"{rows}x{cols}", "form": results["new"][0], "threads": args.threads,
                    "old_cpu_s": round(old, 4), "new_cpu_s": round(fresh, 4), "speedup": round(old / fresh, 2),
                    "old_system_cpu_s": round(statistics.median(kernel["old"]), 4),
                    "new_system_cpu_s": round(statistics.median(kernel["new"]), 4),
                    "old_ns_per_weight": round(old / (rows * cols) * 1e9, 2),
                    "new_ns_per_weight": round(fresh / (rows * cols) * 1e9, 2),
                    "qwen3_4b_all_layers_new_cpu_s": round(fresh / (rows * cols) * QWEN3_4B_WEIGHTS, 1),
                    "identical": same}
            if args.stages and kind == "Q6_K":
                line["old_stages_cpu_s"] = old_q6_k_stages(weight)
            print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
