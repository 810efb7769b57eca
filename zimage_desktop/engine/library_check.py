"""The library classes the app uses, imported one by one: a frozen bundle that lacks a module or a data
file fails here, by name, instead of at a user's first image (self-test runs it; so does CI's bundle check).

diffusers and transformers import lazily: ``import diffusers`` succeeds and the failure comes at the first
attribute access, so each entry is a module and an attribute to fetch.
"""

from __future__ import annotations

import importlib

# (module, attribute): what the engine, the editing modes, LoRA and ControlNet load.
REQUIRED: tuple[tuple[str, str], ...] = (
    ("diffusers", "ZImagePipeline"),
    ("diffusers", "ZImageImg2ImgPipeline"),
    ("diffusers", "ZImageInpaintPipeline"),
    ("diffusers", "ZImageControlNetPipeline"),
    ("diffusers", "ZImageControlNetInpaintPipeline"),
    ("diffusers", "ZImageControlNetModel"),
    ("diffusers", "ZImageTransformer2DModel"),
    ("diffusers", "AutoencoderKL"),
    ("diffusers", "FlowMatchEulerDiscreteScheduler"),
    ("diffusers", "GGUFQuantizationConfig"),
    ("diffusers.loaders.peft", "PeftAdapterMixin"),
    ("diffusers.loaders.lora_pipeline", "ZImageLoraLoaderMixin"),
    ("transformers", "Qwen3Model"),
    ("transformers", "Qwen3ForCausalLM"),
    ("transformers", "Qwen2TokenizerFast"),
    ("accelerate.hooks", "CpuOffload"),
    ("safetensors.torch", "load_file"),
    ("gguf", "GGUFReader"),
    ("cv2", "Canny"),  # control images (canny edges)
    ("filelock", "FileLock"),  # history repair and downloads
    ("websocket", "WebSocket"),  # remote ComfyUI engines
    ("keyring", "get_password"),  # their access tokens
)


def missing_imports() -> list[str]:
    """``module.attribute: reason`` for every entry of REQUIRED that cannot be loaded (empty when all can)."""
    problems = []
    for module, attribute in REQUIRED:
        try:
            getattr(importlib.import_module(module), attribute)
        except Exception as exc:  # any failure is a finding: ImportError, RuntimeError from a lazy module, …
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append(f"{module}.{attribute}: {first}")
    return problems
