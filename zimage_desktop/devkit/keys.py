"""Write diffusers state dicts in the key layouts other tools publish.

These are the inverses of diffusers' single-file converters (``convert_z_image_transformer_
checkpoint_to_diffusers`` and ``convert_ldm_vae_checkpoint``), used to produce ComfyUI-style
test files. Loading always goes through diffusers' own converters.
"""

from __future__ import annotations

import re

import torch

_TRANSFORMER_RENAMES = (
    ("all_final_layer.2-1.", "final_layer."),
    ("all_x_embedder.2-1.", "x_embedder."),
    (".attention.to_out.0.", ".attention.out."),
    (".attention.norm_k.", ".attention.k_norm."),
    (".attention.norm_q.", ".attention.q_norm."),
)


def transformer_to_comfy(state: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    """diffusers ZImageTransformer2DModel keys → ComfyUI (Lumina2/NextDiT) keys with fused qkv."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if ".attention.to_k." in key or ".attention.to_v." in key:
            continue
        if ".attention.to_q.weight" in key:
            base = key.replace(".to_q.weight", "")
            value = torch.cat([state[f"{base}.to_q.weight"], state[f"{base}.to_k.weight"], state[f"{base}.to_v.weight"]])
            key = f"{base}.qkv.weight"
        for old, new in _TRANSFORMER_RENAMES:
            key = key.replace(old, new)
        out[prefix + key] = value.contiguous()
    return out


def vae_to_bfl(state: dict[str, torch.Tensor], num_blocks: int) -> dict[str, torch.Tensor]:
    """diffusers AutoencoderKL keys → the original (BFL ``ae.safetensors`` / LDM) keys."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new = key
        new = re.sub(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.", r"encoder.down.\1.block.\2.", new)
        new = re.sub(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.", r"encoder.down.\1.downsample.", new)
        m = re.match(r"decoder\.up_blocks\.(\d+)\.(.*)", new)
        if m:
            ldm_index = num_blocks - 1 - int(m.group(1))
            rest = re.sub(r"^resnets\.(\d+)\.", r"block.\1.", m.group(2))
            rest = rest.replace("upsamplers.0.", "upsample.")
            new = f"decoder.up.{ldm_index}.{rest}"
        new = re.sub(r"(en|de)coder\.mid_block\.resnets\.(\d+)\.",
                     lambda g: f"{g.group(1)}coder.mid.block_{int(g.group(2)) + 1}.", new)
        if ".mid_block.attentions.0." in new:
            new = new.replace("mid_block.attentions.0.", "mid.attn_1.")
            for old, repl in (("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."), ("to_v.", "v."),
                              ("to_out.0.", "proj_out.")):
                new = new.replace(old, repl)
            if value.ndim == 2:  # the original stores attention projections as 1x1 convolutions
                value = value[:, :, None, None]
        new = new.replace("conv_shortcut.", "nin_shortcut.")
        new = new.replace("conv_norm_out.", "norm_out.")
        out[new] = value.contiguous()
    return out
