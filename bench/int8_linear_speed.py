"""int8 × int8 against the fast GGUF path, one transformer layer per call on the CPU (issue 28).

Layers at Z-Image's shapes (attention 3840×3840, feed-forward in 10240×3840 and out 3840×10240) and
token counts (``--tokens``: 288 ≈ a 256² step with its caption, 1100 ≈ 512²). Methods:

- ``fast``: engine/gguf_fast.py (decode the GGUF blocks per call into float32, float32 matmul), per
  type in ``--types``; ``dense-fp32``: the weight held dequantized (the float32 bound);
- ``fbgemm``: ``quantized::linear_dynamic`` on a per-channel int8 weight prepacked once
  (``quantized::linear_prepack`` of ``torch.quantize_per_channel``), the x86 engine,
  ``reduce_range=True`` (7-bit activations, one scale per call, as the x86 engine needs);
- ``onednn``: engine/gguf_int8.Int8Linear (``onednn::qlinear_pointwise``, int8 weights prepacked
  once, 7-bit activations with one scale per token).

The int8 weights are the file's exact values requantized per row (engine/gguf_int8.int8_weight),
so the int8 methods' speed does not depend on the GGUF type and is measured once per shape; their
error is measured per type. Error: the output against the product with the file's exact values
(gguf-py's dequantizer): largest |Δ| relative to the largest |output| (``rel_max``) and rms of Δ
relative to the output's rms (``rel_rms``), for Gaussian activations and again with one token
20× louder than the rest (``outlier_*``: a per-call activation scale spends its levels on it).
Also recorded: warnings each method prints (``warnings``), bytes held per weight.

Prints one JSON line per (layer, tokens, method[, type]); CPU time (``time.process_time``) of this
process, median of ``--repeat`` after a warm-up. Usage:
python bench/int8_linear_speed.py [--threads 1] [--tokens 288,1100] [--layers attn,ffn-in,ffn-out]
    [--types Q4_K,Q6_K,Q8_0] [--methods fast,dense-fp32,fbgemm,onednn] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

LAYERS = {"attn": (3840, 3840), "ffn-in": (10240, 3840), "ffn-out": (3840, 10240)}


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def errors(out: Any, exact: Any) -> tuple[float, float]:
    delta = (out.float() - exact)
    return (float(delta.abs().max() / exact.abs().max()),
            float(delta.pow(2).mean().sqrt() / exact.pow(2).mean().sqrt()))


def caught(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = fn()
    return result, sorted({f"{w.category.__name__}: {str(w.message)[:90]}" for w in seen})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--types", default="Q4_K,Q6_K,Q8_0")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", default="288,1100")
    parser.add_argument("--methods", default="fast,dense-fp32,fbgemm,onednn")
    args = parser.parse_args()
    import gguf
    import torch

    from gguf_linear_speed import quantized
    from zimage_desktop.engine.gguf_fast import FastGGUFLinear
    from zimage_desktop.engine.gguf_int8 import Int8Linear, int8_weight

    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = "x86"
    methods = args.methods.split(",")
    load = os.getloadavg()[0]
    for layer in args.layers.split(","):
        out_f, in_f = LAYERS[layer]
        weights = {kind: quantized(out_f, in_f, kind)[0] for kind in args.types.split(",")}
        exact_w = {kind: torch.from_numpy(gguf.quants.dequantize(w.as_tensor().numpy(), w.quant_type))
                   for kind, w in weights.items()}
        for tokens in (int(t) for t in args.tokens.split(",")):
            torch.manual_seed(0)
            x = torch.randn(tokens, in_f) * 0.5
            loud = x.clone()
            loud[tokens // 2] *= 20
            exact = {kind: (x @ w.t(), loud @ w.t()) for kind, w in exact_w.items()}

            def emit(method: str, ms: float, nbytes: float, kind: str, fn: Callable[[Any], Any],
                     warned: list[str]) -> None:
                rel_max, rel_rms = errors(fn(x), exact[kind][0])
                out_max, out_rms = errors(fn(loud), exact[kind][1])
                print(json.dumps({"layer": layer, "shape": f"{out_f}x{in_f}", "tokens": tokens, "method": method,
                                  "type": kind, "threads": args.threads, "ms_cpu": round(ms, 1),
                                  "bytes_per_weight": round(nbytes / (out_f * in_f), 3),
                                  "rel_max": float(f"{rel_max:.2e}"), "rel_rms": float(f"{rel_rms:.2e}"),
                                  "outlier_rel_max": float(f"{out_max:.2e}"),
                                  "outlier_rel_rms": float(f"{out_rms:.2e}"),
                                  "warnings": warned, "load": round(load, 2)}), flush=True)

            for kind, weight in weights.items():
                if "fast" in methods:
                    fast = FastGGUFLinear(in_f, out_f, bias=False, compute_dtype=torch.float32)
                    fast.weight = torch.nn.Parameter(weight, requires_grad=False)
                    _, warned = caught(lambda m=fast: m(x))
                    emit("fast", timed(lambda m=fast: m(x), args.repeat), weight.numel(), kind, fast, warned)
            first = next(iter(weights))
            if "dense-fp32" in methods:
                dense = exact_w[first]
                emit("dense-fp32", timed(lambda: x @ dense.t(), args.repeat), dense.numel() * 4, first,
                     lambda v: v @ dense.t(), [])
            for method in ("fbgemm", "onednn"):
                if method not in methods:
                    continue
                layers: dict[str, Callable[[Any], Any]] = {}
                warned: list[str] = []
                nbytes = 0.0
                for kind, weight in weights.items():
                    levels, scales = int8_weight(weight)
                    if method == "fbgemm":
                        def make(levels: Any = levels, scales: Any = scales) -> Callable[[Any], Any]:
                            qw = torch._make_per_channel_quantized_tensor(
                                levels, scales.double(), torch.zeros(out_f, dtype=torch.long), 0)
                            packed = torch.ops.quantized.linear_prepack(qw, None)
                            return lambda v: torch.ops.quantized.linear_dynamic(v, packed, True)
                        fn, more = caught(make)
                    else:
                        module, more = caught(lambda: Int8Linear(levels, scales))
                        fn = module
                    _, more_call = caught(lambda f=fn: f(x))
                    warned = sorted(set(warned) | set(more) | set(more_call))
                    layers[kind] = fn
                    nbytes = out_f * in_f + out_f * 8
                ms = timed(lambda: layers[first](x), args.repeat)
                for kind, fn in layers.items():
                    emit(method, ms, nbytes, kind, fn, warned)


if __name__ == "__main__":
    main()
