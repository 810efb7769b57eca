"""Where the prompt enhancer runs, and the two ways to get one.

- Inside a loaded ``Generator`` (GUI, ``generate --enhance``): the engine's own text encoder and
  tokenizer, placed as the memory plan placed them. A "swap" encoder moves onto the GPU when it
  runs and moves the transformer to system RAM (not to disk: it comes back at RAM-to-GPU speed,
  as it does for every new prompt), a "resident" one runs beside the transformer, a "cpu" one runs
  on the CPU. Enhancing therefore never reloads a model from disk.
- Standalone (``zimage-desktop enhance``): only the tokenizer and the text encoder are loaded, on
  the GPU when its free memory holds the encoder plus the decoding state, else on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..errors import UserFacingError
from ..messages import msg
from .devices import MachineInfo
from .enhance import Enhanced, PromptEnhancer, Sampling
from .planner import GIB, TEXT_ENCODER_GIB
from .request import GenerationRequest

# KV cache of ~1,500 tokens (36 layers × 8 KV heads × 128 × 2 × bf16 ≈ 0.2 GB), activations, and one
# dequantized or cast copy of the 151,936 × 2,560 head when the encoder is stored as GGUF or FP8.
DECODE_STATE_GIB = 1.0


@dataclass(frozen=True)
class EnhancePlacement:
    device: str  # "cuda" | "mps" | "cpu"
    dtype: str
    explanation: str


def place_enhancer(machine: MachineInfo, device_choice: str = "auto",
                   encoder_gib: float = TEXT_ENCODER_GIB) -> EnhancePlacement:
    """Where a standalone enhancer runs: a pure function of the machine and the user's choice."""
    need = encoder_gib + DECODE_STATE_GIB
    if device_choice in ("auto", "cuda") and machine.gpus:
        gpu = max(machine.gpus, key=lambda g: g.free_vram)
        if gpu.free_vram / GIB >= need:
            dtype = "bfloat16" if gpu.bf16 else "float16"
            return EnhancePlacement("cuda", dtype, msg("enhance_session.on_gpu", "on {gpu} ({need:.1f} of {free:.1f} GiB free)",
                                                               gpu=gpu.name, need=need, free=gpu.free_vram / GIB))
        if device_choice == "cuda":
            raise UserFacingError(msg("enhance_session.enhancer_needs_gib_free", "The enhancer needs {need:.1f} GiB of free "
                                      "GPU memory and {name} has {free:.1f} GiB free; use --device cpu.",
                                      need=need, name=gpu.name, free=gpu.free_vram / GIB))
    elif device_choice == "cuda":
        raise UserFacingError(msg("enhance_session.cuda_gpu_available_use", "No CUDA GPU is available; use --device cpu."))
    if device_choice in ("auto", "mps") and machine.mps:
        return EnhancePlacement("mps", "float16", msg("enhance_session.on_apple_gpu", "on the Apple GPU"))
    # bf16 halves the memory of fp32 (8 GB instead of 16) and CPUs with AVX-512/AMX run it fast.
    return EnhancePlacement("cpu", "bfloat16", msg("enhance_session.on_cpu", "on the CPU (slow: a few tokens per second)"))


def tokenizer_dir(model_set) -> Path:
    base = model_set.pipeline_dir if model_set.form == "diffusers" else model_set.config_dir
    return Path(base) / "tokenizer"


def load_standalone(models_dir: Path, device_choice: str = "auto",
                    machine: MachineInfo | None = None) -> tuple[PromptEnhancer, EnhancePlacement]:
    """Tokenizer and text encoder only, placed by ``place_enhancer``."""
    from transformers import AutoTokenizer

    from .devices import probe
    from .loader import load_text_encoder
    from .model_files import resolve_model_set

    model_set = resolve_model_set(Path(models_dir))
    if model_set.form == "diffusers":
        assert model_set.pipeline_dir is not None
        model_set = replace(model_set, text_encoder=model_set.pipeline_dir / "text_encoder",
                            config_dir=model_set.pipeline_dir)
    placement = place_enhancer(machine or probe(), device_choice)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir(model_set)), local_files_only=True)
    encoder = load_text_encoder(model_set, getattr(torch, placement.dtype)).to(placement.device)
    # Decoding is one token a call: the int8/int4 kernels beat per-call decoding 2–15× there (issue 28).
    from .gguf_packed import pack_cpu_text_encoder

    pack_cpu_text_encoder(encoder, placement.device == "cpu")
    return PromptEnhancer(tokenizer, encoder), placement


def enhancer_for(generator) -> PromptEnhancer:
    """The enhancer over a loaded Generator's own tokenizer and text encoder."""
    if generator.pipe is None or generator.prompts is None:
        raise UserFacingError(msg("enhance_session.model_loaded_yet", "The model is not loaded yet."))
    return PromptEnhancer(generator.pipe.tokenizer, generator.prompts.text_encoder)


def enhanced_request(request: GenerationRequest, result: Enhanced) -> GenerationRequest:
    """The request with the rewrite as its prompt and the user's own words kept beside it."""
    if not result.text.strip():
        raise UserFacingError(msg("enhance_session.enhancer_wrote_nothing_try", "The enhancer wrote nothing; try again with "
                                  "another seed."))
    return replace(request, prompt=result.text, original_prompt=request.original_prompt or request.prompt)


def enhance_request(generator, request: GenerationRequest, sampling: Sampling | None = None,
                    **kwargs) -> tuple[GenerationRequest, Enhanced]:
    """Load the generator for ``request`` if needed and rewrite its prompt (seeded by the request's
    seed unless ``sampling`` says otherwise, so the request alone re-makes the same rewrite)."""
    generator.ensure_loaded(request.transformer, request.profile)
    result = enhancer_for(generator).enhance(request.prompt, sampling or Sampling(seed=request.seed), **kwargs)
    return enhanced_request(request, result), result
