"""Tiny LoRAs for the tiny kit's transformer, written the way each trainer writes them.

``write_peft_lora`` goes through PEFT and diffusers' own ``save_lora_weights`` (the diffusers
layout, alpha in ``lora_adapter_metadata``). The other layouts take that LoRA's matrices and write
them under the names the other tools use: ai-toolkit (``diffusion_model.`` + diffusers names,
lora_A/B), diffusion-pipe / ComfyUI (``diffusion_model.`` + the original module names, fused
``qkv``, lora_A/B + alpha), musubi/ComfyUI down/up (+ alpha), kohya (``lora_unet_`` with
underscores, lora_down/up + alpha), and kinds that must be refused (a Tucker LoKr, an SDXL LoRA).

``write_lycoris`` writes LoHa and LoKr files the way LyCORIS saves them: one prefix per Linear
module (``lycoris_`` + the diffusers module path with underscores, SimpleTuner's layout, or kohya's
``lora_unet_`` + ComfyUI's module names with the fused ``qkv``), the factors ``hada_w1_a/_b``,
``hada_w2_a/_b`` or ``lokr_w1[_a/_b]``, ``lokr_w2[_a/_b]``, and an ``alpha`` scalar; LoKr splits each
side as LyCORIS' ``factorization`` does (the divisor nearest √n, small factor in ``w1``).
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


def factorization(n: int) -> tuple[int, int]:
    """(m, n/m) with m the largest divisor of n not above √n (LyCORIS' ``factorization(n, -1)``)."""
    m = max(d for d in range(1, int(n ** 0.5) + 1) if n % d == 0)
    return m, n // m


LYCORIS_KINDS = ("loha", "lokr", "lokr_full", "lokr_both")


def write_lycoris(shapes: dict[str, tuple[int, int]], path: Path, kind: str, naming: str = "lycoris",
                  rank: int = 4, alpha: float = 2.0, seed: int = 3, magnitude: float = 0.3,
                  dtype: torch.dtype = torch.bfloat16) -> dict[str, list[str]]:
    """A LoHa (``kind`` loha) or LoKr (lokr: full w1, decomposed w2; lokr_full: both full, alpha
    ignored; lokr_both: both decomposed) on the attention and feed-forward layers of every block.
    ``shapes`` maps our (diffusers) Linear module names to (out, in); ``naming`` is ``lycoris``
    (diffusers names) or ``kohya`` (ComfyUI names, fused qkv). Returns {file prefix: the modules of
    ours it changes, in row order}."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return (torch.randn(shape, generator=g) * magnitude).to(dtype)

    modules: dict[str, tuple[int, int]] = {}
    targets: dict[str, list[str]] = {}
    for name, (out, inp) in shapes.items():
        if not name.startswith("layers.") or not name.endswith(TARGETS):
            continue
        ours = [name]
        if naming == "kohya":
            if name.endswith((".to_k", ".to_v")):
                continue
            if name.endswith(".to_q"):
                base = name[: -len(".to_q")]
                ours = [f"{base}.to_{p}" for p in "qkv"]
                name, out = base + ".qkv", sum(shapes[o][0] for o in ours)
            prefix = "lora_unet_" + _comfy_module(name).replace(".", "_")
        else:
            prefix = "lycoris_" + name.replace(".", "_")
        modules[prefix], targets[prefix] = (out, inp), ours
    state: dict[str, torch.Tensor] = {}
    for prefix, (out, inp) in sorted(modules.items()):
        if kind == "loha":
            state.update({f"{prefix}.hada_w1_a": rand(out, rank), f"{prefix}.hada_w1_b": rand(rank, inp),
                          f"{prefix}.hada_w2_a": rand(out, rank), f"{prefix}.hada_w2_b": rand(rank, inp)})
        else:
            (out_m, out_n), (in_m, in_n) = factorization(out), factorization(inp)
            if kind == "lokr_both":
                state.update({f"{prefix}.lokr_w1_a": rand(out_m, rank), f"{prefix}.lokr_w1_b": rand(rank, in_m)})
            else:
                state[f"{prefix}.lokr_w1"] = rand(out_m, in_m)
            if kind == "lokr_full":
                state[f"{prefix}.lokr_w2"] = rand(out_n, in_n) / 2
            else:
                state.update({f"{prefix}.lokr_w2_a": rand(out_n, rank), f"{prefix}.lokr_w2_b": rand(rank, in_n)})
        state[f"{prefix}.alpha"] = torch.tensor(float(alpha))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return targets


def write_lokr_tucker(path: Path) -> Path:
    """A convolution-style LoKr (with ``lokr_t2``): refused on Z-Image's Linear layers."""
    from safetensors.torch import save_file

    save_file({"lycoris_layers_0_attention_to_q.lokr_w1": torch.randn(8, 8),
               "lycoris_layers_0_attention_to_q.lokr_w2_a": torch.randn(4, 12),
               "lycoris_layers_0_attention_to_q.lokr_w2_b": torch.randn(4, 12),
               "lycoris_layers_0_attention_to_q.lokr_t2": torch.randn(4, 4, 1, 1),
               "lycoris_layers_0_attention_to_q.alpha": torch.tensor(4.0)}, str(path))
    return path


def write_dora(path: Path) -> Path:
    """A kohya LoRA with DoRA magnitudes (``dora_scale``): refused with a sentence."""
    from safetensors.torch import save_file

    key = "lora_unet_layers_0_attention_to_q"
    save_file({f"{key}.lora_down.weight": torch.randn(4, 96), f"{key}.lora_up.weight": torch.randn(96, 4),
               f"{key}.dora_scale": torch.rand(96, 1), f"{key}.alpha": torch.tensor(4.0)}, str(path))
    return path


def write_sdxl(path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({"lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight": torch.randn(4, 64),
               "lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight": torch.randn(64, 4),
               "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": torch.randn(4, 64),
               "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight": torch.randn(64, 4)}, str(path),
              metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    return path
