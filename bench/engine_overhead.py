"""Engine overhead and pad-free prompt encoding, on a small random Z-Image model on the CPU.

1. N generations through ``Generator.run`` (previews on, prompt cached as in normal use) against
   plain ``ZImagePipeline.__call__`` with the same embeddings, seed and size, alternating in one
   process on the same loaded modules; prints the median of the per-pair time ratios
   (target ≤ 1.03).
2. Text encoding of a 40-token prompt: the pipeline's padded-to-512 ``encode_prompt`` against our
   pad-free encoder (cache off); prints the speed-up (target ≥ 5×) and the largest difference of
   the embeddings (target ≤ 1e-5 in fp32).

Imports: torch, diffusers, transformers, numpy and the project.
Usage: python bench/engine_overhead.py [--pairs 10] [--size 512] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from diffusers.utils import logging as dlog

    from zimage_desktop.devkit.tiny import SMALL_TEXT_ENCODER, SMALL_TRANSFORMER, build_tiny_pipeline
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.prompts import PromptEncoder
    from zimage_desktop.engine.request import GenerationRequest

    dlog.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "small"
        build_tiny_pipeline(0, transformer=SMALL_TRANSFORMER, text_encoder=SMALL_TEXT_ENCODER).save_pretrained(folder)
        gen = Generator(folder, device="cpu", previews=True)
        gen.ensure_loaded()
        pipe = gen.pipe
        size = args.size
        prompt = "A red lighthouse on a cliff at dawn, gulls"  # 42 bytes = 42 tokens here
        previews = []

        def ours(seed: int) -> float:
            t = time.perf_counter()
            gen.run(GenerationRequest(prompt=prompt, width=size, height=size, seed=seed), on_step=previews.append)
            return time.perf_counter() - t

        def plain(seed: int) -> float:
            embeds = gen.prompts.encode(prompt)
            t = time.perf_counter()
            pipe(prompt_embeds=[embeds], height=size, width=size, num_inference_steps=8, guidance_scale=0.0,
                 generator=torch.Generator("cpu").manual_seed(seed))
            return time.perf_counter() - t

        ours(0), plain(0)  # warm-up
        step_s = gen.run(GenerationRequest(prompt=prompt, width=size, height=size, seed=0)).images[0].timings["denoise_s"] / 8
        ratios, t_ours, t_plain = [], [], []
        for i in range(args.pairs):
            if i % 2:
                b, a = plain(i), ours(i)
            else:
                a, b = ours(i), plain(i)
            t_ours.append(a)
            t_plain.append(b)
            ratios.append(a / b)

        # -- prompt encoding ---------------------------------------------------------------
        tok = pipe.tokenizer
        user_tokens = len(tok(prompt[:40]).input_ids)
        text = prompt[:40]
        pipe.register_modules(text_encoder=gen.prompts.text_encoder)  # the engine keeps it outside the pipeline
        encoder = PromptEncoder(pipe.tokenizer, gen.prompts.text_encoder, "bench", cache_size=0)
        total_tokens = encoder.token_count(text)
        pad_times, ours_times = [], []
        for _ in range(5):
            t = time.perf_counter()
            padded, _ = pipe.encode_prompt(text, device=torch.device("cpu"), do_classifier_free_guidance=False)
            pad_times.append(time.perf_counter() - t)
            encoder.clear()
            t = time.perf_counter()
            mine = encoder.encode(text)
            ours_times.append(time.perf_counter() - t)
        diff = (mine - padded[0]).abs().max().item()

        # -- preview cost: what the generator calls after every step — the RGB projection of the
        # scheduler's own denoised estimate (Generator._run_one: previewer.to_rgb(scheduler.denoised))
        from zimage_desktop.engine.preview import LatentPreviewer

        previewer = LatentPreviewer()
        denoised = torch.randn(1, 16, size // 8, size // 8)
        t = time.perf_counter()
        for _ in range(200):
            previewer.to_rgb(denoised)
        preview_s = (time.perf_counter() - t) / 200

    print(f"machine: {platform.machine()} {platform.processor() or ''}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}")
    print(f"model: small random Z-Image (dim {SMALL_TRANSFORMER['dim']}, {SMALL_TRANSFORMER['n_layers']} layers), "
          f"{size}x{size}, 8 steps, fp32 CPU; one step {step_s * 1000:.0f} ms")
    print(f"engine (previews on) median {statistics.median(t_ours):.3f} s, plain pipeline median "
          f"{statistics.median(t_plain):.3f} s over {args.pairs} alternating pairs")
    print(f"engine/plain median ratio: {statistics.median(ratios):.3f} (target <= 1.03); previews received: {len(previews)}")
    print(f"preview per step: {preview_s * 1000:.3f} ms = {preview_s / step_s * 100:.2f}% of a step")
    print(f"text encoding, {user_tokens}-token prompt ({total_tokens} with the chat template): padded-512 "
          f"{statistics.median(pad_times) * 1000:.1f} ms, pad-free {statistics.median(ours_times) * 1000:.1f} ms, "
          f"speed-up {statistics.median(pad_times) / statistics.median(ours_times):.1f}x (target >= 5x), "
          f"max abs diff {diff:.2e} (target <= 1e-5)")


if __name__ == "__main__":
    main()
