"""A LoRA set merged into plain float ``nn.Linear`` weights, and unmerged exactly.

``W' = W + Σ sᵢ·scaleᵢ·ΔWᵢ`` is computed in float32 from the *original* weight and cast once to the
weight's dtype, so a changed strength or set is a fresh merge from the originals, never a second
rounding on top of the first. The originals of exactly the layers the set touches are kept (the
backup: on the weights' device, in pinned RAM or in plain RAM, as ``engine/lora_plan.py`` decided)
and copied back to unmerge: the base weights come back bit for bit. Used by ``LoraPatcher`` when
the plan has room; otherwise the hooks apply the set on the fly.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from .lora_weights import AnyLayer

FLOAT_WEIGHTS = (torch.bfloat16, torch.float16, torch.float32)


def plain_weight(module: torch.nn.Module) -> torch.Tensor | None:
    """The module's weight when a merge can write it: a plain float tensor of an ``nn.Linear``
    (not a GGUF parameter, not FP8 storage cast per call, not offloaded to the meta device)."""
    weight = getattr(module, "weight", None)
    if not isinstance(module, torch.nn.Linear) or not isinstance(weight, torch.Tensor):
        return None
    if weight.dtype not in FLOAT_WEIGHTS or weight.is_meta or hasattr(weight, "quant_type"):
        return None
    if type(weight) not in (torch.nn.Parameter, torch.Tensor):
        return None
    return weight


def _on(layer: AnyLayer, device: torch.device) -> AnyLayer:
    """The layer with its tensors on ``device`` (its ΔW is then built there, not on the CPU)."""
    moved = {f.name: getattr(layer, f.name).to(device) for f in dataclasses.fields(layer)
             if isinstance(getattr(layer, f.name), torch.Tensor)}
    return dataclasses.replace(layer, **moved)


class WeightMerger:
    """Owns the backups of one transformer's merged layers."""

    def __init__(self, modules: dict[str, torch.nn.Module]) -> None:
        self._modules = modules
        self._backup: dict[str, torch.Tensor] = {}
        self.merges = 0  # layers written since creation (tests, the benchmark)

    @property
    def merged_layers(self) -> int:
        return len(self._backup)

    def first_unmergeable(self, names: Sequence[str]) -> tuple[str, str] | None:
        """(layer, dtype) of the first layer a merge cannot write, or None."""
        for name in names:
            module = self._modules[name]
            if plain_weight(module) is None:
                weight = getattr(module, "weight", None)
                return name, str(getattr(weight, "dtype", type(module).__name__)).replace("torch.", "")
        return None

    def backup_bytes(self, names: Sequence[str]) -> int:
        total = 0
        for name in names:
            weight = self._modules[name].weight
            assert isinstance(weight, torch.Tensor)
            total += weight.numel() * weight.element_size()
        return total

    def merge(self, active: dict[str, list[tuple[AnyLayer, float]]], backup: str = "device") -> None:
        """Make the weights exactly ``original + Σ strength·scale·ΔW`` for the layers in ``active``
        and the originals everywhere else. ``backup``: where a newly touched layer's original is
        kept ("device", "pinned" or "cpu")."""
        self.restore([name for name in self._backup if name not in active])
        with torch.no_grad():
            for name, parts in active.items():
                weight = plain_weight(self._modules[name])
                assert weight is not None, name
                original = self._backup.get(name)
                if original is None:
                    original = self._keep(weight, backup)
                    self._backup[name] = original
                total = original.to(device=weight.device, dtype=torch.float32, copy=True)
                for layer, strength in parts:
                    total.add_(_on(layer, weight.device).dense().reshape(total.shape), alpha=strength)
                weight.copy_(total.to(weight.dtype))
                self.merges += 1

    def restore(self, names: Sequence[str] | None = None) -> None:
        """Copy the originals back (bit for bit) and drop their backups; all of them by default."""
        with torch.no_grad():
            for name in list(self._backup if names is None else names):
                original = self._backup.pop(name)
                weight = self._modules[name].weight
                assert isinstance(weight, torch.Tensor)
                weight.copy_(original)

    @staticmethod
    def _keep(weight: torch.Tensor, where: str) -> torch.Tensor:
        if where == "device" or weight.device.type == "cpu":
            return weight.detach().clone()
        kept = torch.empty(weight.shape, dtype=weight.dtype, device="cpu", pin_memory=where == "pinned")
        kept.copy_(weight.detach())
        return kept
