"""ComfyUI's *scaled* FP8 files (real weight = fp8 × per-layer scale), applied without rounding the
product back to FP8.

Multiplying each fp8 weight by its scale and storing the result as fp8 again rounds every weight a
second time (3.7 % error against the file's own 2.6 %). Here the weights stay fp8 as stored and the
scale is applied where the layer multiplies: the output of ``x @ W8ᵀ + b`` becomes
``(x @ W8ᵀ)·s + b``, computed in float32 — the file's own weight ``W8·s`` exactly, in the compute
dtype, at no extra memory. Layers that layerwise casting leaves in the compute dtype (embedders,
norms) take the product in the compute dtype. A row-wise scale (one per output row, shaped
(rows,) or (rows, 1)) is applied the same way, each output feature by its row's scale.

A weight is followed through the key conversion (ComfyUI → diffusers names, the fused qkv split
into row views) by where its elements live in memory, so no key mapping is repeated here.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import torch

from ..errors import ModelFilesError
from ..messages import msg

SCALE_SUFFIXES = (".scale_weight", ".weight_scale")  # ComfyUI's scaled FP8, older and newer files
SCALE_MARKERS = ("scaled_fp8", ".input_scale", ".comfy_quant")

Ranges = list[tuple[int, int, torch.Tensor]]  # (first byte, end byte, scale) of each scaled fp8 weight


def split_scales(state: dict[str, torch.Tensor], name: str, dtype: torch.dtype) -> Ranges:
    """Take the scales and markers out of ``state`` (checked: present, finite, positive); returns
    where each scaled weight lives. A scale of more than one number is applied here, in ``dtype``."""
    scales = {}
    for key in [k for k in state if k.endswith(SCALE_SUFFIXES)]:
        suffix = next(s for s in SCALE_SUFFIXES if key.endswith(s))
        scales[key[: -len(suffix)] + ".weight"] = state.pop(key)
    for key in [k for k in state if k.endswith(SCALE_MARKERS)]:
        del state[key]
    if not scales:
        return []
    check_scales(state, scales, name)
    ranges: Ranges = []
    for key, scale in scales.items():
        weight = state[key]
        # one number, or one per output row (checked): (rows,) or (rows, 1) → (rows,), which scales
        # the layer's output features as the row's scale scales its weights
        scale = scale.reshape(()) if scale.numel() == 1 else scale.reshape(-1)
        if weight.element_size() != 1:
            wide = scale.reshape(-1, *([1] * (weight.ndim - 1))) if scale.ndim else scale
            state[key] = (weight.to(torch.float32) * wide.to(torch.float32)).to(dtype)
            continue
        start = weight.data_ptr()
        ranges.append((start, start + weight.numel() * weight.element_size(), scale.to(torch.float32)))
    return sorted(ranges, key=lambda r: r[0])


def check_scales(state: dict[str, torch.Tensor], scales: dict[str, torch.Tensor], name: str) -> None:
    """A scaled file whose scales are missing, not finite or not positive loads silently and makes
    a wrong picture: refused instead, in one sentence."""
    def refuse(layer: str, problem: str) -> ModelFilesError:
        return ModelFilesError(msg("loader.fp8_scale_bad", "{name} is a scaled FP8 file, but the scale of {layer} is "
                                   "{problem}; the file is damaged — download it again.", name=name,
                                   layer=layer.removesuffix(".weight"), problem=problem))

    for key, scale in scales.items():
        if key not in state:
            raise refuse(key, msg("loader.fp8_scale_orphan", "there without its weight"))
        weight = state[key]
        rows = weight.shape[0] if weight.ndim >= 1 else 1
        per_row = weight.ndim == 2 and tuple(scale.shape) in ((rows,), (rows, 1))
        if scale.numel() != 1 and not per_row:  # a row missing or one too many, or a block layout
            raise refuse(key, msg("loader.fp8_scale_shape", "{count} numbers for a weight of {rows} rows (one number, "
                                  "or one per row, is what the file format holds)", count=scale.numel(), rows=rows))
        if not scale.is_floating_point() or not bool(torch.isfinite(scale.float()).all()):
            raise refuse(key, msg("loader.fp8_scale_not_finite", "not a finite number"))
        if not bool((scale.float() > 0).all()):
            raise refuse(key, msg("loader.fp8_scale_not_positive", "zero or negative"))
    for key, weight in state.items():
        if key.endswith(".weight") and weight.dtype == torch.float8_e4m3fn and weight.ndim == 2 and key not in scales:
            raise refuse(key, msg("loader.fp8_scale_missing", "missing"))


def _scale_of(ranges: Ranges, tensor: torch.Tensor) -> tuple[int, torch.Tensor] | None:
    """The scale of the file's weight this tensor lives in (which range, and its scale): for a
    row-wise scale, the rows this tensor is — the fused qkv is split into row views on load."""
    at = bisect.bisect_right([r[0] for r in ranges], tensor.data_ptr()) - 1
    if at < 0 or tensor.data_ptr() >= ranges[at][1]:
        return None
    start, end, scale = ranges[at]
    if scale.ndim == 0:
        return at, scale
    row_bytes = (end - start) // scale.numel()
    first = (tensor.data_ptr() - start) // row_bytes
    if tensor.ndim != 2 or tensor.shape[1] * tensor.element_size() != row_bytes:
        return None  # not whole rows of it: the scale then belongs to no layer (refused)
    return at, scale[first:first + tensor.shape[0]]


def _scaled_output(scale: torch.Tensor) -> Any:
    def hook(module: torch.nn.Module, _args: Any, out: torch.Tensor) -> torch.Tensor:
        # out = x·W8ᵀ + b (b as the layer used it); the file's layer is x·(W8·s)ᵀ + b
        bias = getattr(module, "bias", None)
        wide = out.to(torch.float32) * scale.to(out.device)
        if bias is not None:
            wide = wide + bias.to(device=out.device, dtype=torch.float32) * (1 - scale.to(out.device))
        return wide.to(out.dtype)
    return hook


def attach_scales(model: torch.nn.Module, ranges: Ranges, dtype: torch.dtype, skip_patterns: tuple[str, ...],
                  name: str) -> None:
    """Each loaded fp8 weight with a scale: a hook on its layer, or — in a layer kept in ``dtype``
    (``skip_patterns``) — the product in ``dtype``. Every scale must find its layer."""
    if not ranges:
        return
    found: set[int] = set()
    for module_name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if not isinstance(module, torch.nn.Linear) or not isinstance(weight, torch.Tensor):
            continue
        located = _scale_of(ranges, weight)
        if located is None:
            continue
        at, scale = located
        found.add(at)
        if any(re.search(p, module_name) for p in skip_patterns):
            rows = scale.reshape(-1, 1) if scale.ndim else scale
            module.weight = torch.nn.Parameter((weight.to(torch.float32) * rows).to(dtype), requires_grad=False)
        else:
            module.register_forward_hook(_scaled_output(scale))
    if len(found) != len(ranges):
        raise ModelFilesError(msg("loader.fp8_scale_unplaced", "{name} is a scaled FP8 file, but {count} of its scales "
                                  "belong to no layer of the model.", name=name, count=len(ranges) - len(found)))


__all__ = ["SCALE_MARKERS", "SCALE_SUFFIXES", "attach_scales", "check_scales", "split_scales"]
