"""Merged LoRAs against hooks: time per transformer call, switching time, memory.

1. One Z-Image-Turbo block at its real shapes (dim 3840, feed-forward 10240: q, k, v, out, w1, w2,
   w3, 177 M weights, fp32 as the CPU plan computes) called on ``--tokens`` tokens: without a LoRA,
   with a kohya LoRA of rank ``--rank`` (and a LoHa of rank ``--rank // 2``) applied by hooks, and
   merged (``LoraPatcher.apply`` with a merge decision). Also: the merge time (a strength change =
   a fresh merge of every changed layer from the backup), the unmerge time, the backup's size, and
   the RSS growth. The whole transformer has 34 such blocks (30 layers and 4 refiners): multiply.
2. The tiny kit generating on the CPU (``--size``): per image without a LoRA, with the
   LoRA by hooks (a machine without room for the backup) and merged (one with room).

Imports: torch, diffusers, safetensors, peft and the project.
Usage: python bench/lora_merge.py [--rank 32] [--tokens 288] [--size 256] [--threads N] [--part block|small|both]
       [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from zimage_desktop.engine.lora_plan import LoraApplication

MERGE = LoraApplication("merge", "cpu", 0.0, "bench: merged")


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


CLOCK = time.perf_counter  # --clock cpu: process CPU time, less disturbed by other jobs on a shared machine


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return min(times)


class Block(torch.nn.Module):
    """The Linear layers of one Z-Image block under their diffusers names."""

    def __init__(self, dim: int = 3840, hidden: int = 10240) -> None:
        super().__init__()
        self.attention = torch.nn.Module()
        for name in ("to_q", "to_k", "to_v"):
            setattr(self.attention, name, torch.nn.Linear(dim, dim, bias=False))
        self.attention.to_out = torch.nn.ModuleList([torch.nn.Linear(dim, dim, bias=False)])
        self.feed_forward = torch.nn.Module()
        self.feed_forward.w1 = torch.nn.Linear(dim, hidden, bias=False)
        self.feed_forward.w3 = torch.nn.Linear(dim, hidden, bias=False)
        self.feed_forward.w2 = torch.nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, f = self.attention, self.feed_forward
        h = a.to_out[0](a.to_q(x) + a.to_k(x) + a.to_v(x))
        return f.w2(torch.nn.functional.silu(f.w1(h)) * f.w3(h))


class OneBlock(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList([Block()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers[0](x)


def write_kohya(shapes: dict[str, tuple[int, int]], path: Path, rank: int) -> None:
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    state: dict[str, torch.Tensor] = {}
    for name, (out, inp) in shapes.items():
        key = "lora_unet_" + name.replace(".", "_")
        state[f"{key}.lora_down.weight"] = (torch.randn(rank, inp, generator=g) * 0.01).to(torch.bfloat16)
        state[f"{key}.lora_up.weight"] = (torch.randn(out, rank, generator=g) * 0.01).to(torch.bfloat16)
        state[f"{key}.alpha"] = torch.tensor(float(rank))
    save_file(state, str(path))


def real_block(rank: int, tokens: int, tmp: Path) -> None:
    from zimage_desktop.devkit.tiny_loras import write_lycoris
    from zimage_desktop.engine.lora_patch import LoraPatcher

    torch.manual_seed(0)
    with torch.no_grad():
        model = OneBlock()
        for p in model.parameters():
            p.normal_(0, 0.02)
    patcher = LoraPatcher(model)
    lora, loha = tmp / "lora.safetensors", tmp / "loha.safetensors"
    write_kohya(patcher.shapes, lora, rank)
    write_lycoris(patcher.shapes, loha, "loha", rank=max(1, rank // 2), magnitude=0.05)
    x = torch.randn(tokens, 3840)
    weights = sum(p.numel() for p in model.parameters())

    def call() -> None:
        with torch.inference_mode():
            model(x)

    rows: list[tuple[str, float]] = [("no LoRA", best(call))]
    notes: list[str] = []
    for label, path in ((f"LoRA rank {rank}", lora), (f"LoHa rank {max(1, rank // 2)}", loha)):
        patcher.apply([(path, 1.0)])
        rows.append((f"{label}, hooks", best(call)))
        before = rss_mib()
        merge_s = best(lambda: patcher.apply([(path, 1.0)], lambda gib, rebuilds: MERGE), 1)
        grown = rss_mib() - before
        rows.append((f"{label}, merged", best(call)))
        switch_s = best(lambda: (patcher.apply([(path, 0.5)], lambda gib, rebuilds: MERGE),
                                 patcher.apply([(path, 0.8)], lambda gib, rebuilds: MERGE)), 2) / 2
        unmerge_s = best(lambda: (patcher.apply([]), patcher.apply([(path, 1.0)], lambda gib, rebuilds: MERGE)), 1)
        backup = patcher.merger.backup_bytes(list(patcher.load(path).layers)) / 2**20
        patcher.apply([])
        notes.append(f"{label}: first merge {merge_s:.3f} s (RSS +{grown:.0f} MiB, backup {backup:.0f} MiB), "
                     f"strength change (re-merge from the backup) {switch_s:.3f} s, unmerge + merge {unmerge_s:.3f} s")
    print(f"One Z-Image block at real shapes ({weights / 1e6:.0f} M fp32 weights), {tokens} tokens:")
    print("| call | seconds | vs no LoRA |")
    print("|---|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / rows[0][1]:.3f} |")
    for note in notes:
        print(note)


def small_model(size: int, tmp: Path) -> None:
    from zimage_desktop.devkit.tiny import build_tiny_pipeline
    from zimage_desktop.devkit.tiny_loras import write_peft_lora
    from zimage_desktop.engine.devices import MachineInfo
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import GIB, reference_plan
    from zimage_desktop.engine.request import GenerationRequest, LoraRef

    folder = tmp / "small"
    pipe = build_tiny_pipeline(0)
    pipe.save_pretrained(folder)
    write_peft_lora(pipe.transformer, folder / "loras" / "a.safetensors", rank=16, alpha=16, seed=1, magnitude=0.02)
    results = {}
    for label, ram in (("hooks", 16), ("merged", 256)):  # the reference plan's full-size figures need ~37 GiB
        gen = Generator(folder, device="cpu", previews=False, plan=reference_plan("cpu"),
                        machine=MachineInfo(total_ram=ram * GIB))

        def image(*loras: tuple[str, float]) -> float:
            req = GenerationRequest(prompt="a lighthouse", width=size, height=size, seed=1,
                                    loras=tuple(LoraRef(n, s) for n, s in loras))
            return best(lambda: gen.run(req), 2)

        image()
        results["none"] = min(results.get("none", 1e9), image())
        results[label] = image(("a", 1.0))
        assert gen.lora_patcher is not None and gen.lora_patcher.application is not None
        assert gen.lora_patcher.application.mode == ("hooks" if label == "hooks" else "merge")
    print(f"Tiny kit at {size}²: image without LoRA {results['none']:.2f} s, LoRA by hooks "
          f"{results['hooks']:.2f} s ({results['hooks'] / results['none']:.3f}), merged {results['merged']:.2f} s "
          f"({results['merged'] / results['none']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=288)  # a 256² image (16×16 latent patches) + 32 text
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--part", choices=("block", "small", "both"), default="both")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)
    from diffusers.utils import logging as dlog

    dlog.set_verbosity_error()
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"{args.clock} clock")
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("block", "both"):
            real_block(args.rank, args.tokens, Path(tmp))
        if args.part in ("small", "both"):
            small_model(args.size, Path(tmp))


if __name__ == "__main__":
    main()
