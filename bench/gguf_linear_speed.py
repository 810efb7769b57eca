"""One full-size GGUF Linear per call on the CPU: today's path against the alternatives (issue 28).

Layers: the transformer's feed-forward (10240×3840 in, 3840×10240 out) with 288 tokens (a 256²
image and its prompt) and the Qwen3-4B encoder's MLP (9728×2560, 2560×9728) with 100 tokens. Each
weight is a K-quant/Q8_0 of random values (a 64-row slab quantized by the test kit's quantizer,
tiled to the full shape: the speed does not depend on the values). Methods:

- ``dequant``: diffusers' ``GGUFLinear.forward_native`` (dequantize the whole weight, fp32 matmul);
- ``dense-fp32`` / ``dense-bf16``: the weight dequantized once and held (4 / 2 bytes a weight);
- ``fast``: engine/gguf_fast.py, the path this app now takes on the CPU;
- ``int8-row``: ``_weight_int8pack_mm`` with one scale per row (lossy for groupwise types);
- ``int4pack-fp32`` / ``int4pack-bf16``: ``_weight_int4pack_mm_for_cpu`` with Q4_K's groups of 32
  (exact in float32; Q4_K only).

Prints one JSON line per (layer, type, method): median ms of ``--repeat`` calls, bytes held per
weight, and the largest error against the product with the file's exact values (gguf-py's dequantizer),
relative to the largest output. Usage:
python bench/gguf_linear_speed.py [--repeat 5] [--types Q4_K,Q6_K,Q8_0] [--threads 2]
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

LAYERS = {"transformer-ffn-in": (10240, 3840, 288), "transformer-ffn-out": (3840, 10240, 288),
          "encoder-mlp-in": (9728, 2560, 100), "encoder-mlp-out": (2560, 9728, 100)}


def quantized(out_f: int, in_f: int, kind: str):
    import gguf
    import numpy as np
    import torch
    from diffusers.quantizers.gguf.utils import GGUFParameter

    from zimage_desktop.devkit.gguf_files import encode_tensor

    rng = np.random.default_rng(0)
    slab, raw = encode_tensor((rng.standard_normal((64, in_f)) * 0.02).astype(np.float32), kind)
    blocks = np.ascontiguousarray(np.tile(slab, (out_f // 64, 1)))
    assert raw == gguf.GGMLQuantizationType[kind]
    return GGUFParameter(torch.from_numpy(blocks), quant_type=raw)


def q4k_groups(weight, out_f: int, in_f: int):
    """Q4_K as (levels 0…15, scale, zero) per group of 32 in the int4pack kernel's convention
    value = (level − 8)·scale + zero (scales and zeros as (in/32, out))."""
    import torch
    from diffusers.quantizers.gguf.utils import get_scale_min

    nb = in_f // 256
    blocks = weight.as_tensor().view(torch.uint8).reshape(out_f, nb, 144)
    d = blocks[..., 0:2].contiguous().view(torch.float16).float()
    dmin = blocks[..., 2:4].contiguous().view(torch.float16).float()
    sc, m = get_scale_min(blocks[..., 4:16].reshape(out_f * nb, 12))
    scale = (d * sc.view(out_f, nb, 8).float()).reshape(out_f, nb * 8)
    offset = (dmin * m.view(out_f, nb, 8).float()).reshape(out_f, nb * 8)
    qs = blocks[..., 16:].reshape(out_f, nb, 4, 1, 32)
    levels = torch.cat([qs & 15, qs >> 4], dim=3).reshape(out_f, in_f).to(torch.int32)
    return levels, scale.t().contiguous(), (8 * scale - offset).t().contiguous()


def timed(fn, repeat: int) -> float:
    fn()  # warm-up (allocator, kernels' first call)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--types", default="Q4_K,Q6_K,Q8_0,Q5_K")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", default="dequant,dense-fp32,dense-bf16,fast,int8-row,int4pack")
    args = parser.parse_args()
    import gguf
    import torch
    from diffusers.quantizers.gguf.utils import GGUFLinear, dequantize_gguf_tensor

    from zimage_desktop.engine.gguf_fast import FastGGUFLinear

    torch.set_num_threads(args.threads)
    methods = args.methods.split(",")
    for layer in args.layers.split(","):
        out_f, in_f, tokens = LAYERS[layer]
        x = torch.randn(tokens, in_f) * 0.5
        for kind in args.types.split(","):
            weight = quantized(out_f, in_f, kind)
            dense = dequantize_gguf_tensor(weight).float()  # today's values (float16 arithmetic)
            exact = x @ torch.from_numpy(gguf.quants.dequantize(weight.as_tensor().numpy(), weight.quant_type)).t()
            scale = exact.abs().max().item()
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
            for name, (fn, nbytes) in runs.items():
                ms = timed(fn, args.repeat)
                error = (fn().float() - exact).abs().max().item() / scale
                print(json.dumps({"layer": layer, "shape": f"{out_f}x{in_f}", "tokens": tokens, "type": kind,
                                  "method": name, "ms": round(ms, 1),
                                  "bytes_per_weight": round(nbytes / dense.numel(), 3),
                                  "rel_error": float(f"{error:.2e}")}), flush=True)


if __name__ == "__main__":
    main()
