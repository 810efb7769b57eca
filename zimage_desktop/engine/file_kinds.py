"""What a model file is, judged from its header alone (tensor names, shapes and dtypes): which
registered model a transformer belongs to and its key style, its storage form (bf16, FP8, GGUF
quant), whether an encoder is Z-Image's Qwen3-4B, whether a VAE is the FLUX.1 one — and, when a file
is something else, a guess at what it is, so the user gets a sentence instead of a key mismatch.
No torch import (model_files resolves a whole folder with these)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import ModelFilesError
from ..messages import msg
from .architectures import DEFAULT, Architecture, by_signature
from .tensor_index import TensorIndex

COMFY_PREFIXES = ("model.diffusion_model.", "diffusion_model.")
VAE_PREFIXES = ("first_stage_model.", "vae.")


def _guess_other_model(keys: set[str]) -> str:
    def has(fragment: str) -> bool:
        return any(fragment in k for k in keys)

    if has("input_blocks.") and has("label_emb"):
        return msg("model_files.guess_sdxl", "an SDXL UNet")
    if has("input_blocks."):
        return msg("model_files.guess_sd", "a Stable Diffusion 1.x/2.x UNet")
    if has("double_blocks.") or has("single_blocks."):
        return msg("model_files.guess_flux", "a FLUX transformer")
    if has("joint_blocks."):
        return msg("model_files.guess_sd3", "an SD3 transformer")
    if has("text_model.encoder."):
        return msg("model_files.guess_clip", "a CLIP text encoder")
    if has("encoder.block.") or "shared.weight" in keys:
        return msg("model_files.guess_t5", "a T5 text encoder")
    if has("transformer_blocks."):
        return msg("model_files.guess_other_dit", "a different diffusion transformer")
    return msg("model_files.guess_unknown", "not a model this app knows")


def classify_transformer(index: TensorIndex, config_for: Callable[[Architecture], dict],
                         file_name: str = "") -> tuple[Architecture, str] | None:
    """Which registered model a transformer file is, and its key style ("comfy" or "diffusers").

    None when no model's signature matches; ModelFilesError when one does but the file's sizes fit
    none of their configurations (``config_for`` gives a model's transformer config).
    """
    names = set(index.stripped(COMFY_PREFIXES))
    error: ModelFilesError | None = None
    for arch in by_signature(names, file_name):
        try:
            return arch, _check_transformer_sizes(index, config_for(arch), arch)
        except ModelFilesError as exc:
            error = error or exc
    if error is not None:
        raise error
    return None


def _check_transformer_sizes(index: TensorIndex, config: dict, arch: Architecture) -> str:
    """The key style of a transformer of this (Z-Image family) model, or ModelFilesError when its
    sizes differ from the configuration's."""
    keys = index.stripped(COMFY_PREFIXES)
    names = set(keys)
    style = "diffusers" if arch.diffusers_key_marker in names else "comfy"
    dim, cap_dim = int(config["dim"]), int(config["cap_feat_dim"])
    shape = keys["cap_embedder.1.weight"]
    if shape[-2:] != (dim, cap_dim):
        raise ModelFilesError(
            msg("model_files.z_image_transformer_different", "This Z-Image transformer has a different size than the "
                "configuration (caption projection {shape}, expected {expected}).",
                shape=tuple(shape), expected=(dim, cap_dim))
        )
    layers = {k.split(".")[1] for k in names if k.startswith("layers.")}
    if len(layers) != int(config["n_layers"]):
        raise ModelFilesError(
            msg("model_files.z_image_transformer_layers", "This Z-Image transformer has {layers} layers; the configuration "
                "expects {config}.", layers=len(layers), config=config['n_layers'])
        )
    return style


# GGUF quantisations grouped into the forms the planner knows.
GGUF_FORM = {"Q8_0": "Q8_0", "Q6_K": "Q6_K", "Q5_K": "Q5_K", "Q5_0": "Q5_K", "Q5_1": "Q5_K", "Q4_K": "Q4_K",
             "Q4_0": "Q4_K", "Q4_1": "Q4_K", "Q3_K": "Q3_K", "Q2_K": "Q3_K"}


def transformer_form(index: TensorIndex) -> str:
    """"bf16" (also for fp16/fp32 files), "fp8", or the GGUF form of the big weight matrices."""
    counts: dict[str, int] = {}
    for name, shape in index.shapes.items():
        if name.endswith(".weight") and len(shape) == 2 and min(shape) >= 32:
            kind = index.dtypes.get(name, "")
            counts[kind] = counts.get(kind, 0) + 1
    kind = max(counts, key=lambda k: counts[k]) if counts else ""
    if index.format == "gguf":
        return GGUF_FORM.get(kind, "Q8_0" if kind in ("F16", "BF16", "F32") else kind)
    # any float8 matrix makes it an FP8 file: "mixed" ones keep the embedders and some layers in bf16,
    # and only the FP8 loader reads (and applies) their scales
    return "fp8" if any(k.startswith("F8") for k in counts) else "bf16"


def provides(file_form: str) -> set[str]:
    """Forms the planner may use with a file of this form (a bf16 file can be stored as FP8)."""
    return {"bf16", "fp8"} if file_form == "bf16" else {file_form}


def check_text_encoder(index: TensorIndex, config: dict, name: str, path: Path | None = None) -> str:
    """Return the encoder's format ("safetensors" or "gguf"), or raise ModelFilesError saying why
    it is not Z-Image's Qwen3-4B. A GGUF is judged by its metadata, which needs ``path``."""
    if index.format == "gguf":
        from .gguf_encoder import check_gguf_text_encoder

        if path is None:
            raise ModelFilesError(msg("model_files.gguf_text_encoder_can", "{name}: a GGUF text encoder can only be checked "
                                      "from its file.", name=name))
        check_gguf_text_encoder(path, config)
        return "gguf"
    keys = index.stripped(("model.",))
    if "embed_tokens.weight" not in keys or "layers.0.self_attn.q_proj.weight" not in keys:
        raise ModelFilesError(
            msg("model_files.qwen_text_encoder_z", "{name} is not a Qwen3 text encoder ({looks_like}); Z-Image "
                "needs Qwen3-4B in text_encoders/.",
                name=name, looks_like=_guess_other_model(set(keys)))
        )
    hidden = keys["embed_tokens.weight"][-1]
    if hidden != int(config["hidden_size"]):
        raise ModelFilesError(
            msg("model_files.qwen_model_width_but", "{name} is a Qwen3 model of width {hidden}, but Z-Image needs Qwen3-4B "
                "(width {config}).", name=name, hidden=hidden, config=config['hidden_size'])
        )
    return "safetensors"


def classify_vae(index: TensorIndex, name: str, latent_channels: int = DEFAULT.latent_channels) -> str:
    """Return "bfl" or "diffusers" key style, or raise ModelFilesError."""
    keys = index.stripped(VAE_PREFIXES)
    conv_in = keys.get("decoder.conv_in.weight")
    if conv_in is None:
        raise ModelFilesError(
            msg("model_files.vae_z_image_needs", "{name} is not a VAE ({looks_like}); Z-Image needs the FLUX.1 VAE "
                "(ae.safetensors).", name=name, looks_like=_guess_other_model(set(keys)))
        )
    if len(conv_in) == 4 and conv_in[1] != latent_channels:
        raise ModelFilesError(
            msg("model_files.vae_latent_channels_sd", "{name} is a VAE with {conv_in} latent channels (an SD/SDXL VAE); "
                "Z-Image needs the FLUX.1 VAE with 16 channels (ae.safetensors).",
                name=name, conv_in=conv_in[1])
        )
    if any(k.startswith("decoder.up_blocks.") for k in keys):
        return "diffusers"
    return "bfl"
