"""The float32 matmul behind every fast GGUF layer on the CPU (engine/gguf_fast.matmul, issue 28):
MKL's (``F.linear``) against oneDNN's (``torch.ops.mkldnn._linear_pointwise``), side by side in one
process, alternating, at the Linear shapes of Z-Image's transformer and of Qwen3-4B and at the
token counts that reach them: 1 (the timestep's layers), 30 (a prompt), 100 (a long prompt), 320 (a
256² step with a 37-token prompt padded to 64) and 1 056 (a 512² step). Random weights: the speed
does not depend on the values. Prints one JSON line per (shape, tokens): median wall ms of
``--repeat`` and the ratio oneDNN / MKL.

Usage: python bench/matmul_speed.py [--repeat 5] [--threads 2] [--tokens 1,30,100,320,1056]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

SHAPES = [("transformer qkv", 11520, 3840), ("transformer attention out", 3840, 3840),
          ("transformer w2", 3840, 10240), ("encoder gate/up", 9728, 2560), ("encoder down", 2560, 9728)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", default="1,30,100,320,1056")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    for name, rows, cols in SHAPES:
        weight = torch.randn(rows, cols)
        for tokens in map(int, args.tokens.split(",")):
            x = torch.randn(tokens, cols)
            runs = {"mkl": lambda: torch.nn.functional.linear(x, weight),
                    "onednn": lambda: torch.ops.mkldnn._linear_pointwise(x, weight, None, "none", [], "")}
            times: dict[str, list[float]] = {key: [] for key in runs}
            for fn in runs.values():
                fn()  # warm-up
            for _ in range(args.repeat):
                for key, fn in runs.items():
                    start = time.perf_counter()
                    fn()
                    times[key].append(time.perf_counter() - start)
            mkl, onednn = (statistics.median(times[key]) * 1000 for key in ("mkl", "onednn"))
            print(json.dumps({"layer": name, "shape": f"{rows}x{cols}", "tokens": tokens, "threads": args.threads,
                              "mkl_ms": round(mkl, 1), "onednn_ms": round(onednn, 1),
                              "onednn/mkl": round(onednn / mkl, 2)}), flush=True)


if __name__ == "__main__":
    main()
