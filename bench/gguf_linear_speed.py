"""One full-size GGUF Linear per call on the CPU: today's path against the alternatives (issue 28).

Layers: the transformer's attention (3840×3840) and feed-forward (10240×3840 in, 3840×10240 out),
the Qwen3-4B encoder's MLP (9728×2560, 2560×9728); tokens per call from ``--tokens`` (100: a prompt
through an encoder; 300: a 256² image and its caption through the transformer) or each layer's
default. Each
weight is a K-quant/Q8_0 of random values (a 64-row slab quantized by the test kit's quantizer,
tiled to the full shape: the speed does not depend on the values). Methods:

- ``dequant``: diffusers' ``GGUFLinear.forward_native`` (dequantize the whole weight, fp32 matmul);
- ``dense-fp32`` / ``dense-bf16``: the weight dequantized once and held (4 / 2 bytes a weight);
- ``fast``: engine/gguf_fast.py, the path this app now takes on the CPU;
- ``int8-row`` (float32 activations) / ``packed``: ``_weight_int8pack_mm`` with one scale per
  row (lossy for groupwise types), or for Q4_K ``_weight_int4pack_mm_for_cpu`` with Q4_K's groups
  of 32; ``packed`` is engine/gguf_packed.py's layer (bfloat16 activations, the converted weights);
- ``int4pack-fp32`` / ``int4pack-bf16``: the int4 kernel alone (Q4_K only).

Prints one JSON line per (layer, tokens, type, method): median ms of ``--repeat`` calls
(``--clock cpu``: this process's CPU time, which a loaded machine disturbs less than wall time; with
N threads it is about N× the wall time of a busy call), bytes held per weight, the largest error of
the output against the product with the file's exact values (gguf-py's dequantizer) relative to the
largest output, and the weight's rms error against the random values the file was made from
(``w_rms``: the file's own quantization, or for ``packed`` the file's plus the conversion's). Usage:
python bench/gguf_linear_speed.py [--repeat 5] [--types Q4_K,Q6_K,Q8_0] [--threads 2] [--clock cpu]
    [--tokens 100,300] [--layers attn,ffn-in,ffn-out]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAYERS = {"attn": (3840, 3840, 300), "ffn-in": (10240, 3840, 300), "ffn-out": (3840, 10240, 300),
          "transformer-ffn-in": (10240, 3840, 288), "transformer-ffn-out": (3840, 10240, 288),
          "encoder-mlp-in": (9728, 2560, 100), "encoder-mlp-out": (2560, 9728, 100)}


def quantized(out_f: int, in_f: int, kind: str):
    import gguf
    import numpy as np
    import torch
    from diffusers.quantizers.gguf.utils import GGUFParameter

    from zimage_desktop.devkit.gguf_files import encode_tensor

    rng = np.random.default_rng(0)
    source = (rng.standard_normal((64, in_f)) * 0.02).astype(np.float32)
    slab, raw = encode_tensor(source, kind)
    blocks = np.ascontiguousarray(np.tile(slab, (out_f // 64, 1)))
    assert raw == gguf.GGMLQuantizationType[kind]
    return GGUFParameter(torch.from_numpy(blocks), quant_type=raw), torch.from_numpy(np.tile(source, (out_f // 64, 1)))


def q4k_groups(weight, out_f: int, in_f: int):
    """Q4_K as (levels 0…15, scale, zero) per group of 32 in the int4pack kernel's convention
    value = (level − 8)·scale + zero (scales and zeros as (in/32, out)): the engine's decoding
    (engine/gguf_packed.q4_k_groups), turned around."""
    from zimage_desktop.engine.gguf_packed import q4_k_groups

    levels, scale, offset = q4_k_groups(weight)
    return levels.reshape(out_f, in_f), scale.t().contiguous(), (8 * scale - offset).t().contiguous()


def timed(fn, repeat: int, clock=time.perf_counter) -> float:
    fn()  # warm-up (allocator, kernels' first call)
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--types", default="Q4_K,Q6_K,Q8_0,Q5_K")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", default="dequant,dense-fp32,dense-bf16,fast,int8-row,int4pack,packed")
    parser.add_argument("--tokens", default="", help="comma-separated token counts (default: each layer's own)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    import gguf
    import torch
    from diffusers.quantizers.gguf.utils import GGUFLinear, dequantize_gguf_tensor

    from zimage_desktop.engine.gguf_fast import FastGGUFLinear
    from zimage_desktop.engine.gguf_packed import PackedGGUFLinear

    torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    methods = args.methods.split(",")
    cases = [(layer, int(t)) for layer in args.layers.split(",")
             for t in (args.tokens.split(",") if args.tokens else [LAYERS[layer][2]])]
    for layer, tokens in cases:
        out_f, in_f, _ = LAYERS[layer]
        x = torch.randn(tokens, in_f) * 0.5
        for kind in args.types.split(","):
            weight, source = quantized(out_f, in_f, kind)
            dense = dequantize_gguf_tensor(weight).float()  # today's values (float16 arithmetic)
            exact_w = torch.from_numpy(gguf.quants.dequantize(weight.as_tensor().numpy(), weight.quant_type))
            exact = x @ exact_w.t()
            scale = exact.abs().max().item()
            w_rms = {name: float((w - source).pow(2).mean().sqrt() / source.pow(2).mean().sqrt())
                     for name, w in (("file", exact_w),)}
            runs: dict[str, tuple] = {}
            if "dequant" in methods:
                linear = GGUFLinear(in_f, out_f, bias=False, compute_dtype=torch.float32)
                linear.weight = torch.nn.Parameter(weight, requires_grad=False)
                runs["dequant"] = (lambda m=linear: m(x), weight.numel())
            if "dense-fp32" in methods:
                runs["dense-fp32"] = (lambda: x @ dense.t(), dense.numel() * 4)
            if "dense-bf16" in methods:
                d16, x16 = dense.bfloat16(), x.bfloat16()
                runs["dense-bf16"] = (lambda: (x16 @ d16.t()).float(), d16.numel() * 2)
            if "fast" in methods:
                fast = FastGGUFLinear(in_f, out_f, bias=False, compute_dtype=torch.float32)
                fast.weight = torch.nn.Parameter(weight, requires_grad=False)
                runs["fast"] = (lambda m=fast: m(x), weight.numel())
            if "int8-row" in methods:
                row = dense.abs().amax(1) / 127
                q8 = torch.round(dense / row[:, None]).to(torch.int8)
                runs["int8-row"] = (lambda: torch.ops.aten._weight_int8pack_mm(x, q8, row), q8.numel() + row.numel() * 4)
            if "int4pack" in methods and kind == "Q4_K":  # exact for Q4_K: groups of 32, scale + zero
                levels, scales, zeros = q4k_groups(weight, out_f, in_f)
                packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(levels, 2)
                sz = torch.stack([scales, zeros], -1)
                runs["int4pack-fp32"] = (lambda: torch.ops.aten._weight_int4pack_mm_for_cpu(x, packed, 32, sz),
                                         packed.numel() + sz.numel() * 4)
                xb, szb = x.bfloat16(), sz.bfloat16()
                runs["int4pack-bf16"] = (lambda: torch.ops.aten._weight_int4pack_mm_for_cpu(xb, packed, 32, szb),
                                         packed.numel() + szb.numel() * 2)
            if "packed" in methods:
                gl = GGUFLinear(in_f, out_f, bias=False, compute_dtype=torch.float32)
                gl.weight = torch.nn.Parameter(weight, requires_grad=False)
                packed_layer = PackedGGUFLinear.from_gguf(gl)
                held = sum(p.numel() * p.element_size() for p in packed_layer.parameters())
                runs["packed-" + packed_layer.kind] = (lambda m=packed_layer: m(x), held)
                if packed_layer.kind == "int8":  # the weight the kernel multiplies by: levels × row step
                    w = packed_layer.weight.float() * packed_layer.scales.float()[:, None]
                    w_rms["packed-int8"] = float((w - source).pow(2).mean().sqrt() / source.pow(2).mean().sqrt())
                    w_rms["packed-int8-vs-file"] = float((w - exact_w).pow(2).mean().sqrt() / exact_w.pow(2).mean().sqrt())
            for name, (fn, nbytes) in runs.items():
                ms = timed(fn, args.repeat, clock)
                error = (fn().float() - exact).abs().max().item() / scale
                print(json.dumps({"layer": layer, "shape": f"{out_f}x{in_f}", "tokens": tokens, "type": kind,
                                  "method": name, "threads": args.threads, "clock": args.clock, "ms": round(ms, 1),
                                  "bytes_per_weight": round(nbytes / dense.numel(), 3),
                                  "rel_error": float(f"{error:.2e}"),
                                  "w_rms": {k: float(f"{v:.2e}") for k, v in w_rms.items()
                                            if k == "file" or name.startswith(k.split("-vs")[0])}}), flush=True)


if __name__ == "__main__":
    main()
