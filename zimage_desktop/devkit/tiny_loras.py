"""Tiny LoRAs for the tiny kit's transformer, written the way each trainer writes them.

``write_peft_lora`` goes through PEFT and diffusers' own ``save_lora_weights`` (the diffusers
layout, alpha in ``lora_adapter_metadata``). The other layouts take that LoRA's matrices and write
them under the names the other tools use: ai-toolkit (``diffusion_model.`` + diffusers names,
lora_A/B), diffusion-pipe / ComfyUI (``diffusion_model.`` + the original module names, fused
``qkv``, lora_A/B + alpha), musubi/ComfyUI down/up (+ alpha), kohya (``lora_unet_`` with
underscores, lora_down/up + alpha), and two kinds that must be refused (LyCORIS LoKr, an SDXL LoRA).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

# the layers Z-Image trainers target by default: attention and feed-forward of every block
TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "w1", "w2", "w3")
FORMATS = ("peft", "aitoolkit", "diffusion_pipe", "comfy_down_up", "kohya")


def write_peft_lora(transformer: torch.nn.Module, path: Path, rank: int = 4, alpha: float = 8.0, seed: int = 1,
                    magnitude: float = 0.2, metadata: dict[str, str] | None = None) -> dict[str, torch.Tensor]:
    """A LoRA made with PEFT on ``transformer`` (left unchanged) and saved by diffusers; returns
    its state dict (diffusers keys without the ``transformer.`` prefix)."""
    import copy

    from diffusers import ZImagePipeline
    from peft import LoraConfig, get_peft_model_state_dict
    from safetensors.torch import load_file, save_file

    model = copy.deepcopy(transformer).to(torch.float32)
    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(TARGETS),  # type: ignore[arg-type]
                        init_lora_weights=True)
    model.add_adapter(config)  # type: ignore[operator]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:  # PEFT starts B at zero: give both random values, as after training
                param.copy_(torch.randn(param.shape, generator=generator) * magnitude)
    state = get_peft_model_state_dict(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    ZImagePipeline.save_lora_weights(path.parent, transformer_lora_layers=state, weight_name=path.name,
                                     transformer_lora_adapter_metadata=config.to_dict())
    if metadata:
        saved = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta = dict(fh.metadata() or {})
        save_file(saved, str(path), metadata={**meta, **metadata})
    return {k: v.clone() for k, v in state.items()}


def _comfy_module(name: str) -> str:
    return name.replace(".attention.to_out.0", ".attention.out")


def write_format(state: dict[str, torch.Tensor], fmt: str, path: Path, rank: int, alpha: float,
                 metadata: dict[str, str] | None = None) -> Path:
    """The same LoRA (``write_peft_lora``'s matrices, scale alpha/rank) in another tool's layout."""
    from safetensors.torch import save_file

    modules = sorted({k.rsplit(".lora_", 1)[0] for k in state})
    out: dict[str, torch.Tensor] = {}
    alpha_t = torch.tensor(float(alpha))
    fused = fmt in ("diffusion_pipe", "comfy_down_up", "kohya")
    for module in modules:
        down, up = state[f"{module}.lora_A.weight"], state[f"{module}.lora_B.weight"]
        if fused and module.endswith(".attention.to_k") or fused and module.endswith(".attention.to_v"):
            continue
        name = module
        if fused and module.endswith(".attention.to_q"):
            base = module[: -len(".to_q")]
            # one down matrix for the fused layer: only a LoRA whose q/k/v share it can be written
            # this way, so the test LoRA for these layouts shares it (see shared_qkv_down)
            up = torch.cat([state[f"{base}.to_{p}.lora_B.weight"] for p in "qkv"])
            name = f"{base}.qkv"
        if fmt == "aitoolkit":
            out[f"diffusion_model.{name}.lora_A.weight"] = down
            out[f"diffusion_model.{name}.lora_B.weight"] = up * (alpha / rank)  # ai-toolkit bakes no alpha
        elif fmt == "diffusion_pipe":
            out[f"diffusion_model.{_comfy_module(name)}.lora_A.weight"] = down
            out[f"diffusion_model.{_comfy_module(name)}.lora_B.weight"] = up
            out[f"diffusion_model.{_comfy_module(name)}.alpha"] = alpha_t
        elif fmt == "comfy_down_up":
            out[f"diffusion_model.{_comfy_module(name)}.lora_down.weight"] = down
            out[f"diffusion_model.{_comfy_module(name)}.lora_up.weight"] = up
            out[f"diffusion_model.{_comfy_module(name)}.alpha"] = alpha_t
        elif fmt == "kohya":
            key = "lora_unet_" + _comfy_module(name).replace(".", "_")
            out[f"{key}.lora_down.weight"] = down
            out[f"{key}.lora_up.weight"] = up
            out[f"{key}.alpha"] = alpha_t
        else:
            raise ValueError(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.clone().contiguous() for k, v in out.items()}, str(path), metadata=metadata)
    return path


def shared_qkv_down(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The LoRA with k and v using q's down matrix (what a LoRA trained on a fused qkv layer is)."""
    out = dict(state)
    for key in state:
        if key.endswith(".attention.to_q.lora_A.weight"):
            for p in "kv":
                out[key.replace(".to_q.", f".to_{p}.")] = state[key].clone()
    return out


def write_peft_state(state: dict[str, torch.Tensor], path: Path, rank: int, alpha: float) -> Path:
    """A state dict in diffusers' layout, as ``save_lora_weights`` writes it."""
    from safetensors.torch import save_file

    from peft import LoraConfig

    config = LoraConfig(r=rank, lora_alpha=alpha,  # type: ignore[arg-type]
                        target_modules=list(TARGETS)).to_dict()
    config = {f"transformer.{k}": sorted(v) if isinstance(v, set) else v for k, v in config.items()}
    meta = {"format": "pt", "lora_adapter_metadata": json.dumps(config, sort_keys=True, default=str)}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({f"transformer.{k}": v.contiguous() for k, v in state.items()}, str(path), metadata=meta)
    return path


def write_lokr(path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({"lycoris_layers_0_attention_qkv.lokr_w1": torch.randn(4, 4),
               "lycoris_layers_0_attention_qkv.lokr_w2": torch.randn(72, 24),
               "lycoris_layers_0_attention_qkv.alpha": torch.tensor(4.0)}, str(path))
    return path


def write_sdxl(path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({"lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight": torch.randn(4, 64),
               "lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight": torch.randn(64, 4),
               "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": torch.randn(4, 64),
               "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight": torch.randn(64, 4)}, str(path),
              metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    return path
