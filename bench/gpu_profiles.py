"""Memory profiles at full size on a CUDA GPU: peak VRAM and seconds per image for each profile.

Builds the full-size Z-Image transformer (real config: dim 3840, 30 layers, 30 heads,
cap_feat_dim 2560) and a Qwen3-4B-shaped text encoder with random weights (same shapes, so the
same memory and FLOPs), writes them as a ComfyUI-style models folder (bf16 safetensors, GGUF Q8_0
and Q4_0), then for each profile runs the app's Generator at 1024², 8 steps and measures:
peak torch.cuda.max_memory_allocated, seconds per image after one warm-up (prompt cached, as when
re-generating), text-encode seconds for a new prompt, VAE-decode seconds. The first row is plain
diffusers (bf16, everything on the GPU, its own padded prompt encoding) as the baseline.

gguf-py can write Q8_0 and Q4_0 but not K-quants, so Q4_0 stands in for Q4_K_M (4.5 vs ~4.8 bits
per weight) and profiles that prefer Q6_K/Q5_K/Q3_K fall back to what is present (the table says
which form ran). Tokens come from the test kit's byte-level tokenizer (vocabulary padded to
Qwen3's 151,936).

Imports: torch, diffusers, transformers, accelerate, safetensors, gguf, numpy (with gguf), the project.
Usage:  python bench/gpu_profiles.py [--profiles 24gb,16gb,12gb,8gb,6gb,4gb] [--cap-gb 6] [--work DIR]
        python bench/gpu_profiles.py --tiny     # CPU, tiny model: checks the script in CI (< 1 min)
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT_WARM = "A poster for a spring sale: the headline \"SPRING SALE\" in bold gold letters, a cherry tree, soft light"
PROMPT_NEW = "A red lighthouse on a rocky cliff at dawn, seagulls, calm sea, warm light, detailed photograph"


def _quantize_tensor(args):
    name, shape, seed, qname = args
    import gguf
    import numpy as np

    data = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * 0.02
    qtype = gguf.GGMLQuantizationType[qname]
    return name, gguf.quants.quantize(data, qtype), qtype


def write_random_gguf(shapes: dict[str, tuple[int, ...]], path: Path, qname: str, workers: int) -> None:
    """Random weights, quantized in parallel (gguf-py's numpy quantizer is single-threaded)."""
    import gguf
    import numpy as np

    block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[qname]][0]
    writer = gguf.GGUFWriter(str(path), arch="lumina2")
    jobs = [(n, s, i, qname) for i, (n, s) in enumerate(shapes.items())
            if n.endswith(".weight") and len(s) == 2 and s[-1] % block == 0]
    with ProcessPoolExecutor(workers) as pool:
        for name, data, qtype in pool.map(_quantize_tensor, jobs, chunksize=1):
            writer.add_tensor(name, data, raw_dtype=qtype)
    quantized = {j[0] for j in jobs}
    for i, (name, shape) in enumerate(shapes.items()):
        if name not in quantized:
            writer.add_tensor(name, np.random.default_rng(i).standard_normal(shape, dtype=np.float32) * 0.02)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _random_model(model_cls, config, device: str, dtype: torch.dtype):
    """Built directly on the device (fast), weights ~N(0, 0.02) so activations stay finite."""
    with torch.device(device):
        model = model_cls.from_config(config) if hasattr(model_cls, "from_config") else model_cls(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    return model.to(dtype).eval()


def build_random(work: Path, device: str, tiny: bool) -> Path:
    """A ComfyUI-style folder of random weights for the configs in configs/z-image-turbo (the
    shipped real ones, or the test kit's tiny ones with --tiny); returns the models folder."""
    from diffusers import AutoencoderKL, ZImageTransformer2DModel
    from safetensors.torch import save_file
    from transformers import Qwen3Config, Qwen3Model

    from zimage_desktop.devkit.keys import transformer_to_comfy, vae_to_bfl
    from zimage_desktop.devkit.tiny import build_tiny_pipeline, make_tokenizer, write_configs
    from zimage_desktop.engine.model_files import shipped_config_dir

    models = work / "models"
    if (models / "ready.json").exists():
        return models
    configs = models / "configs" / "z-image-turbo"
    if tiny:
        write_configs(build_tiny_pipeline(0), configs)
    else:
        shutil.copytree(shipped_config_dir(), configs, dirs_exist_ok=True)
        make_tokenizer().save_pretrained(configs / "tokenizer")
    for sub in ("diffusion_models", "text_encoders", "vae"):
        (models / sub).mkdir(parents=True, exist_ok=True)
    te = _random_model(Qwen3Model, Qwen3Config.from_pretrained(configs / "text_encoder"), device, torch.bfloat16)
    save_file({f"model.{k}": v.contiguous().cpu() for k, v in te.state_dict().items()},
              models / "text_encoders" / "qwen3_4b_random.safetensors")
    del te
    # The GGUF encoder the 4gb-8gb, mps and cpu plans prefer (issue 11), in the same shapes.
    from zimage_desktop.devkit.gguf_files import write_random_qwen3_gguf

    write_random_qwen3_gguf(Qwen3Config.from_pretrained(configs / "text_encoder").to_dict(),
                            models / "text_encoders" / "Qwen3-4B-Q6_K.gguf", "Q6_K")
    vae = _random_model(AutoencoderKL, AutoencoderKL.load_config(configs / "vae"), device, torch.float32)
    blocks = len(vae.config.block_out_channels)
    save_file({k: v.contiguous().cpu() for k, v in vae_to_bfl(vae.state_dict(), blocks).items()},
              models / "vae" / "ae_random.safetensors")
    del vae
    tr = _random_model(ZImageTransformer2DModel, ZImageTransformer2DModel.load_config(configs / "transformer"),
                       device, torch.bfloat16)
    state = transformer_to_comfy(dict(tr.state_dict()))
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    save_file({k: v.cpu() for k, v in state.items()}, models / "diffusion_models" / "zimage_random_bf16.safetensors")
    del tr, state
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    workers = max(1, min(16, (os.cpu_count() or 2) - 1))
    for q in ("Q8_0", "Q4_0"):
        write_random_gguf(shapes, models / "diffusion_models" / f"zimage_random-{q}.gguf", q, workers)
    (models / "ready.json").write_text("{}")
    return models


def measure(gen, size: int, cuda: bool) -> dict:
    from zimage_desktop.engine.request import GenerationRequest

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    gen.ensure_loaded()
    load_s = time.perf_counter() - t
    req = GenerationRequest(prompt=PROMPT_WARM, width=size, height=size, seed=1)
    gen.run(req)  # warm-up (also encodes PROMPT_WARM)
    t = time.perf_counter()
    image = gen.run(req.for_seed(2)).images[0]  # prompt cached, as when re-generating
    per_image = time.perf_counter() - t
    t = time.perf_counter()
    gen.prompts.encode(PROMPT_NEW)
    encode_s = time.perf_counter() - t
    peak = torch.cuda.max_memory_allocated() / 1024**3 if cuda else float("nan")
    return {"load_s": load_s, "s_per_image": per_image, "encode_s": encode_s,
            "decode_s": image.timings["decode_s"], "peak_gib": peak, "form": gen.plan.transformer_form,
            "dtype": str(gen.dtype).replace("torch.", "")}


def baseline_diffusers(models: Path, size: int, device: str, tiny: bool) -> dict:
    """Plain diffusers: bf16 (fp32 on CPU) pipeline fully on the device, its own padded encoding."""
    from zimage_desktop.engine.loader import load_pipeline
    from zimage_desktop.engine.model_files import resolve_model_set

    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    ms = resolve_model_set(models, transformer=next((models / "diffusion_models").glob("*bf16.safetensors")).name,
                           prefer_text_encoder="bf16")
    cuda = device == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    pipe = load_pipeline(ms, dtype).to(device)
    load_s = time.perf_counter() - t
    kwargs = dict(height=size, width=size, num_inference_steps=8, guidance_scale=0.0)
    pipe(PROMPT_WARM, generator=torch.Generator("cpu").manual_seed(1), **kwargs)
    if cuda:
        torch.cuda.synchronize()
    t = time.perf_counter()
    pipe(PROMPT_WARM, generator=torch.Generator("cpu").manual_seed(2), **kwargs)
    if cuda:
        torch.cuda.synchronize()
    per_image = time.perf_counter() - t
    t = time.perf_counter()
    pipe.encode_prompt(PROMPT_NEW, device=torch.device(device), do_classifier_free_guidance=False)
    encode_s = time.perf_counter() - t
    peak = torch.cuda.max_memory_allocated() / 1024**3 if cuda else float("nan")
    del pipe
    gc.collect()
    return {"load_s": load_s, "s_per_image": per_image, "encode_s": encode_s, "decode_s": float("nan"),
            "peak_gib": peak, "form": "bf16", "dtype": str(dtype).replace("torch.", "")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on the CPU (checks the script)")
    parser.add_argument("--profiles", default="24gb,16gb,12gb,8gb,6gb,4gb")
    parser.add_argument("--cap-gb", type=float, default=0.0, help="enforce this VRAM budget (GiB)")
    parser.add_argument("--size", type=int, default=0, help="image side (default 1024; 256 with --tiny)")
    parser.add_argument("--work", help="folder for the random model files (kept between runs)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    from diffusers.utils import logging as dlog

    from zimage_desktop.engine.devices import GpuInfo, MachineInfo, probe
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import make_plan
    from zimage_desktop.engine.model_files import resolve_model_set

    dlog.set_verbosity_error()
    cuda = torch.cuda.is_available() and not args.tiny
    if not cuda and not args.tiny:
        print("No CUDA GPU: run with --tiny to check the script on the CPU.", file=sys.stderr)
        return 2
    device = "cuda" if cuda else "cpu"
    size = args.size or (256 if args.tiny else 1024)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="zimage-gpu-bench-"))
    t0 = time.perf_counter()
    models = build_random(work, device, args.tiny)
    build_s = time.perf_counter() - t0
    machine = probe()
    if cuda and args.cap_gb:
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, args.cap_gb * 1024**3 / total))
    found = resolve_model_set(models)
    forms = found.available_forms
    gpu_name = torch.cuda.get_device_name(0) if cuda else "CPU (tiny model)"

    rows: list[tuple[str, str, dict | str]] = []
    if not args.no_baseline:
        try:
            rows.append(("diffusers bf16 (baseline)", "all on the device", baseline_diffusers(models, size, device, args.tiny)))
        except torch.OutOfMemoryError:
            rows.append(("diffusers bf16 (baseline)", "all on the device", "out of memory"))
        gc.collect()
        torch.cuda.empty_cache() if cuda else None
    for name in [p for p in args.profiles.split(",") if p]:
        if cuda:
            plan_machine = machine
        else:  # pretend to be a GPU of this size so the planner makes that profile's real plan
            gib = int(name.rstrip("gb")) if name.rstrip("gb").isdigit() else 0
            plan_machine = MachineInfo(gpus=(GpuInfo(0, "pretend", gib * 1024**3, gib * 1024**3, (8, 6), True),),
                                       total_ram=machine.total_ram)
        plan = make_plan(plan_machine, forms, name, present_te_forms=found.text_encoder_forms)
        if not cuda:
            plan = replace(plan, compute_dtype="float32")
        gen = Generator(models, device=device, plan=plan)
        try:
            result: dict | str = measure(gen, size, cuda)
        except Exception as exc:  # OOM under --cap-gb, or a failure worth seeing in the table
            result = f"{type(exc).__name__}: {str(exc)[:80]}"
        rows.append((name, plan.explanation, result))
        gen.unload()
        del gen
        gc.collect()

    print(f"\n### {gpu_name} — {size}×{size}, 8 steps" + (f", capped at {args.cap_gb} GiB" if args.cap_gb else ""))
    print(f"torch {torch.__version__}; random full-size weights built in {build_s:.0f} s" if not args.tiny
          else f"torch {torch.__version__}; tiny random model")
    print("\n| profile | transformer | peak VRAM GiB | s / image | text-encode s | VAE decode s | load s | plan |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    base = rows[0][2] if rows and isinstance(rows[0][2], dict) and rows[0][0].startswith("diffusers") else None
    for name, explanation, r in rows:
        if isinstance(r, str):
            print(f"| {name} | – | – | {r} | – | – | – | {explanation} |")
            continue
        ratio = f" ({r['s_per_image'] / base['s_per_image']:.2f}×)" if base and r is not base else ""
        print(f"| {name} | {r['form']} {r['dtype']} | {r['peak_gib']:.2f} | {r['s_per_image']:.2f}{ratio} | "
              f"{r['encode_s']:.3f} | {r['decode_s']:.3f} | {r['load_s']:.1f} | {explanation} |")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
