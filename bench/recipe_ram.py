"""Peak RAM of the 6 GB recipe at full size on the CPU (issues 11, 27), against the residency table.

Builds full-size random weights in the real forms — a Qwen3-4B-shaped llama.cpp GGUF encoder
(Q6_K, and optionally Q4_K_M), a Z-Image-shaped GGUF Q4_K_M transformer (Q4_K with Q6_K attention
outputs / w2, like the published files), the FLUX VAE from the real config, the shipped configs
and a small tokenizer — then, each in a fresh process:

- loads the GGUF encoder alone and reads the anonymous memory it adds (target ≤ 1.25× the file);
- runs ``zimage-desktop generate --device cpu --profile P`` at 256², 1 step for each profile
  (``--profiles``, default every profile: each one's real load and hooks, on the CPU) and reads the peak RSS
  (ru_maxrss), next to the predicted peak RAM the app printed for that image (the plan's residency
  table at that size, for the device that ran: on the CPU a GPU profile swaps and pins nothing, so
  its GPU-side RAM terms are printed beside it but cannot be measured here); exits 1 when one is
  more than 10 % off (full size only). Each profile is a fresh process (``--lock FILE`` runs each
  under ``flock FILE`` on a shared machine); one whose run would need more than ``--max-gib`` is
  skipped and says so.

K-quant blocks come from the test kit's quantizer (zimage_desktop/devkit/kquants.py) applied to a
random 64-row slab per tensor, repeated to the full shape: the file layout, types and sizes are
exactly those of real files (the memory measured does not depend on the values), and building
takes minutes instead of the hour a 10 B-value quantization would take on 2 cores.

Usage: python bench/recipe_ram.py [--work DIR] [--bf16-encoder] [--size 256] [--steps 1] [--tiny]
``--tiny`` uses the test kit's K-quant-sized shapes (for CI); ``--bf16-encoder`` also measures the
old recipe (the 8 GB bf16 safetensors encoder) for comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROMPT = "a lighthouse on a cliff at dusk, warm light, 35 mm photo"


def build(work: Path, tiny: bool, bf16_encoder: bool) -> Path:
    import torch
    from diffusers import AutoencoderKL, ZImageTransformer2DModel
    from safetensors.torch import save_file
    from transformers import Qwen3Config

    from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, KQUANT_TRANSFORMER, transformer_type_for, \
        write_random_qwen3_gguf, write_streamed
    from zimage_desktop.devkit.keys import transformer_to_comfy
    from zimage_desktop.devkit.tiny import build_tiny_pipeline, make_tokenizer, write_configs
    from zimage_desktop.engine.model_files import shipped_config_dir

    models = work / "models"
    if (models / "ready.json").exists():
        return models
    configs = models / "configs" / "z-image-turbo"
    for sub in ("diffusion_models", "text_encoders", "vae"):
        (models / sub).mkdir(parents=True, exist_ok=True)
    if tiny:
        write_configs(build_tiny_pipeline(0, transformer=KQUANT_TRANSFORMER, text_encoder=KQUANT_TEXT_ENCODER), configs)
    else:
        import shutil

        shutil.copytree(shipped_config_dir(), configs, dirs_exist_ok=True)
        make_tokenizer().save_pretrained(configs / "tokenizer")
    te_config = Qwen3Config.from_pretrained(configs / "text_encoder")
    with torch.device("meta"):
        from transformers import Qwen3Model

        te_shapes = {k: tuple(v.shape) for k, v in Qwen3Model(te_config).state_dict().items()}
        tr = ZImageTransformer2DModel.from_config(ZImageTransformer2DModel.load_config(configs / "transformer"))
        tr_shapes = {k: tuple(v.shape) for k, v in transformer_to_comfy(dict(tr.state_dict())).items()}
    write_random_qwen3_gguf(te_config.to_dict(), models / "text_encoders" / "Qwen3-4B-Q6_K.gguf", "Q6_K")
    write_streamed(models / "diffusion_models" / "z_image_turbo-Q4_K_M.gguf", "lumina2",
                   [(n, s, transformer_type_for(n, "Q4_K_M")) for n, s in tr_shapes.items()])
    torch.manual_seed(0)
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(configs / "vae"))
    save_file({k: v.contiguous() for k, v in vae.state_dict().items()}, models / "vae" / "ae_random.safetensors")
    if bf16_encoder:
        state = {f"model.{k}": (torch.randn(s) * 0.02).to(torch.bfloat16) for k, s in te_shapes.items()}
        save_file(state, work / "qwen3_4b_random_bf16.safetensors")
        del state
    (models / "ready.json").write_text("{}")
    return models


def child_encoder(models: str) -> None:
    """Anonymous memory added by loading the GGUF encoder (run in a fresh process)."""
    import gc

    import accelerate  # noqa: F401  (everything the loader imports, before the baseline)
    import diffusers.quantizers.gguf.utils  # noqa: F401
    import torch
    import transformers.models.qwen3.modeling_qwen3  # noqa: F401

    from zimage_desktop.engine import gguf_encoder
    from zimage_desktop.engine.loader import load_text_encoder
    from zimage_desktop.engine.model_files import resolve_model_set

    def kib(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    ms = resolve_model_set(Path(models))
    gguf_encoder._torch_classes()
    gc.collect()
    base = kib("RssAnon")
    started = time.perf_counter()
    model = load_text_encoder(ms, torch.float32)
    seconds = time.perf_counter() - started
    gc.collect()
    print(json.dumps({"anon_bytes": (kib("RssAnon") - base) * 1024, "file_bytes": ms.text_encoder.stat().st_size,
                      "load_s": seconds, "params": sum(p.numel() for p in model.parameters())}))


def child_generate(full_blocks: int, argv: list[str]) -> int:
    """`zimage-desktop generate ARGV` in this process, with the transformer cut short: the first
    ``full_blocks`` transformer blocks of each call run in full (2 noise refiners, 2 context
    refiners, then main layers in that order), later blocks pass their input through.

    Why the peak is still measured: every weight is in RAM before the first block runs (load and
    encode are untouched), blocks hold no state between calls, and every main layer has the same
    shapes, so its transient memory (the dequantized weights of its Linear layers, its attention
    and MLP activations) is the same as the first one's; the decode runs in full. The VmHWM after
    each full block goes to stderr as JSON, so a run shows its peak flat across the last blocks.
    On this 2-core CPU without native bf16 one full step of a bf16 profile takes over 27 min; cut
    short it takes a few."""
    from zimage_desktop.cli import main as cli_main

    cut_transformer_short(full_blocks)
    _fp32_convolutions_for_bf16_on_this_cpu()
    _mark_phases(hwm_kib)
    return cli_main(argv)


def hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cut_transformer_short(full_blocks: int) -> list[int]:
    """Make every transformer block after the first ``full_blocks`` of the process pass its input
    through (0: all run; ``child_generate`` says why the peak stays). Returns the list the VmHWM
    (KiB) after each full block is appended to (also printed to stderr as JSON)."""
    from diffusers.models.transformers import transformer_z_image

    block = transformer_z_image.ZImageTransformerBlock
    full = block.forward
    calls = {"n": 0}
    hwm: list[int] = []

    def forward(self, x, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if full_blocks and calls["n"] > full_blocks:
            return x
        out = full(self, x, *args, **kwargs)
        hwm.append(hwm_kib())
        print(json.dumps({"block": calls["n"], "layer_id": getattr(self, "layer_id", None),
                          "vm_hwm_kib": hwm[-1]}), file=sys.stderr, flush=True)
        return out

    block.forward = forward  # type: ignore[method-assign]
    return hwm


def _fp32_convolutions_for_bf16_on_this_cpu() -> None:
    """A bfloat16 convolution on a CPU without oneDNN's bf16 support (this machine: no AVX512-BF16)
    falls back to a reference kernel ~330× slower than float32 (128→128 channels 3×3 at 128²:
    18.9 s against 0.057 s), so a GPU profile's bf16 VAE decode took 63 minutes here. Where that
    is so, each bf16 convolution computes in float32 and casts back: the weights stay bf16 as
    held; the transient float32 copies of one convolution's input, output and weight are at most
    ~0.1 GiB at 256² (a 128-channel 256² map is 32 MiB in float32), counted in the measured peak
    (which makes it, if anything, slightly high). A CPU with native bf16 runs unchanged."""
    import torch

    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return
    conv = torch.nn.Conv2d._conv_forward

    def forward(self, x, weight, bias):  # type: ignore[no-untyped-def]
        if x.dtype != torch.bfloat16 or x.device.type != "cpu":
            return conv(self, x, weight, bias)
        return conv(self, x.float(), weight.float(), None if bias is None else bias.float()).to(torch.bfloat16)

    torch.nn.Conv2d._conv_forward = forward  # type: ignore[method-assign]


def _mark_phases(hwm_kib) -> None:  # type: ignore[no-untyped-def]
    """The VmHWM when the prompt encode and the VAE decode start and end goes to stderr as JSON, so
    a run shows which phase set its peak."""
    from diffusers import AutoencoderKL

    from zimage_desktop.engine.prompts import PromptEncoder

    def marked(cls, name: str, phase: str):  # type: ignore[no-untyped-def]
        inner = getattr(cls, name)

        def call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            print(json.dumps({"phase": phase, "at": "start", "vm_hwm_kib": hwm_kib()}), file=sys.stderr, flush=True)
            out = inner(self, *args, **kwargs)
            print(json.dumps({"phase": phase, "at": "end", "vm_hwm_kib": hwm_kib()}), file=sys.stderr, flush=True)
            return out

        setattr(cls, name, call)

    marked(PromptEncoder, "encode", "encode")
    marked(AutoencoderKL, "decode", "decode")


def run_generate(models: Path, out: Path, size: int, steps: int, profile: str = "cpu", lock: str = "",
                 full_blocks: int = 0, timeout_s: int = 0, extra: tuple[str, ...] = ()) -> dict:
    """`generate --device cpu --profile P` in a fresh process; its peak RSS from the kernel's
    accounting, and the plan's own predicted peak from its JSON line (the residency table, for
    this size, as the app computed it: nothing rescaled here). ``full_blocks`` > 0 cuts the
    transformer short after that many blocks per call (``child_generate`` says why the peak stays)."""
    cmd = [sys.executable, __file__, "--child-generate", str(full_blocks), "--",
           "generate", "--models", str(models), "--prompt", PROMPT,
           "--width", str(size), "--height", str(size), "--steps", str(steps), "--seed", "1", "--device", "cpu",
           "--profile", profile, "--no-history", "--out", str(out), *extra]
    wrapper = ("import json, resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "print(json.dumps({'rc': p.returncode, 'out': p.stdout[-2000:], 'err': p.stderr[-6000:], "
               "'maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")
    started = time.perf_counter()
    # One profile per process; with --lock, one full-size run at a time on a shared machine.
    prefix = ["flock", lock] if lock else []
    if timeout_s:
        prefix += ["timeout", str(timeout_s)]
    proc = subprocess.run([*prefix, sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "ZIMAGE_DESKTOP_DATA": str(out.parent)})
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"rc": proc.returncode or 124, "out": "", "err": f"timed out after {timeout_s} s", "maxrss_kib": 0,
                "wall_s": time.perf_counter() - started}
    result = json.loads(lines[-1])
    result["wall_s"] = time.perf_counter() - started
    result["block_hwm_kib"] = [json.loads(x)["vm_hwm_kib"] for x in result["err"].splitlines()
                               if x.startswith('{"block"')]
    result["phase_hwm_kib"] = [json.loads(x) for x in result["err"].splitlines() if x.startswith('{"phase"')]
    if result["rc"] == 0:
        line = json.loads(result["out"].strip().splitlines()[-1])
        result["timings"] = line.get("timings", {})
        result["predicted"] = line.get("predicted_peak_gib") or {}
    return result


def predicted_before_run(models: Path, profile: str, size: int) -> tuple[float, float, str]:
    """(the plan's predicted RAM peak at this size on the CPU — what the run holds, and what the
    app will print —, the same plan's RAM peak on its own device, that device), from the app's
    planner for this folder: to skip a run that would not fit the machine, and to show the GPU
    figure this machine cannot measure."""
    from zimage_desktop.engine.devices import probe
    from zimage_desktop.engine.model_files import resolve_model_set
    from zimage_desktop.engine.planner import make_plan

    found = resolve_model_set(models)
    plan = make_plan(probe(), found.available_forms, profile, present_te_forms=found.text_encoder_forms,
                     installed_gib=dict(found.form_gib))
    _, on_cpu = plan.predicted_peaks(size, size, enhance=False, device="cpu")
    _, own = plan.predicted_peaks(size, size, enhance=False)
    return on_cpu, own, plan.device_name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=None)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--bf16-encoder", action="store_true")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--child-encoder", default=None)
    parser.add_argument("--child-generate", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--full-blocks", type=int, default=0,
                        help="run only the first N transformer blocks of each call in full (0: all; see child_generate)")
    parser.add_argument("--timeout", type=int, default=0, help="stop a profile's run after this many seconds")
    parser.add_argument("cli", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--lock", default="", help="run each generate child under `flock LOCK` (shared machines)")
    parser.add_argument("--max-gib", type=float, default=16.0, help="skip a profile whose run would need more RAM")
    parser.add_argument("--no-encoder-check", action="store_true", help="skip the GGUF encoder load measurement")
    parser.add_argument("--results", default=None, help="append each profile's measurement as a JSON line here")
    parser.add_argument("--generate-args", default="", help="more `generate` flags, e.g. --generate-args=--cpu-int8")
    parser.add_argument("--profiles", default="cpu,8gb,24gb,4gb,6gb,16gb,12gb,mps",
                        help="profiles to run on the CPU (a GPU profile's RAM side: its swaps and copies)")
    args = parser.parse_args()
    if args.child_encoder:
        child_encoder(args.child_encoder)
        return 0
    if args.child_generate is not None:
        return child_generate(args.child_generate, args.cli)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="zimage-recipe-ram-"))
    started = time.perf_counter()
    models = build(work, args.tiny, args.bf16_encoder)
    print(f"built in {time.perf_counter() - started:.0f} s under {work}")
    gib = 1024**3
    files = {p.name: p.stat().st_size for p in sorted(models.rglob("*")) if p.suffix in (".gguf", ".safetensors")}
    for name, size in files.items():
        print(f"  {name}: {size / 1e9:.2f} GB")

    if args.no_encoder_check:
        enc = None
    else:
        enc = json.loads(subprocess.run([sys.executable, __file__, "--child-encoder", str(models)], capture_output=True,
                                        text=True, check=True).stdout.strip().splitlines()[-1])
    if enc is not None:
        ratio = enc["anon_bytes"] / enc["file_bytes"]
        print(f"\nGGUF encoder load: +{enc['anon_bytes'] / gib:.2f} GiB anonymous for a {enc['file_bytes'] / gib:.2f} GiB "
              f"file = {ratio:.2f}× (target ≤ 1.25×), {enc['load_s']:.1f} s")

    (work / "out").mkdir(exist_ok=True)
    rows = [("GGUF Q4_K_M transformer + GGUF Q6_K encoder", models)]
    if args.bf16_encoder:
        import shutil

        old = work / "models-bf16-encoder"
        if not old.exists():
            shutil.copytree(models, old, ignore=shutil.ignore_patterns("*.gguf"))
            for f in (models / "diffusion_models").iterdir():
                (old / "diffusion_models" / f.name).symlink_to(f)
            (old / "text_encoders" / "qwen_3_4b.safetensors").symlink_to(work / "qwen3_4b_random_bf16.safetensors")
        rows.append(("GGUF Q4_K_M transformer + bf16 encoder (old recipe)", old))
    print(f"\n| files | profile (form that ran) | predicted peak RAM GiB (the app's table for the CPU, {args.size}²) | "
          f"measured peak RSS GiB (`generate --device cpu`, {args.size}², {args.steps} step) | measured / predicted | "
          "within 10 % | the plan's own device: its predicted RAM peak (not measurable here) | "
          "encode s | step s | decode s |")
    print("|---|---|---:|---:|---:|---|---|---:|---:|---:|")
    failures = 0
    for label, folder in rows:
        for profile in args.profiles.split(","):
            on_cpu, own, own_device = predicted_before_run(folder, profile, args.size)
            gpu_side = "–" if own_device == "cpu" else f"{own_device}: {own:.2f}"
            if on_cpu > args.max_gib:
                print(f"| {label} | {profile} | {on_cpu:.2f} | skipped: needs about {on_cpu:.1f} GiB, "
                      f"over --max-gib {args.max_gib:g} | – | – | {gpu_side} | – | – | – |", flush=True)
                continue
            r = run_generate(folder, work / "out" / "image.png", args.size, args.steps, profile, args.lock,
                             args.full_blocks, args.timeout, tuple(args.generate_args.split()))
            if args.results:
                with open(args.results, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"files": label, "profile": profile, "size": args.size, **r}) + "\n")
            if r["rc"] != 0:
                print(f"| {label} | {profile} | – | failed: "
                      f"{r['err'].strip().splitlines()[-1] if r['err'].strip() else r['rc']} | – | – | {gpu_side} | "
                      "– | – | – |", flush=True)
                failures += 1
                continue
            t, pred = r.get("timings", {}), r["predicted"]
            measured = r["maxrss_kib"] * 1024 / gib
            ratio = measured / pred["ram"]
            ok = abs(ratio - 1) <= 0.10
            failures += 0 if ok or args.tiny else 1  # tiny models are all process overhead: no verdict
            print(f"| {label} | {profile} ({pred['transformer_form']}, table on {pred.get('device', '?')}) | "
                  f"{pred['ram']:.2f} | {measured:.2f} | {ratio:.2f} | {'yes' if ok else 'NO'} | {gpu_side} | "
                  f"{t.get('encode_s', 0):.1f} | {t.get('denoise_s', 0) / max(1, args.steps):.1f} | "
                  f"{t.get('decode_s', 0):.1f} |", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
