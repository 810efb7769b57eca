"""Tiny random Z-Image pipelines in every file layout the app loads.

``build_tiny_models(root)`` writes, in well under a second and a few MB:

- ``root/diffusers``: a diffusers pipeline folder (fp32 weights, like Tongyi-MAI/Z-Image-Turbo);
- ``root/comfy``: a ComfyUI-style models folder (bf16 transformer with ComfyUI keys and fused qkv,
  Qwen3 text encoder with ``model.`` keys, VAE with BFL keys, ``configs/z-image-turbo``);
- ``root/gguf``: the same with a GGUF Q8_0 transformer (city96-style keys) made by ``gguf``.

The dimensions are small but keep every constraint of the real model (16 latent channels, VAE
scale 8, patch 2, head dim = sum of the RoPE axes, GGUF rows a multiple of 32).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from .keys import transformer_to_comfy, vae_to_bfl

TRANSFORMER_CONFIG: dict[str, Any] = dict(
    all_patch_size=[2], all_f_patch_size=[1], in_channels=16, dim=96, n_layers=2, n_refiner_layers=1,
    n_heads=3, n_kv_heads=3, norm_eps=1e-5, qk_norm=True, cap_feat_dim=32, rope_theta=256.0,
    t_scale=1000.0, axes_dims=[8, 12, 12], axes_lens=[1536, 512, 512],
)
TEXT_ENCODER_CONFIG: dict[str, Any] = dict(
    hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    head_dim=8, max_position_embeddings=1024, rope_theta=1_000_000.0, tie_word_embeddings=True,
    rms_norm_eps=1e-6,
)
VAE_CONFIG: dict[str, Any] = dict(
    in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[8, 8, 16, 16], layers_per_block=1,
    latent_channels=16, norm_num_groups=4, scaling_factor=0.3611, shift_factor=0.1159,
    use_quant_conv=False, use_post_quant_conv=False, force_upcast=True,
)
# Qwen3's chat template reduced to what Z-Image's prompt encoding uses.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<think>", "</think>"]


def make_tokenizer():
    """A byte-level BPE tokenizer (the Qwen2 class) with ~8k merges learnt from Chinese and English
    text (``devkit/train_tokenizer.py``): about one token per common character or short English
    word like Qwen's own, so prompts fit in 512 tokens as they do with the real models."""
    from transformers import Qwen2Tokenizer

    from .train_tokenizer import tokenizer_folder

    folder = tokenizer_folder()
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#version")]
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges, additional_special_tokens=SPECIAL_TOKENS)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


# A larger random model for CPU benchmarks: a denoising step takes ~0.1 s at 512².
SMALL_TRANSFORMER = dict(dim=384, n_layers=4, n_refiner_layers=1, n_heads=6, n_kv_heads=6, cap_feat_dim=512,
                         axes_dims=[16, 24, 24])
SMALL_TEXT_ENCODER = dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=8, num_attention_heads=8,
                          num_key_value_heads=4, head_dim=64)


def build_tiny_pipeline(seed: int = 0, transformer: dict | None = None, text_encoder: dict | None = None):
    """A ZImagePipeline of random weights with real classes (fp32, CPU); the dicts override the
    tiny sizes (see SMALL_TRANSFORMER / SMALL_TEXT_ENCODER)."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, ZImagePipeline, ZImageTransformer2DModel
    from transformers import Qwen3Config, Qwen3Model

    torch.manual_seed(seed)
    tokenizer = make_tokenizer()
    vocab = (len(tokenizer) + 15) // 16 * 16
    text_encoder_model = Qwen3Model(Qwen3Config(vocab_size=vocab, **{**TEXT_ENCODER_CONFIG, **(text_encoder or {})})).eval()
    transformer_model = ZImageTransformer2DModel(**{**TRANSFORMER_CONFIG, **(transformer or {})})
    # Random init leaves the zero-initialised final layer at zero; give it weights so images vary.
    with torch.no_grad():
        for p in cast(torch.nn.Module, transformer_model).get_submodule("all_final_layer").parameters():
            p.normal_(0, 0.05)
    vae = AutoencoderKL(**VAE_CONFIG)  # no dropout in either: train/eval mode does not matter
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, use_dynamic_shifting=False, shift=3.0)
    return ZImagePipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder_model, tokenizer=tokenizer,
                          transformer=transformer_model)


@dataclass(frozen=True)
class TinyModels:
    root: Path
    diffusers: Path
    comfy: Path
    gguf: Path


def write_configs(pipe, config_dir: Path) -> None:
    """configs/z-image-turbo: model_index, scheduler, tokenizer and each component's config.json."""
    config_dir.mkdir(parents=True, exist_ok=True)
    pipe.scheduler.save_pretrained(config_dir / "scheduler")
    pipe.tokenizer.save_pretrained(config_dir / "tokenizer")
    for name in ("transformer", "vae"):
        component = getattr(pipe, name)
        (config_dir / name).mkdir(exist_ok=True)
        (config_dir / name / "config.json").write_text(json.dumps(dict(component.config), indent=2, default=list))
    pipe.text_encoder.config.save_pretrained(config_dir / "text_encoder")
    model_index = {
        "_class_name": "ZImagePipeline",
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "Qwen3Model"],
        "tokenizer": ["transformers", "Qwen2Tokenizer"],
        "transformer": ["diffusers", "ZImageTransformer2DModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    (config_dir / "model_index.json").write_text(json.dumps(model_index, indent=2))


def write_comfy_folder(pipe, models_dir: Path, *, transformer: str = "safetensors", gguf_type: str = "Q8_0",
                       vae_keys: str = "bfl", transformer_prefix: str = "") -> Path:
    """Write the pipeline as a ComfyUI-style models folder; returns the transformer file.

    ``transformer`` is "safetensors" (bf16), "fp8" (float8_e4m3fn weights) or "gguf"."""
    from safetensors.torch import save_file

    for sub in ("diffusion_models", "text_encoders", "vae"):
        (models_dir / sub).mkdir(parents=True, exist_ok=True)
    write_configs(pipe, models_dir / "configs" / "z-image-turbo")

    te_state = {f"model.{k}": v.to(torch.bfloat16).contiguous() for k, v in pipe.text_encoder.state_dict().items()}
    save_file(te_state, models_dir / "text_encoders" / "tiny_qwen3.safetensors")

    vae_state = {k: v.float().contiguous() for k, v in pipe.vae.state_dict().items()}
    if vae_keys == "bfl":
        vae_state = vae_to_bfl(vae_state, len(pipe.vae.config.block_out_channels))
    save_file(vae_state, models_dir / "vae" / "tiny_ae.safetensors")

    tr_state = transformer_to_comfy(dict(pipe.transformer.state_dict()), prefix=transformer_prefix)
    if transformer == "gguf":
        path = models_dir / "diffusion_models" / f"tiny_zimage-{gguf_type}.gguf"
        write_gguf(tr_state, path, gguf_type)
    elif transformer in ("fp8_scaled", "fp8_weight_scale"):
        path = models_dir / "diffusion_models" / f"tiny_zimage_{transformer}.safetensors"
        save_file(scaled_fp8_state(tr_state, transformer_prefix, new_style=transformer == "fp8_weight_scale"), path)
    elif transformer == "fp8":
        # Like the fp8 files people publish: weight matrices in float8_e4m3fn, the rest bf16.
        path = models_dir / "diffusion_models" / "tiny_zimage_fp8_e4m3fn.safetensors"
        save_file({k: v.to(torch.float8_e4m3fn if v.ndim == 2 and k.endswith(".weight") else torch.bfloat16)
                   for k, v in tr_state.items()}, path)
    else:
        path = models_dir / "diffusion_models" / "tiny_zimage_bf16.safetensors"
        save_file({k: v.to(torch.bfloat16) for k, v in tr_state.items()}, path)
    return path


def scaled_fp8_state(state: dict[str, torch.Tensor], prefix: str = "", new_style: bool = False,
                     rows: tuple[int, ...] | None = None) -> dict[str, torch.Tensor]:
    """A transformer as ComfyUI's *scaled* FP8 files store it: each weight matrix in float8_e4m3fn
    divided by a per-layer scale (real weight = fp8 × scale). Older files name the scale
    ``<layer>.scale_weight`` and carry a ``scaled_fp8`` marker; newer "mixed" ones name it
    ``<layer>.weight_scale``, describe each layer in a ``<layer>.comfy_quant`` tensor (JSON bytes) and
    keep the embedders and the final layer in bf16. ``rows`` gives each layer one scale per output
    row (row-wise scaled FP8, as convert_to_quant-style tools write it), shaped ``rows`` with -1 for
    the row count: ``(-1, 1)`` or ``(-1,)``."""
    import json

    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        scaled = value.ndim == 2 and key.endswith(".weight") and (not new_style or ".layers." in f".{key}")
        if not scaled:
            out[key] = value.to(torch.bfloat16)
            continue
        base = key[: -len(".weight")]
        if rows is None:
            scale = (value.float().abs().max() / 448).clamp(min=1e-12)
        else:
            scale = (value.float().abs().amax(dim=1, keepdim=True) / 448).clamp(min=1e-12)
        out[key] = (value.float() / scale).to(torch.float8_e4m3fn)
        out[base + (".weight_scale" if new_style else ".scale_weight")] = scale.reshape(rows or ())
        if new_style:
            out[base + ".comfy_quant"] = torch.tensor(list(json.dumps({"format": "float8_e4m3fn"}).encode()),
                                                      dtype=torch.uint8)
    if not new_style:
        out[prefix + "scaled_fp8"] = torch.zeros(0, dtype=torch.float8_e4m3fn)
    return out


def write_gguf(state: dict[str, torch.Tensor], path: Path, quant: str = "Q8_0") -> None:
    """Write a transformer state dict as GGUF the way city96's tools do: 2-D weights quantized,
    everything else F32."""
    import gguf

    qtype = gguf.GGMLQuantizationType[quant]
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    writer = gguf.GGUFWriter(str(path), arch="lumina2")
    writer.add_file_type(int(qtype))
    for name, tensor in state.items():
        data = tensor.float().numpy()
        if name.endswith(".weight") and data.ndim == 2 and data.shape[-1] % block == 0:
            writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
        else:
            writer.add_tensor(name, np.ascontiguousarray(data, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def build_tiny_models(root: Path, seed: int = 0) -> TinyModels:
    root = Path(root)
    pipe = build_tiny_pipeline(seed)
    diffusers_dir = root / "diffusers"
    if diffusers_dir.exists():
        shutil.rmtree(diffusers_dir)
    pipe.save_pretrained(diffusers_dir, safe_serialization=True)
    write_comfy_folder(pipe, root / "comfy")
    write_comfy_folder(pipe, root / "gguf", transformer="gguf")
    return TinyModels(root=root, diffusers=diffusers_dir, comfy=root / "comfy", gguf=root / "gguf")


BASE_TINY_TRANSFORMER = "tiny_z_image_bf16.safetensors"  # "z_image_bf16" as Comfy-Org names the base model


def add_base_model(models_dir: Path) -> Path:
    """Z-Image (the base model) beside Turbo in a ComfyUI-style tiny folder, as a user who downloads
    it has it: its transformer file under the base model's published name (the same tensors as
    Turbo's, here the very same weights) and its configs in ``configs/z-image-base/``."""
    models_dir = Path(models_dir)
    source = next(p for p in sorted((models_dir / "diffusion_models").glob("*.safetensors")))
    target = models_dir / "diffusion_models" / BASE_TINY_TRANSFORMER
    shutil.copyfile(source, target)
    shutil.copytree(models_dir / "configs" / "z-image-turbo", models_dir / "configs" / "z-image-base", dirs_exist_ok=True)
    return target
