"""The models folder's layout: the one place that knows its sub-folder names, which of them ComfyUI
shares (its ``folder_paths`` keys, legacy names included) and where the small configs live.

The layout is ComfyUI's so the two programs can share files (DESIGN.md §2). A leaf module: no imports
from the package, so engine/, models/, the CLI and the UI can all use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelFolder:
    kind: str  # our name for what is in it
    name: str  # the sub-folder of the models folder
    comfy_key: str = ""  # ComfyUI's folder_paths key for the same files; "" = ComfyUI has no use for it
    comfy_legacy: tuple[str, ...] = ()  # older ComfyUI keys (its folder_paths.map_legacy) for the same folder


FOLDERS: dict[str, ModelFolder] = {f.kind: f for f in (
    ModelFolder("transformer", "diffusion_models", "diffusion_models", ("unet",)),
    ModelFolder("text_encoder", "text_encoders", "text_encoders", ("clip",)),
    ModelFolder("vae", "vae", "vae"),
    ModelFolder("lora", "loras", "loras"),
    ModelFolder("upscaler", "upscale_models", "upscale_models"),
    ModelFolder("controlnet", "model_patches", "model_patches"),  # ComfyUI's ModelPatchLoader
    ModelFolder("preview", "vae_approx", "vae_approx"),  # TAEF1
    ModelFolder("depth", "depth"),  # Depth Anything for control images: ours only
    # the diffusers repo's small files (tokenizer, configs) under configs/<model id>/; ComfyUI's
    # "configs" key means its .yaml checkpoint configs, so it is not shared
    ModelFolder("configs", "configs"),
)}
TRANSFORMERS, TEXT_ENCODERS, VAES = FOLDERS["transformer"].name, FOLDERS["text_encoder"].name, FOLDERS["vae"].name
LORAS, UPSCALERS, CONTROLNETS = FOLDERS["lora"].name, FOLDERS["upscaler"].name, FOLDERS["controlnet"].name
CONFIGS = FOLDERS["configs"].name
DEFAULT_MODEL_ID = "z-image-turbo"  # configs/<id>/ of the default model (engine.architectures.DEFAULT.id)


def folder(models_dir: Path | str, kind: str) -> Path:
    """``<models>/<sub-folder>`` of a kind ("transformer", "lora", …)."""
    return Path(models_dir) / FOLDERS[kind].name


def config_dir(models_dir: Path | str, model_id: str = DEFAULT_MODEL_ID) -> Path:
    return Path(models_dir) / CONFIGS / model_id


def tokenizer_dir(models_dir: Path | str, model_id: str = DEFAULT_MODEL_ID) -> Path:
    """Where the downloaded "configs" component puts the tokenizer (the loader cannot work without it)."""
    return config_dir(models_dir, model_id) / "tokenizer"


def has_configs(models_dir: Path | str, model_id: str = DEFAULT_MODEL_ID) -> bool:
    return tokenizer_dir(models_dir, model_id).is_dir()


def catalog_roots() -> tuple[str, ...]:
    """The sub-folders a catalog may download into (not loras/ or upscale_models/: the user's own)."""
    return tuple(FOLDERS[k].name for k in ("transformer", "text_encoder", "vae", "configs", "preview", "controlnet", "depth"))


def comfy_paths() -> dict[str, str]:
    """ComfyUI's extra_model_paths.yaml lines for our folder: key → sub-folder, legacy keys too."""
    out: dict[str, str] = {}
    for f in FOLDERS.values():
        for key in (f.comfy_key, *f.comfy_legacy) if f.comfy_key else ():
            out[key] = f.name
    return out
