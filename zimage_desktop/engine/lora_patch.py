"""LoRAs on a loaded transformer, on the fly, whatever its weights are stored in.

Each Linear layer a LoRA changes gets one forward hook that adds ``Σ sᵢ·scaleᵢ·upᵢ(downᵢ(x))`` to
the layer's own output (for LoHa/LoKr, ``engine/lycoris.py``'s change of the same shape) —
the way ComfyUI-GGUF patches quantized layers and PEFT's unmerged LoRA
layers compute. The base weights are never written: bf16, FP8 (cast per layer by diffusers'
layerwise casting) and GGUF (``GGUFLinear`` dequantizes per call) all stay as loaded, no second
copy of the transformer exists, and changing the set or the strengths only swaps the list the
hooks read. Strength 0 (or no LoRA) leaves a layer's output untouched bit for bit. The LoRA
matrices are read once per file (cached by path, size and mtime) and copied to the compute
device once per set.

Where the plan has room for a copy of the layers a set changes (``engine/lora_plan.py`` decides,
``apply``'s ``decide``), the set is merged into the weights instead (``engine/lora_merge.py``):
no per-call rank-r cost, and the copy restores the base weights bit for bit.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import torch

from .lora_merge import WeightMerger
from .lora_plan import LoraApplication, not_mergeable
from .lora_weights import AnyLayer, LoraWeights, linear_shapes, read_lora
from .lycoris import LohaLayer

log = logging.getLogger(__name__)
CACHED_FILES = 8


class LoraPatcher:
    """Owns the hooks on one transformer; ``apply`` sets the active LoRAs and strengths."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        self.model = transformer
        self.shapes = linear_shapes(transformer)
        self._modules = dict(transformer.named_modules())
        self._hooks: dict[str, Any] = {}
        self._active: dict[str, list[tuple[AnyLayer, float]]] = {}
        self._files: OrderedDict[tuple[str, int, int], LoraWeights] = OrderedDict()
        self._on_device: dict[tuple[int, torch.device, torch.dtype], torch.Tensor] = {}
        self.applied: tuple[tuple[str, float], ...] = ()
        self.merger = WeightMerger(self._modules)
        self.application: LoraApplication | None = None  # how the current set is applied (None: no set)
        self._merged: tuple[tuple[int, float], ...] | None = None  # the set the weights hold, None: originals
        self.files_read = 0  # for tests and the benchmark: what switching costs

    def load(self, path: Path) -> LoraWeights:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        weights = read_lora(path, self.shapes)
        self.files_read += 1
        if weights.unmatched:
            log.warning("%s: %d tensors match no layer and were skipped (e.g. %s)", path.name,
                        len(weights.unmatched), ", ".join(weights.unmatched[:3]))
        self._files[key] = weights
        while len(self._files) > CACHED_FILES:
            self._files.popitem(last=False)
        return weights

    def apply(self, loras: list[tuple[Path, float]],
              decide: Callable[[float, bool], LoraApplication] | None = None) -> LoraApplication | None:
        """Make exactly these LoRAs (file, strength) active; an empty list removes every hook and
        restores merged weights. ``decide(backup_gib, rebuilds_delta)`` says whether a set is merged (the
        plan's room for the originals of the layers it changes; whether its hooks build a full ΔW per
        call, as a LoHa's do); without it, hooks."""
        active: dict[str, list[tuple[AnyLayer, float]]] = {}
        for path, strength in loras:
            if strength == 0:
                continue
            for module, parts in self.load(path).layers.items():
                active.setdefault(module, []).extend((part, float(strength)) for part in parts)
        key = tuple((str(p), float(s)) for p, s in loras)
        if key != self.applied:
            self._on_device.clear()
        application = None
        if active and decide is not None:
            bad = self.merger.first_unmergeable(list(active))
            rebuilds = any(isinstance(part, LohaLayer) for parts in active.values() for part, _ in parts)
            application = not_mergeable(*bad) if bad else decide(self.merger.backup_bytes(list(active)) / 1024**3,
                                                                   rebuilds)
        hooked = active
        # What the weights would hold: each file's layers (by identity: a rewritten file is a new one)
        # and strength.
        holds = tuple((id(self.load(p)), float(s)) for p, s in loras if s != 0)
        if application is not None and application.merged:
            if self._merged != holds:  # a fresh merge from the originals: strengths never stack
                self.merger.merge(active, application.backup)
                self._merged = holds
            hooked = {}
        elif self._merged is not None:
            self.merger.restore()
            self._merged = None
        self.application = application if active else None
        self._active = hooked
        self.applied = key
        for name in [n for n in self._hooks if n not in hooked]:
            self._hooks.pop(name).remove()
        for name in hooked:
            if name not in self._hooks:
                self._hooks[name] = self._modules[name].register_forward_hook(self._hook_for(name))
        return self.application

    def remove(self) -> None:
        self.apply([])
        self._files.clear()

    def kept_gib(self, in_use: list[Path]) -> float:
        """The files read for earlier sets and still cached, so that switching back reads nothing: RAM
        held beside the set ``in_use`` (their files' sizes, as the planner counts a set)."""
        current = {str(p.resolve()) for p in in_use}
        return sum(size for path, size, _ in self._files if path not in current) / 1024**3

    @property
    def hooked(self) -> int:
        return len(self._hooks)

    def drop_device_copies(self) -> None:
        """Forget the matrices copied to the device (the transformer left it: placement's swap ring);
        the next call copies them again from the file's RAM copy."""
        self._on_device.clear()

    def _moved(self, tensor: torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        key = (id(tensor), device, dtype)
        found = self._on_device.get(key)
        if found is None:
            found = tensor.to(device=device, dtype=dtype)
            self._on_device[key] = found
        return found

    def _hook_for(self, name: str):
        def hook(module: torch.nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
            parts = self._active.get(name)
            if not parts or not args:
                return output
            x = args[0].to(output.dtype)

            def moved(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
                return self._moved(tensor, x.device, dtype)

            delta = None
            for layer, strength in parts:
                change = layer.change(x, moved) * (layer.scale * strength)
                delta = change if delta is None else delta + change
            return output if delta is None else output + delta

        return hook
