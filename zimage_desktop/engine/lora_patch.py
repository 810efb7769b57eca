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
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from .lora_weights import AnyLayer, LoraWeights, linear_shapes, read_lora

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

    def apply(self, loras: list[tuple[Path, float]]) -> None:
        """Make exactly these LoRAs (file, strength) active; an empty list removes every hook."""
        active: dict[str, list[tuple[AnyLayer, float]]] = {}
        for path, strength in loras:
            if strength == 0:
                continue
            for module, parts in self.load(path).layers.items():
                active.setdefault(module, []).extend((part, float(strength)) for part in parts)
        key = tuple((str(p), float(s)) for p, s in loras)
        if key != self.applied:
            self._on_device.clear()
        self._active = active
        self.applied = key
        for name in [n for n in self._hooks if n not in active]:
            self._hooks.pop(name).remove()
        for name in active:
            if name not in self._hooks:
                self._hooks[name] = self._modules[name].register_forward_hook(self._hook_for(name))

    def remove(self) -> None:
        self.apply([])
        self._files.clear()

    @property
    def hooked(self) -> int:
        return len(self._hooks)

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
