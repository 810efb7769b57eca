"""The ControlNet Union's hints computed as ComfyUI computes them, with the weights of diffusers'
``ZImageControlNetModel`` (loaded by engine/controlnet.py) and hooks on diffusers' transformer.

Why not ``ZImageControlNetModel.forward``: diffusers (as VideoX-Fun) runs the control layers over
[control image tokens + caption tokens] and adds each hint to the caption tokens too, and for
2.1 files uses the refiner-control hints only inside the ControlNet. ComfyUI's
``ZImageControlPatch`` (comfy_extras/nodes_model_patch.py, comfy/ldm/lumina/controlnet.py) —
what our exported graphs run — differs, and its picture is the one users compare with:

- the control layers run over the control image's tokens only (no padding, no caption), with
  the rope of the image part and no attention mask; their ``x`` is the transformer's own image
  tokens (the noise-refiner input for refiner-control blocks, the main layers' input after that);
- hints are added to the image tokens only: diffusers' unified stream is [image; caption], image
  first, so to ``[:, :n]`` of a main layer's output;
- 2.1 (``refiner_control``): the two ``control_noise_refiner`` blocks add their hints to the
  transformer's own noise-refiner outputs; 2.0 (those blocks all zero: ComfyUI's ``broken``) uses
  control layer 0 after refiner block 0 and layers 1… after refiner block 1; 1.0 runs its plain
  refiner blocks over the control tokens before the first control layer;
- after main layer ``i`` the hint of control layer ``i / div`` is added when that is a whole
  number, ``div = round(30 / n_control_layers)``; control layers run lazily, each once.

The state (``temp_data`` in ComfyUI) lives for one sampling run — ComfyUI resets it when it moves
the patch to the device before sampling — and carries over between steps exactly as ComfyUI's
does (on transformers with fewer than 30 layers that matters: ComfyUI then resumes from the last
control layer on the next step's refiner, reproduced here).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch

Pair = tuple[torch.Tensor | None, torch.Tensor]


def _control_block(block: Any, c: torch.Tensor, x: torch.Tensor, freqs: torch.Tensor,
                   adaln: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(hint, c) of one diffusers ``ZImageControlTransformerBlock``; it stacks its outputs and,
    past block 0, reads the running ``c`` as the last entry of a stack."""
    out = block(c if block.block_id == 0 else c.unsqueeze(0), x, None, freqs, adaln)
    return out[-2], out[-1]


class ComfyHints:
    """One sampling run's ComfyUI control state over a diffusers ControlNet (``controlnet``,
    sharing nothing it needs with the transformer but the token layout)."""

    def __init__(self, controlnet: Any, context: torch.Tensor, strength: float, refiner_control: bool,
                 broken: bool) -> None:
        self.net = controlnet
        self.context = context  # [1, C, 1, H, W]
        self.strength = strength
        self.refiner_control = refiner_control
        self.broken = broken
        self.n_control = len(controlnet.control_layers)
        self.div = round(30 / self.n_control)
        self.state: tuple[int, Pair] | None = None
        self.x_input: torch.Tensor | None = None  # noise-refiner input (image tokens, padded)
        self.img_input: torch.Tensor | None = None  # main layers' input, image part
        self.freqs: torch.Tensor | None = None
        self.adaln: torch.Tensor | None = None

    # ZImage_Control.forward: the control tokens (plain refiner blocks first for 1.0)
    def _embed(self) -> torch.Tensor:
        assert self.adaln is not None and self.freqs is not None  # the refiner's pre-hook ran
        ctx = self.context[:, :, 0].to(dtype=self.adaln.dtype)
        b, ch, h, w = ctx.shape
        tokens = ctx.view(b, ch, h // 2, 2, w // 2, 2).permute(0, 2, 4, 3, 5, 1).flatten(3).flatten(1, 2)
        embedder = self.net.control_all_x_embedder["2-1"]
        # Offloaded or FP8-stored ControlNets keep this layer where their plan put it.
        c = embedder(tokens.to(device=embedder.weight.device)).to(device=ctx.device)
        c = c.expand(self.adaln.shape[0], -1, -1)
        if not self.refiner_control:
            n = c.shape[1]
            for layer in self.net.control_noise_refiner:
                c = layer(c, None, self.freqs[:, :n], self.adaln)
        return c

    def _refiner_block(self, index: int, c: torch.Tensor) -> Pair:
        assert self.x_input is not None and self.freqs is not None and self.adaln is not None
        n = c.shape[1]
        x, freqs = self.x_input[:, :n], self.freqs[:, :n]
        if not self.refiner_control:
            return None, c
        if not self.broken:
            return _control_block(self.net.control_noise_refiner[index], c, x, freqs, self.adaln)
        layers = self.net.control_layers
        if index == 0:
            return _control_block(layers[0], c, x, freqs, self.adaln)
        out = None
        for layer in list(layers)[1:]:
            hint, c = _control_block(layer, c, x, freqs, self.adaln)
            out = hint if out is None else out
        return out, c

    def _start(self, index: int) -> None:
        if self.state is None or self.state[0] > index // self.div:
            self.state = (-3 if self._refining else -1, (None, self._embed()))

    def after_refiner(self, index: int, img: torch.Tensor) -> torch.Tensor:
        """ZImageControlPatch with block_type "noise_refiner": ``img`` is refiner block ``index``'s output."""
        if index / self.div > self.n_control - 1:
            self.state = None
            return img
        self._refining = True
        self._start(index)
        assert self.state is not None
        step, (_, c) = self.state
        hint, c = self._refiner_block(index, c)
        self.state = (step + 1, (hint, c))
        if hint is not None:
            img = img.clone()
            img[:, :hint.shape[1]] += hint * self.strength
        return img

    def after_layer(self, index: int, out: torch.Tensor) -> torch.Tensor:
        """ZImageControlPatch for main layer ``index``; ``out`` is diffusers' unified stream, image first."""
        cnet_index, cnet_float = index // self.div, index / self.div
        if cnet_float > self.n_control - 1:
            self.state = None
            return out
        self._refining = False
        self._start(index)
        assert self.state is not None and self.img_input is not None
        assert self.freqs is not None and self.adaln is not None
        while self.state[0] < cnet_index and self.state[0] + 1 < self.n_control:
            layer = self.state[0] + 1
            c = self.state[1][1]
            n = c.shape[1]
            self.state = (layer, _control_block(self.net.control_layers[layer], c, self.img_input[:, :n],
                                                self.freqs[:, :n], self.adaln))
        hint = self.state[1][0]
        if cnet_float == self.state[0] and hint is not None:
            out = out.clone()
            out[:, :hint.shape[1]] += hint * self.strength
            if self.n_control == self.state[0] + 1:
                self.state = None
        return out

    _refining = False


def hints_for(controlnet: Any, context: torch.Tensor, strength: float) -> ComfyHints:
    """ComfyUI's reading of the file behind ``controlnet`` (its diffusers config says which
    version it is: no refiner control for 1.0, "control_layers" for the zero-refiner 2.0)."""
    mode = controlnet.config.add_control_noise_refiner
    return ComfyHints(controlnet, context, strength, refiner_control=mode is not None, broken=mode == "control_layers")


@contextmanager
def comfy_control(transformer: Any, hints: ComfyHints, active: Callable[[], bool]) -> Iterator[None]:
    """Hooks on diffusers' transformer that apply ``hints`` on every call while ``active()``; the
    transformer's own computation is untouched when it is not (strength 0 is the plain picture)."""
    handles = []

    def refiner_in(module: Any, args: tuple) -> None:
        if active():
            hints.x_input, hints.freqs, hints.adaln = args[0], args[2], args[3]

    def layers_in(module: Any, args: tuple) -> None:
        if active():
            hints.img_input = args[0]

    def refiner_out(index: int) -> Callable:
        def hook(module: Any, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
            return hints.after_refiner(index, output) if active() else None
        return hook

    def layer_out(index: int) -> Callable:
        def hook(module: Any, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
            return hints.after_layer(index, output) if active() else None
        return hook

    handles.append(transformer.noise_refiner[0].register_forward_pre_hook(refiner_in))
    handles.append(transformer.layers[0].register_forward_pre_hook(layers_in))
    handles += [block.register_forward_hook(refiner_out(i)) for i, block in enumerate(transformer.noise_refiner)]
    handles += [block.register_forward_hook(layer_out(i)) for i, block in enumerate(transformer.layers)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
