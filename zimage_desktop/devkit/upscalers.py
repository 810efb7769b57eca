"""Tiny random ESRGAN upscale models in the layouts they are published in, for tests and benches.

Two layouts exist in the wild: the original ESRGAN repository's ``nn.Sequential`` names
(``model.0.weight``, ``model.1.sub.N.RDB1.conv1.0.weight``, … — e.g. ``4x-UltraSharp.pth``) and
BasicSR's ``RRDBNet`` names (``conv_first``, ``body.N.rdb1.conv1``, ``conv_body``, ``conv_up1/2``,
``conv_hr``, ``conv_last`` — Real-ESRGAN's ``RealESRGAN_x4plus.pth``). BasicSR's ×2 model
pixel-unshuffles its input by 2 (``conv_first`` takes 12 channels) and then upsamples ×4, as
``RealESRGAN_x2plus.pth`` does. Files are written with ``torch.save`` (``.pth``; BasicSR wraps the
weights in ``{"params_ema": …}``) or ``safetensors`` (how OpenModelDB republishes them).
"""

from __future__ import annotations

from pathlib import Path

import torch

GROWTH = 32  # the dense blocks' growth channels: fixed in every published ESRGAN


def _conv(state: dict[str, torch.Tensor], name: str, out_ch: int, in_ch: int, gen: torch.Generator) -> None:
    std = (1.0 / (in_ch * 9)) ** 0.5  # unit gain: the output spreads over [0, 1] like a picture
    state[f"{name}.weight"] = torch.randn(out_ch, in_ch, 3, 3, generator=gen) * std
    state[f"{name}.bias"] = torch.randn(out_ch, generator=gen) * 0.05 + (0.5 if out_ch == 3 else 0.0)


def esrgan_state_dict(scale: int, layout: str = "old", filters: int = 16, blocks: int = 1,
                      seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights of a ×``scale`` (2 or 4) RRDB network, ``layout`` "old" (ESRGAN) or "new" (BasicSR)."""
    if scale not in (2, 4) or layout not in ("old", "new"):
        raise ValueError("scale 2 or 4, layout old or new")
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    new = layout == "new"
    in_ch = 3 * (4 if new and scale == 2 else 1)
    _conv(state, "conv_first" if new else "model.0", filters, in_ch, gen)
    for block in range(blocks):
        for rdb in (1, 2, 3):
            for conv in range(1, 6):
                name = f"body.{block}.rdb{rdb}.conv{conv}" if new else f"model.1.sub.{block}.RDB{rdb}.conv{conv}.0"
                out_ch = filters if conv == 5 else GROWTH
                _conv(state, name, out_ch, filters + (conv - 1) * GROWTH, gen)
    _conv(state, "conv_body" if new else f"model.1.sub.{blocks}", filters, filters, gen)
    ups = 2 if new else {2: 1, 4: 2}[scale]  # BasicSR always upsamples ×4 (after unshuffling a ×2)
    for i in range(1, ups + 1):
        _conv(state, f"conv_up{i}" if new else f"model.{3 * i}", filters, filters, gen)
    _conv(state, "conv_hr" if new else f"model.{3 * ups + 2}", filters, filters, gen)
    _conv(state, "conv_last" if new else f"model.{3 * ups + 4}", 3, filters, gen)
    return state


def write_upscaler(path: Path, state: dict[str, torch.Tensor], wrap: bool = False) -> Path:
    """``state`` as a ``.pth`` (``wrap``: inside ``params_ema``, as BasicSR saves) or ``.safetensors``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save({"params_ema": state} if wrap else state, str(path))
    return path
