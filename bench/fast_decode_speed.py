"""The CPU's GGUF decode-per-call path (engine/gguf_fast.py) against its decoders before round 36
(zimage_desktop/devkit/fast_reference.py), side by side in one process (issue 28).

For every Linear shape of Z-Image's transformer (as the published Q4_K_M file types them) and of
the Qwen3-4B text encoder (Q6_K), one full-size weight (random values quantized by the devkit's
writers on 256 rows, repeated to the full height: the speed does not depend on the values) is
decoded by the old and the new decoder, alternating, and run through the whole layer with the
tokens of a 256² step (320: bench/peer_sdcpp.py's prompt) or of a prompt (``--prompt-tokens``): the
old way (decode, then F.linear: MKL's float32 matmul) and as ``FastGGUFLinear`` runs it now
(oneDNN's matmul; for a prompt's few tokens a slice of rows decoded and multiplied at a time).
Both decoders must give the same values bit for bit, the layers the same output within float32
rounding (another summation order).

Prints one JSON line per shape (median wall ms of ``--repeat``, and process CPU ms) and a summary
that multiplies each shape by its count in the model: the decoding time of one denoising step and
of one prompt, old and new. Usage:
python bench/fast_decode_speed.py [--repeat 7] [--threads 2] [--prompt-tokens 30] [--only transformer|encoder]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (model, name, rows (out), cols (in), type, count in the model)
SHAPES = [
    ("transformer", "attention.qkv", 11520, 3840, "Q4_K", 34),
    ("transformer", "attention.out", 3840, 3840, "Q6_K", 34),
    ("transformer", "feed_forward.w1/w3", 10240, 3840, "Q4_K", 68),
    ("transformer", "feed_forward.w2", 3840, 10240, "Q6_K", 34),
    ("transformer", "adaLN_modulation", 15360, 256, "Q4_K", 32),
    ("encoder", "q_proj", 4096, 2560, "Q6_K", 36),
    ("encoder", "k_proj/v_proj", 1024, 2560, "Q6_K", 72),
    ("encoder", "o_proj", 2560, 4096, "Q6_K", 36),
    ("encoder", "gate_proj/up_proj", 9728, 2560, "Q6_K", 72),
    ("encoder", "down_proj", 2560, 9728, "Q6_K", 36),
]


def quantized(kind: str, rows: int, cols: int):
    import gguf
    import numpy as np
    import torch
    from diffusers.quantizers.gguf.utils import GGUFParameter

    from zimage_desktop.devkit.gguf_files import encode_tensor

    slab, raw = encode_tensor((np.random.default_rng(0).standard_normal((256, cols)) * 0.02).astype(np.float32), kind)
    blocks = np.ascontiguousarray(np.tile(slab, (-(-rows // 256), 1))[:rows])
    return GGUFParameter(torch.from_numpy(blocks), quant_type=gguf.GGMLQuantizationType[kind])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=30)
    # 256 latent patches + bench/peer_sdcpp.py's prompt (37 tokens in the chat template) padded to 64
    parser.add_argument("--step-tokens", type=int, default=320)
    parser.add_argument("--only", choices=("transformer", "encoder"), default=None)
    args = parser.parse_args()
    import torch

    from zimage_desktop.devkit import fast_reference
    from zimage_desktop.engine import gguf_fast

    torch.set_num_threads(args.threads)
    totals: dict[str, dict[str, float]] = {}
    for model, name, rows, cols, kind, count in SHAPES:
        if args.only and model != args.only:
            continue
        weight = quantized(kind, rows, cols)
        raw = weight.as_tensor().view(torch.uint8).reshape(rows, -1)
        tokens = args.step_tokens if model == "transformer" else args.prompt_tokens
        x = torch.randn(tokens, cols)
        layer = gguf_fast.FastGGUFLinear(cols, rows, bias=False, compute_dtype=torch.float32)
        layer.weight = torch.nn.Parameter(weight, requires_grad=False)
        buffer = gguf_fast._buffer(rows * cols)
        old_decode = fast_reference.DECODERS[kind]

        def old_layer() -> torch.Tensor:
            return torch.nn.functional.linear(x, old_decode(raw, rows, cols, buffer).view(rows, cols))

        runs = {"decode_old": lambda: old_decode(raw, rows, cols, buffer),
                "decode_new": lambda: gguf_fast.dequantize_into(weight, buffer),
                "layer_old": old_layer, "layer_new": lambda: layer(x)}
        expected = old_decode(raw, rows, cols, torch.empty(rows * cols)).clone()
        if not torch.equal(gguf_fast.dequantize_into(weight).view(-1), expected.view(-1)):
            raise SystemExit(f"{name}: the new decoder's values differ from the old one's")
        # The same products: oneDNN's matmul (and for a few tokens a slice of rows at a time) sums
        # them in another order than MKL's F.linear, so float32 rounding apart.
        old_out, new_out = old_layer(), layer(x)
        layer_diff = float((old_out - new_out).abs().max() / old_out.abs().max())
        if layer_diff > 1e-5:
            raise SystemExit(f"{name}: the layer's output differs ({layer_diff:.1e})")
        walls: dict[str, list[float]] = {key: [] for key in runs}
        cpus: dict[str, list[float]] = {key: [] for key in runs}
        for fn in runs.values():
            fn()  # warm-up: scratch, kernels
        for _ in range(args.repeat):
            for key, fn in runs.items():  # alternating, so drift in the machine's load hits both
                wall, cpu = time.perf_counter(), time.process_time()
                fn()
                walls[key].append(time.perf_counter() - wall)
                cpus[key].append(time.process_time() - cpu)
        row = {"model": model, "layer": name, "shape": f"{rows}x{cols}", "type": kind, "tokens": tokens,
               "count": count, "threads": args.threads, "layer_max_rel_diff": float(f"{layer_diff:.1e}")}
        row.update({f"{key}_ms": round(statistics.median(v) * 1000, 1) for key, v in walls.items()})
        row.update({f"{key}_cpu_ms": round(statistics.median(v) * 1000, 1) for key, v in cpus.items()})
        print(json.dumps(row), flush=True)
        total = totals.setdefault(model, {})
        for key, values in walls.items():
            total[key] = total.get(key, 0.0) + statistics.median(values) * count
    for model, total in totals.items():
        summary = {"model": model, "per": "denoising step" if model == "transformer" else "prompt",
                   **{f"{key}_s": round(value, 2) for key, value in total.items()},
                   "decode_new/old": round(total["decode_new"] / total["decode_old"], 2),
                   "layer_new/old": round(total["layer_new"] / total["layer_old"], 2)}
        print("SUMMARY " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
