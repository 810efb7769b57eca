"""Peak RAM while loading each transformer form, against the file's size (target ≤ 1.25×).

Writes a mid-size random Z-Image transformer (dim 1536, 8 layers: ~0.5 GB in bf16) as a bf16
ComfyUI file, an fp8 file and GGUF Q8_0, then loads each in a fresh process the way the app does
and reads the process's peak resident memory (VmHWM, reset after imports via clear_refs) on Linux.

Imports: torch, diffusers, safetensors, gguf, the project.
Usage: python bench/load_memory.py [--dim 1536] [--layers 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(models: str, transformer: str, plan_form: str) -> None:
    import torch  # noqa: F401  (imported before the baseline is taken)
    import diffusers  # noqa: F401

    from zimage_desktop.engine.loader import load_transformer
    from zimage_desktop.engine.model_files import resolve_model_set

    import gc
    import threading
    import time

    ms = resolve_model_set(Path(models), transformer)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    base, base_anon = _kib("VmRSS"), _kib("RssAnon")
    peak_anon = [base_anon]
    done = threading.Event()

    def sample() -> None:  # the kernel keeps no peak of anonymous memory: sample it
        while not done.is_set():
            peak_anon[0] = max(peak_anon[0], _kib("RssAnon"))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    model = load_transformer(ms, torch.bfloat16)
    if plan_form == "fp8":
        model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.bfloat16)
    gc.collect()
    done.set()
    sampler.join()
    print(json.dumps({"base_kib": base, "peak_kib": _kib("VmHWM"), "after_kib": _kib("VmRSS"),
                      "base_anon_kib": base_anon, "peak_anon_kib": max(peak_anon[0], _kib("RssAnon")),
                      "after_anon_kib": _kib("RssAnon")}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dim", type=int, default=1536)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    if not Path("/proc/self/clear_refs").exists():
        print("needs Linux (/proc/self/clear_refs)", file=sys.stderr)
        return 2

    from zimage_desktop.devkit.keys import transformer_to_comfy
    from zimage_desktop.devkit.tiny import build_tiny_pipeline, write_comfy_folder, write_gguf

    heads = args.dim // 128
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        pipe = build_tiny_pipeline(0, transformer=dict(dim=args.dim, n_layers=args.layers, n_heads=heads,
                                                       n_kv_heads=heads, axes_dims=[32, 48, 48]))
        write_comfy_folder(pipe, models)
        write_comfy_folder(pipe, Path(tmp) / "fp8", transformer="fp8")
        fp8_file = next((Path(tmp) / "fp8" / "diffusion_models").iterdir())
        fp8_file.rename(models / "diffusion_models" / fp8_file.name)
        write_gguf(transformer_to_comfy(dict(pipe.transformer.state_dict())),
                   models / "diffusion_models" / "zimage-Q8_0.gguf", "Q8_0")
        del pipe
        cases = [("bf16 file → bf16", "tiny_zimage_bf16.safetensors", "bf16"),
                 ("bf16 file → FP8 storage", "tiny_zimage_bf16.safetensors", "fp8"),
                 ("fp8 file → FP8 storage", fp8_file.name, "bf16"),
                 ("GGUF Q8_0", "zimage-Q8_0.gguf", "bf16")]
        print(f"transformer dim {args.dim}, {args.layers} layers\n")
        print("| load | file MB | peak RSS added MB (incl. mmapped file pages) | peak anonymous MB | "
              "anonymous / file | anonymous held after MB |")
        print("|---|---:|---:|---:|---:|---:|")
        worst = 0.0
        for label, name, form in cases:
            size = (models / "diffusion_models" / name).stat().st_size
            out = subprocess.run([sys.executable, __file__, "--child", str(models), name, form],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            added = (r["peak_kib"] - r["base_kib"]) * 1024
            anon = (r["peak_anon_kib"] - r["base_anon_kib"]) * 1024
            held = (r["after_anon_kib"] - r["base_anon_kib"]) * 1024
            ratio = anon / size
            worst = max(worst, ratio)
            print(f"| {label} | {size / 1e6:.0f} | {added / 1e6:.0f} | {anon / 1e6:.0f} | {ratio:.2f} | {held / 1e6:.0f} |")
        print(f"\nworst peak anonymous memory / file size: {worst:.2f} (target <= 1.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
