"""Memory profiles at full size on a CUDA GPU: peak VRAM and seconds per image for each profile.

Builds the full-size Z-Image transformer (real config: dim 3840, 30 layers, 30 heads,
cap_feat_dim 2560), a Qwen3-4B-shaped text encoder and the FLUX VAE with random weights (same
shapes, so the same memory and FLOPs), as a ComfyUI-style models folder holding only the files the
measured plans load. Then, profile by profile, with the CUDA allocator capped at that profile's
card size (minus 0.5 GiB for the CUDA context), it runs the app's Generator at 1024², 8 steps and
prints one row as soon as the profile is done: seconds per image with the prompt cached (as when
re-generating), seconds for an image with a new prompt (encoding, and any swap it causes), the
encoding alone, the VAE decode, peak allocated and peak reserved VRAM (a card must hold the
reserved peak plus the CUDA context), and the load time. Timings are synchronised. The first row
is plain diffusers (bf16, everything on the GPU, its own padded prompt encoding), uncapped.
After each profile's row come its edit rows ("24gb img2img", "24gb inpaint": the same size, the
prompt cached, the allocator's cache emptied first), checked against engine/edit_plan.edit_peaks.

gguf-py writes Q8_0 and Q4_0 but no K-quants, so Q4_0 stands in for Q4_K_M (4.5 vs ~4.8 bits per
weight) and for the Q6_K/Q5_K/Q3_K the 8gb/6gb/4gb plans prefer (the table says which form ran).
GGUF files are quantized before CUDA is touched (a process pool must not fork a CUDA process).
Tokens come from the test kit's byte-level tokenizer (vocabulary padded to Qwen3's 151,936).
Files are kept in --work with their sha256 cache, so the second part reuses them.

Runs from a plain checkout:  PYTHONPATH=. python bench/gpu_profiles.py …  (docs/PERFORMANCE.md
has the prepared commands for the lent GPU machines, whose Python lacks diffusers and gguf).
Usage:  python bench/gpu_profiles.py [--part 1|2 | --profiles 24gb,…] [--work DIR] [--no-baseline]
        python bench/gpu_profiles.py --tiny     # CPU, tiny model: checks the script in CI (< 1 min)
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
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
PROMPT_NEW2 = "A bowl of ramen on a wooden table, steam rising, chopsticks, soft window light, food photography"
PARTS = {"1": "24gb,16gb,12gb", "2": "8gb,6gb,4gb"}
CARD_GIB = {"24gb": 24, "16gb": 16, "12gb": 12, "8gb": 8, "6gb": 6, "4gb": 4}
CONTEXT_GIB = 0.5  # what the CUDA context takes of a card outside the allocator
# The file that stands in for each transformer form (see the module docstring).
FILE_FORM = {"bf16": "bf16", "fp8": "bf16", "Q8_0": "Q8_0", "Q6_K": "Q4_0", "Q5_K": "Q4_0", "Q4_K": "Q4_0",
             "Q3_K": "Q4_0"}


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
    # spawn, not fork: safe whatever the parent has initialised.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
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


def _comfy_shapes(configs: Path) -> dict[str, tuple[int, ...]]:
    """The ComfyUI-key tensor shapes of the transformer, from a model on the meta device."""
    from accelerate import init_empty_weights
    from diffusers import ZImageTransformer2DModel

    from zimage_desktop.devkit.keys import transformer_to_comfy

    with init_empty_weights():
        model = ZImageTransformer2DModel.from_config(ZImageTransformer2DModel.load_config(configs / "transformer"))
    return {k: tuple(v.shape) for k, v in transformer_to_comfy(dict(model.state_dict())).items()}


def build_random(work: Path, device: str, tiny: bool, files: set[str]) -> Path:
    """A ComfyUI-style folder of random weights for the configs in configs/z-image-turbo (the
    shipped real ones, or the test kit's tiny ones with --tiny), holding the ``files``: transformer
    forms ("bf16", "Q8_0", "Q4_0") and text encoders ("te:bf16", "te:Q6_K"), and the VAE; returns
    the models folder. Files already there are kept. GGUF files are written first, before
    ``device`` is touched."""
    from diffusers import AutoencoderKL, ZImageTransformer2DModel
    from safetensors.torch import save_file
    from transformers import Qwen3Config, Qwen3Model

    from zimage_desktop.devkit.keys import transformer_to_comfy, vae_to_bfl
    from zimage_desktop.devkit.tiny import build_tiny_pipeline, make_tokenizer, write_configs
    from zimage_desktop.engine.model_files import shipped_config_dir

    models = work / "models"
    configs = models / "configs" / "z-image-turbo"
    if not (configs / "tokenizer").is_dir():
        if tiny:
            write_configs(build_tiny_pipeline(0), configs)
        else:
            shutil.copytree(shipped_config_dir(), configs, dirs_exist_ok=True)
            make_tokenizer().save_pretrained(configs / "tokenizer")
    for sub in ("diffusion_models", "text_encoders", "vae"):
        (models / sub).mkdir(parents=True, exist_ok=True)
    workers = max(1, min(16, (os.cpu_count() or 2) - 1))
    for q in sorted(f for f in files - {"bf16"} if not f.startswith("te:")):
        target = models / "diffusion_models" / f"zimage_random-{q}.gguf"
        if not target.exists():
            write_random_gguf(_comfy_shapes(configs), target.with_suffix(".part"), q, workers)
            target.with_suffix(".part").rename(target)
    te_config = Qwen3Config.from_pretrained(configs / "text_encoder")
    for q in sorted(f[3:] for f in files if f.startswith("te:") and f != "te:bf16"):
        from zimage_desktop.devkit.gguf_files import write_random_qwen3_gguf

        target = models / "text_encoders" / f"Qwen3-4B-{q}.gguf"
        if not target.exists():
            write_random_qwen3_gguf(te_config.to_dict(), target.with_suffix(".part"), q)
            target.with_suffix(".part").rename(target)
    te_file = models / "text_encoders" / "qwen3_4b_random.safetensors"
    if "te:bf16" in files and not te_file.exists():
        te = _random_model(Qwen3Model, te_config, device, torch.bfloat16)
        save_file({f"model.{k}": v.contiguous().cpu() for k, v in te.state_dict().items()}, te_file)
        del te
    vae_file = models / "vae" / "ae_random.safetensors"
    if not vae_file.exists():
        vae = _random_model(AutoencoderKL, AutoencoderKL.load_config(configs / "vae"), device, torch.float32)
        blocks = len(vae.config.block_out_channels)
        save_file({k: v.contiguous().cpu() for k, v in vae_to_bfl(vae.state_dict(), blocks).items()}, vae_file)
        del vae
    bf16_file = models / "diffusion_models" / "zimage_random_bf16.safetensors"
    if "bf16" in files and not bf16_file.exists():
        tr = _random_model(ZImageTransformer2DModel, ZImageTransformer2DModel.load_config(configs / "transformer"),
                           device, torch.bfloat16)
        save_file({k: v.contiguous().cpu() for k, v in transformer_to_comfy(dict(tr.state_dict())).items()}, bf16_file)
        del tr
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return models


def _sync(cuda: bool) -> None:
    if cuda:
        torch.cuda.synchronize()


def measure(gen, size: int, cuda: bool) -> dict:
    from zimage_desktop.engine.request import GenerationRequest

    def timed(fn):
        _sync(cuda)
        t = time.perf_counter()
        result = fn()
        _sync(cuda)
        return result, time.perf_counter() - t

    _, load_s = timed(gen.ensure_loaded)
    req = GenerationRequest(prompt=PROMPT_WARM, width=size, height=size, seed=1)
    gen.run(req)  # warm-up (also encodes PROMPT_WARM)
    result, per_image = timed(lambda: gen.run(req.for_seed(2)))  # prompt cached, as when re-generating
    _, encode_s = timed(lambda: gen.prompts.encode(PROMPT_NEW))
    _, new_prompt_s = timed(lambda: gen.run(replace(req, prompt=PROMPT_NEW2, seed=3)))
    gib = 1024**3
    assert gen.model_set is not None
    # The form of the file that ran (a Q4_0 file stands in for Q4_K…), not the plan's wish.
    ran = gen.model_set.transformer_form
    form = ran if ran == gen.plan.transformer_form else f"{ran} (plan: {gen.plan.transformer_form})"
    return {"load_s": load_s, "s_per_image": per_image, "new_prompt_s": new_prompt_s, "encode_s": encode_s,
            "decode_s": result.images[0].timings["decode_s"], "form": form,
            "dtype": str(gen.dtype).replace("torch.", ""),
            "alloc_gib": torch.cuda.max_memory_allocated() / gib if cuda else float("nan"),
            "reserved_gib": torch.cuda.max_memory_reserved() / gib if cuda else float("nan")}


EDIT_MODES = (("img2img", 0.6), ("inpaint", 1.0))  # strength: 5 of 8 steps; a whole redraw of the mask


def edit_inputs(work: Path, size: int) -> tuple[Path, Path]:
    """A random source picture and a mask (the middle third) of ``size``², written once."""
    import numpy as np
    from PIL import Image

    source, mask = work / f"edit-source-{size}.png", work / f"edit-mask-{size}.png"
    if not source.exists():
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(source)
        m = np.zeros((size, size), np.uint8)
        m[size // 3:2 * size // 3, size // 3:2 * size // 3] = 255
        Image.fromarray(m).save(mask)
    return source, mask


def measure_edits(gen, size: int, cuda: bool, work: Path) -> dict[str, dict | str]:
    """Image-to-image and inpaint at ``size``² on the loaded generator (prompt cached), each with the
    allocator's cache emptied and its peaks reset first, so the row is the edit's own peak."""
    from zimage_desktop.engine.request import GenerationRequest

    source, mask = edit_inputs(work, size)
    rows: dict[str, dict | str] = {}
    gib = 1024**3
    for mode, strength in EDIT_MODES:
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        req = GenerationRequest(prompt=PROMPT_WARM, width=size, height=size, seed=4, mode=mode, source=str(source),
                                mask=str(mask) if mode == "inpaint" else None, strength=strength)
        try:
            _sync(cuda)
            t = time.perf_counter()
            gen.run(req)
            _sync(cuda)
            seconds = time.perf_counter() - t
        except Exception as exc:  # out of memory under the cap, or a failure worth seeing in the table
            rows[mode] = f"{type(exc).__name__}: {str(exc)[:80]}"
            continue
        assert gen.model_set is not None
        rows[mode] = {"load_s": float("nan"), "s_per_image": seconds, "new_prompt_s": float("nan"),
                      "encode_s": float("nan"), "decode_s": float("nan"),  # an edit's timings lump the decode in
                      "form": gen.model_set.transformer_form, "dtype": str(gen.dtype).replace("torch.", ""),
                      "alloc_gib": torch.cuda.max_memory_allocated() / gib if cuda else float("nan"),
                      "reserved_gib": torch.cuda.max_memory_reserved() / gib if cuda else float("nan")}
    return rows


def baseline_diffusers(models: Path, size: int, device: str) -> dict:
    """Plain diffusers: bf16 (fp32 on CPU) pipeline fully on the device, its own padded encoding."""
    from zimage_desktop.engine.loader import load_pipeline
    from zimage_desktop.engine.model_files import resolve_model_set

    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    ms = resolve_model_set(models, transformer=next((models / "diffusion_models").glob("*bf16.safetensors")).name,
                           prefer_text_encoder="bf16")
    cuda = device == "cuda"
    t = time.perf_counter()
    pipe = load_pipeline(ms, dtype).to(device)
    pipe.set_progress_bar_config(disable=True)
    _sync(cuda)
    load_s = time.perf_counter() - t
    kwargs = dict(height=size, width=size, num_inference_steps=8, guidance_scale=0.0)
    pipe(PROMPT_WARM, generator=torch.Generator("cpu").manual_seed(1), **kwargs)
    _sync(cuda)
    t = time.perf_counter()
    pipe(PROMPT_WARM, generator=torch.Generator("cpu").manual_seed(2), **kwargs)
    _sync(cuda)
    per_image = time.perf_counter() - t
    t = time.perf_counter()
    pipe.encode_prompt(PROMPT_NEW, device=torch.device(device), do_classifier_free_guidance=False)
    _sync(cuda)
    encode_s = time.perf_counter() - t
    t = time.perf_counter()  # measured, not computed: a whole image with a prompt it has not seen
    pipe(PROMPT_NEW2, generator=torch.Generator("cpu").manual_seed(3), **kwargs)
    _sync(cuda)
    new_prompt_s = time.perf_counter() - t
    gib = 1024**3
    result = {"load_s": load_s, "s_per_image": per_image, "new_prompt_s": new_prompt_s, "encode_s": encode_s,
              "decode_s": float("nan"), "form": "bf16", "dtype": str(dtype).replace("torch.", ""),
              "alloc_gib": torch.cuda.max_memory_allocated() / gib if cuda else float("nan"),
              "reserved_gib": torch.cuda.max_memory_reserved() / gib if cuda else float("nan")}
    del pipe
    return result


def _fresh_allocator(cuda: bool, cap_gib: float = 0.0) -> None:
    """Release what the last profile held, reset the peaks, and cap the allocator for the next."""
    gc.collect()
    if not cuda:
        return
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, cap_gib * 1024**3 / total) if cap_gib else 1.0)
    torch.cuda.reset_peak_memory_stats()


def pretend_machine(profile: str, total_ram: int):
    """A bf16 GPU of the profile's card size, so the planner makes that profile's plan."""
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo

    gib = CARD_GIB.get(profile, 0)
    gpus = (GpuInfo(0, "pretend", gib * 1024**3, gib * 1024**3, (8, 6), True),) if gib else ()
    return MachineInfo(gpus=gpus, total_ram=total_ram)


def cuda_context_gib() -> float:
    """What this process holds on the card outside the allocator (the CUDA context and
    libraries), measured: used memory minus the allocator's reservation."""
    free, total = torch.cuda.mem_get_info()
    return (total - free - torch.cuda.memory_reserved()) / 1024**3


def verdict(r: dict | str, predicted: float, context: float) -> str:
    """Measured peak (reserved + context) against the residency table's prediction + 5 %."""
    if isinstance(r, str) or r["reserved_gib"] != r["reserved_gib"]:  # failed, or no GPU (NaN)
        return "–"
    measured = r["reserved_gib"] + context
    return f"{measured:.2f} ≤ {predicted * 1.05:.2f}: {'yes' if measured <= predicted * 1.05 else 'NO'}"


def print_row(name: str, explanation: str, r: dict | str, base: dict | None, check: str = "–") -> None:
    if isinstance(r, str):
        print(f"| {name} | – | – | – | {r} | – | – | – | – | {check} | {explanation} |", flush=True)
        return
    # Like with like: each "new prompt" image encodes a prompt it has not seen, ours and diffusers'.
    ratio = f" ({r['new_prompt_s'] / base['new_prompt_s']:.2f}×)" if base and r is not base else ""
    def f(key: str, digits: int) -> str:  # "–" for what a row does not measure (NaN)
        return f"{r[key]:.{digits}f}" if r[key] == r[key] else "–"

    print(f"| {name} | {r['form']} {r['dtype']} | {f('alloc_gib', 2)} | {f('reserved_gib', 2)} | "
          f"{f('s_per_image', 2)} | {f('new_prompt_s', 2)}{ratio} | {f('encode_s', 3)} | {f('decode_s', 3)} | "
          f"{f('load_s', 1)} | {check} | {explanation} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on the CPU (checks the script)")
    parser.add_argument("--part", choices=sorted(PARTS), help="1: baseline, 24gb, 16gb, 12gb; 2: 8gb, 6gb, 4gb")
    parser.add_argument("--profiles", help="comma-separated profiles (default: all)")
    parser.add_argument("--size", type=int, default=0, help="image side (default 1024; 256 with --tiny)")
    parser.add_argument("--work", help="folder for the random model files (kept between runs)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-edits", action="store_true", help="skip the image-to-image and inpaint rows")
    args = parser.parse_args()

    from diffusers.utils import logging as dlog

    from zimage_desktop.engine.edit_plan import edit_peaks
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.model_files import resolve_model_set
    from zimage_desktop.engine.planner import make_plan
    from zimage_desktop.models.hashing import HashCache

    dlog.set_verbosity_error()
    # Decided without touching CUDA: the GGUF files are written first.
    cuda = not args.tiny and torch.cuda.is_available()
    if not cuda and not args.tiny:
        print("No CUDA GPU: run with --tiny to check the script on the CPU.", file=sys.stderr)
        return 2
    device = "cuda" if cuda else "cpu"
    size = args.size or (256 if args.tiny else 1024)
    names = [p for p in (args.profiles or PARTS.get(args.part or "", "") or ",".join(CARD_GIB)).split(",") if p]
    baseline = not args.no_baseline and args.part in (None, "1")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="zimage-gpu-bench-"))
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    # bf16 compute on a bf16 card: what the plans want, before any file or GPU exists.
    wanted = {name: make_plan(pretend_machine(name, ram), set(), name, present_te_forms=set()) for name in names}
    files = ({FILE_FORM[p.transformer_form] for p in wanted.values()} | {"te:" + p.text_encoder_form for p in wanted.values()}
             | ({"bf16", "te:bf16"} if baseline else set()))
    t0 = time.perf_counter()
    models = build_random(work, device, args.tiny, files)
    build_s = time.perf_counter() - t0
    hashes = HashCache(work / "sha256.json")  # shared by every profile and both parts
    found = resolve_model_set(models)
    forms = found.available_forms
    gpu_name = torch.cuda.get_device_name(0) if cuda else "CPU (tiny model)"

    print(f"\n### {gpu_name} — {size}×{size}, 8 steps, allocator capped per profile at its card size − "
          f"{CONTEXT_GIB} GiB" if cuda else f"\n### {gpu_name} — {size}×{size}, 8 steps")
    print(f"torch {torch.__version__}; random weights ready in {build_s:.0f} s; files: {', '.join(sorted(files))}",
          flush=True)
    context = cuda_context_gib() if cuda else 0.0
    if cuda:
        print(f"measured CUDA context: {context:.2f} GiB (the table's allowance: 0.5 GiB)")
    print("\n| profile | transformer (file that ran) | peak alloc GiB | peak reserved GiB | s / image (prompt cached) | "
          "s / image, new prompt (× diffusers) | encode s | VAE decode s | load s | peak + context ≤ table + 5 % | plan |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|", flush=True)
    failed = 0
    base = None
    if baseline:
        _fresh_allocator(cuda)
        try:
            base = baseline_diffusers(models, size, device)
            print_row("diffusers bf16 (baseline)", "all on the device", base, None)
        except torch.OutOfMemoryError:
            print_row("diffusers bf16 (baseline)", "all on the device", "out of memory", None)
    for name in names:
        plan = make_plan(pretend_machine(name, ram), forms, name, present_te_forms=found.text_encoder_forms,
                         installed_gib=dict(found.form_gib))
        if not cuda:
            plan = replace(plan, compute_dtype="float32", text_encoder_dtype="")
        _fresh_allocator(cuda, CARD_GIB.get(name, 0) - CONTEXT_GIB if name in CARD_GIB else 0.0)
        gen = Generator(models, device=device, plan=plan, hash_cache=hashes)
        try:
            result: dict | str = measure(gen, size, cuda)
        except Exception as exc:  # out of memory under the cap, or a failure worth seeing in the table
            result = f"{type(exc).__name__}: {str(exc)[:80]}"
        check = verdict(result, plan.predicted_peaks(size, size, enhance=False)[0], context)
        failed += check.endswith("NO")
        print_row(name, plan.explanation, result, base, check)
        if not isinstance(result, str) and not args.no_edits:
            edit_vram = edit_peaks(plan, size, size)[0]
            for mode, row in measure_edits(gen, size, cuda, work).items():
                check = verdict(row, edit_vram, context)
                failed += check.endswith("NO")
                print_row(f"{name} {mode}", f"{mode}, strength {dict(EDIT_MODES)[mode]:g}: "
                          f"predicted {edit_vram:.2f} GiB (engine/edit_plan.py)", row, None, check)
        gen.unload()
        del gen
    print(f"\ntotal {time.perf_counter() - t0:.0f} s", flush=True)
    if failed:
        print(f"{failed} profile(s) used more VRAM than their residency table predicts (+5 %)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
