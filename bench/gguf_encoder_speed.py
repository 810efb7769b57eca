"""The GGUF text encoder against the bf16 one on the CPU: one 100-token prompt (issue 28's target:
the GGUF encoder encodes it in ≤ 2× the bf16 encoder's time).

Qwen3-4B's real widths (hidden 2560, 32/8 heads of 128, MLP 9728) with 1 and 2 decoder layers of
random weights, each built the way the app builds it: the bf16 encoder as ``loader`` holds it on
the CPU (bfloat16 weights, computed in float32 under ``prompts.float32_compute``: each weight cast
per call, ComfyUI's way), the GGUF encoders through ``gguf_encoder.load_gguf_text_encoder`` from a
llama.cpp-layout file (``devkit.write_random_qwen3_gguf``: Q8_0, Q6_K, Q4_K_M), and with
``--packed`` also after ``gguf_packed.pack_for_short_inputs``. Every run costs a + b·layers (the
embedding lookup and final norm are a, each layer adds b); the two depths give both, and the 36
layers of Qwen3-4B are predicted as a + 36·b. The vocabulary is cut to 4096 rows (a lookup reads
only the prompt's rows, so its size does not change the time).

Prints one JSON line per (encoder, layers) with the median of ``--repeat`` calls in this process's
CPU time (``--clock cpu``, default: the machine is shared) and wall time, then one per encoder
with the 36-layer prediction and its ratio to bf16's. Usage:
python bench/gguf_encoder_speed.py [--threads 1] [--tokens 100] [--quants Q8_0,Q6_K,Q4_K_M] [--packed]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FULL_LAYERS = 36


def config_for(layers: int):
    from transformers import Qwen3Config

    from zimage_desktop.engine.model_files import shipped_config_dir

    config = Qwen3Config.from_pretrained(str(shipped_config_dir() / "text_encoder"))
    config.num_hidden_layers = layers
    config.layer_types = config.layer_types[:layers]
    config.vocab_size = 4096
    return config


def bf16_encoder(layers: int):
    import torch
    from transformers import Qwen3Model

    torch.manual_seed(0)
    model = Qwen3Model(config_for(layers)).to(torch.bfloat16).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def gguf_encoder(layers: int, quant: str, folder: Path, packed: bool):
    import torch

    from zimage_desktop.devkit.gguf_files import write_random_qwen3_gguf
    from zimage_desktop.engine.gguf_encoder import load_gguf_text_encoder

    config = config_for(layers)
    path = folder / f"qwen3-{layers}-{quant}.gguf"
    if not path.exists():
        write_random_qwen3_gguf(config.to_dict(), path, quant)
    model = load_gguf_text_encoder(path, config, torch.float32)
    if packed:
        from zimage_desktop.engine.gguf_packed import pack_for_short_inputs

        pack_for_short_inputs(model)
    return model


def timed(model, tokens: int, repeat: int) -> tuple[float, float]:
    import torch

    from zimage_desktop.engine.prompts import float32_compute

    ids = torch.randint(0, 4096, (1, tokens), generator=torch.Generator().manual_seed(0))

    def encode():
        with torch.inference_mode(), float32_compute(model):
            return model(input_ids=ids, attention_mask=torch.ones_like(ids, dtype=torch.bool),
                         output_hidden_states=True).hidden_states[-2]

    encode()  # warm-up: allocator, the fast path's scratch buffer
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        encode()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quants", default="Q8_0,Q6_K,Q4_K_M")
    parser.add_argument("--packed", action="store_true", help="also the int8/int4-kernel form of each GGUF encoder")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    encoders = ["bf16"] + [q for q in args.quants.split(",") if q]
    encoders += [q + "-packed" for q in args.quants.split(",") if q and args.packed]
    fits: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in encoders:
            times = {}
            for layers in (1, 2):
                quant = name.removesuffix("-packed")
                model = bf16_encoder(layers) if name == "bf16" else gguf_encoder(layers, quant, Path(tmp), name != quant)
                cpu, wall = timed(model, args.tokens, args.repeat)
                del model
                times[layers] = cpu if args.clock == "cpu" else wall
                print(json.dumps({"encoder": name, "layers": layers, "tokens": args.tokens, "threads": args.threads,
                                  "cpu_s": round(cpu, 3), "wall_s": round(wall, 3)}), flush=True)
            per_layer = times[2] - times[1]
            fits[name] = times[1] + per_layer * (FULL_LAYERS - 1)
            print(json.dumps({"encoder": name, "clock": args.clock, "per_layer_s": round(per_layer, 3),
                              f"predicted_{FULL_LAYERS}_layers_s": round(fits[name], 2),
                              "ratio_to_bf16": round(fits[name] / fits["bf16"], 2)}), flush=True)


if __name__ == "__main__":
    main()
