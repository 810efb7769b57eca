"""Z-Image-Turbo-Fun-Controlnet-Union files: finding them in ``model_patches/`` and telling the
versions apart from their tensors, with no torch import for the header checks.

The published files (alibaba-pai, Apache-2.0) hold diffusers-named tensors of
``ZImageControlNetModel`` (``control_layers.N.attention.to_q.weight`` …). What tells them apart —
the same tests as ComfyUI's ``ModelPatchLoader`` and diffusers' ``infer_diffusers_model_type``:

- 1.0: ``control_all_x_embedder.2-1.weight`` and 6 control layers (no layer 14); the control
  image's latent alone (16 channels); the two ``control_noise_refiner`` blocks are plain
  transformer blocks.
- 2.0 / 2.1: 15 control layers (``control_layers.14``), 33 input channels (control latent, a mask
  channel and an inpaint latent), and ``control_noise_refiner`` blocks that are control blocks. In
  2.0 those were published untrained (all zero: ComfyUI calls it "broken", diffusers maps it to
  ``add_control_noise_refiner="control_layers"``); 2.1 trained them. Telling 2.0 from 2.1 needs
  one tensor's values, read lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelFilesError
from ..messages import msg
from ..model_folders import CONTROLNETS
from .tensor_index import TensorIndex, read_index

CONTROLNET_DIR = CONTROLNETS
SIGNATURE = "control_all_x_embedder.2-1.weight"
VERSIONS = ("1.0", "2.0", "2.1")
# ComfyUI spreads the control layers over the 30 transformer layers: every round(30 / n)-th one.
MAIN_LAYERS = 30
REFINER_KEY = "control_noise_refiner.0.after_proj.weight"


@dataclass(frozen=True)
class ControlNetFile:
    path: Path
    version: str
    dim: int
    control_in_dim: int
    n_control_layers: int
    n_refiner_layers: int

    @property
    def inpaints(self) -> bool:
        """2.x files take a mask and an inpaint latent beside the control latent."""
        return self.control_in_dim > 16

    def diffusers_config(self, n_heads: int) -> dict:
        """The ZImageControlNetModel configuration of this file (as hlky's published configs)."""
        step = round(MAIN_LAYERS / self.n_control_layers)
        mode = {"1.0": None, "2.0": "control_layers", "2.1": "control_noise_refiner"}[self.version]
        return dict(
            control_layers_places=[i * step for i in range(self.n_control_layers)],
            control_refiner_layers_places=None if mode is None else list(range(self.n_refiner_layers)),
            control_in_dim=self.control_in_dim,
            add_control_noise_refiner=mode,
            all_patch_size=[2], all_f_patch_size=[1], dim=self.dim, n_refiner_layers=self.n_refiner_layers,
            n_heads=n_heads, n_kv_heads=n_heads, norm_eps=1e-5, qk_norm=True,
        )


def is_controlnet(index: TensorIndex) -> bool:
    return SIGNATURE in index.shapes


def _layer_count(index: TensorIndex, prefix: str) -> int:
    return len({k.split(".")[1] for k in index.shapes if k.startswith(prefix)})


def identify(path: Path, index: TensorIndex | None = None) -> ControlNetFile:
    """Which ControlNet Union version a file is; ModelFilesError when it is not one."""
    index = index or read_index(path)
    if index.format != "safetensors" or not is_controlnet(index):
        raise ModelFilesError(msg("controlnet.not_union", "{name} is not a Z-Image ControlNet Union file (model_patches/ "
                                  "holds Z-Image-Turbo-Fun-Controlnet-Union).", name=path.name))
    dim, in_features = index.shapes[SIGNATURE][:2]
    n_control = _layer_count(index, "control_layers.")
    n_refiner = _layer_count(index, "control_noise_refiner.")
    if n_control >= 15:
        version = "2.1" if _trained(path, index) else "2.0"
    else:
        version = "1.0"
    return ControlNetFile(path, version, int(dim), int(in_features) // 4, n_control, n_refiner or 2)


def _trained(path: Path, index: TensorIndex) -> bool:
    """True when the refiner control blocks carry weights (2.1); 2.0 published them as zeros."""
    if REFINER_KEY not in index.shapes:
        return False
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return bool(f.get_tensor(REFINER_KEY).count_nonzero().item())


def find_controlnets(models_dir: Path) -> list[ControlNetFile]:
    """Every ControlNet Union file in ``models_dir/model_patches`` (others there are skipped)."""
    folder = Path(models_dir) / CONTROLNET_DIR
    found = []
    for path in sorted(folder.glob("*.safetensors")) if folder.is_dir() else []:
        try:
            found.append(identify(path))
        except (ModelFilesError, OSError, ValueError):
            continue
    return found


def pick_controlnet(models_dir: Path, inpaint: bool = False) -> ControlNetFile:
    """The newest installed version (2.1 over 2.0 over 1.0); one sentence when there is none."""
    found = [f for f in find_controlnets(models_dir) if f.inpaints or not inpaint]
    if not found:
        raise ModelFilesError(msg("controlnet.missing", "No Z-Image ControlNet Union file is installed: download it in "
                                  "the model manager, or put Z-Image-Turbo-Fun-Controlnet-Union*.safetensors into "
                                  "{folder}.", folder=Path(models_dir) / CONTROLNET_DIR))
    return max(found, key=lambda f: (VERSIONS.index(f.version), f.path.name))
