"""Tiny random ControlNet Union files in each published version's layout (1.0, 2.0, 2.1).

Written the way alibaba-pai publishes them: one safetensors file of diffusers-named
``ZImageControlNetModel`` tensors in bf16, with the two ``control_noise_refiner`` blocks as plain
transformer blocks (1.0) or as control blocks (2.x: all zero in 2.0, trained in 2.1), and 15
control layers with a 33-channel input for 2.x. Sized for devkit/tiny.py's transformer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import torch

from .tiny import TRANSFORMER_CONFIG

LAYOUTS: dict[str, dict[str, Any]] = {
    "1.0": dict(n_control=6, control_in_dim=16, refiner=None),
    "2.0": dict(n_control=15, control_in_dim=33, refiner="control_noise_refiner"),
    "2.1": dict(n_control=15, control_in_dim=33, refiner="control_noise_refiner"),
}
FILE_NAMES = {
    "1.0": "Z-Image-Turbo-Fun-Controlnet-Union.safetensors",
    "2.0": "Z-Image-Turbo-Fun-Controlnet-Union-2.0.safetensors",
    "2.1": "Z-Image-Turbo-Fun-Controlnet-Union-2.1.safetensors",
}


def build_tiny_controlnet(version: str, seed: int = 0, transformer: dict | None = None):
    from diffusers import ZImageControlNetModel

    layout = LAYOUTS[version]
    config = {**TRANSFORMER_CONFIG, **(transformer or {})}
    step = round(30 / layout["n_control"])
    torch.manual_seed(seed)
    model = cast(torch.nn.Module, ZImageControlNetModel(
        control_layers_places=[i * step for i in range(layout["n_control"])],
        control_refiner_layers_places=[0, 1] if layout["refiner"] else None,
        control_in_dim=layout["control_in_dim"], add_control_noise_refiner=layout["refiner"],
        dim=config["dim"], n_refiner_layers=2, n_heads=config["n_heads"], n_kv_heads=config["n_kv_heads"],
    ))
    with torch.no_grad():
        # The projections start at zero (zero_module) in the class, as before training; a trained
        # file has weights there, without which the control would do nothing.
        for name, p in model.named_parameters():
            if "before_proj" in name or "after_proj" in name:
                p.normal_(0, 0.2)
        if version == "2.0":
            for p in model.get_submodule("control_noise_refiner").parameters():
                p.zero_()
    return model.eval()


def write_tiny_controlnet(models_dir: Path, version: str, seed: int = 0, name: str | None = None,
                          transformer: dict | None = None) -> Path:
    """models_dir/model_patches/<published file name> for this version; returns its path.
    ``transformer`` overrides the tiny transformer's sizes (dim, n_heads) it must match."""
    from safetensors.torch import save_file

    folder = Path(models_dir) / "model_patches"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or FILE_NAMES[version])
    state = build_tiny_controlnet(version, seed, transformer).state_dict()
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in state.items()}, path)
    return path
