"""What converting a GGUF text encoder to the int4/int8 CPU kernels costs at load (issue 28), against
what it saves per prompt: loads the encoder file, times one 100-token encode before and after
``pack_for_short_inputs``, and the conversion itself, in wall and process CPU time. (The conversion
alone, the old algorithm against today's, without the full-size files: bench/pack_convert_speed.py.)

Usage: python bench/pack_time.py /work/bigweights/models [--threads 2] [--tokens 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=100)
    args = parser.parse_args()
    import torch

    from zimage_desktop.engine.gguf_encoder import load_gguf_text_encoder
    from zimage_desktop.engine.gguf_packed import pack_for_short_inputs
    from zimage_desktop.engine.model_files import component_config, resolve_model_set

    torch.set_num_threads(args.threads)
    found = resolve_model_set(args.models)
    from transformers import Qwen3Config

    config = Qwen3Config(**component_config(found.config_dir, "text_encoder"))
    encoder = load_gguf_text_encoder(found.text_encoder, config, torch.float32)
    ids = torch.randint(0, 150000, (1, args.tokens))

    def encode() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        with torch.no_grad():
            encoder(input_ids=ids, output_hidden_states=True)
        return time.perf_counter() - wall, time.process_time() - cpu

    encode()  # warm-up (buffers, first-call costs)
    before = encode()
    wall, cpu = time.perf_counter(), time.process_time()
    packed = pack_for_short_inputs(encoder)
    pack = (time.perf_counter() - wall, time.process_time() - cpu)
    encode()
    after = encode()
    print(json.dumps({"file": found.text_encoder.name, "threads": args.threads, "tokens": args.tokens,
                      "layers_packed": packed, "pack_wall_s": round(pack[0], 2), "pack_cpu_s": round(pack[1], 2),
                      "encode_before_wall_s": round(before[0], 2), "encode_before_cpu_s": round(before[1], 2),
                      "encode_after_wall_s": round(after[0], 2), "encode_after_cpu_s": round(after[1], 2),
                      "prompts_to_pay_back": round(pack[0] / max(1e-9, before[0] - after[0]), 1)}))


if __name__ == "__main__":
    main()
