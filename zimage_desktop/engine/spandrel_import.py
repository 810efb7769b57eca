"""Importing spandrel (the upscale-model loader ComfyUI uses) where torchvision is missing or broken.

spandrel imports ``torchvision.transforms.functional`` at import time for two of its ~40
architectures only: LaMa (``InterpolationMode``, ``rotate``) and RestoreFormer (``normalize``);
every upscaler we run (ESRGAN, Real-ESRGAN, SwinIR, DAT, …) needs none of it. PyPI's torchvision
wheel is a CUDA build whose ``_C`` extension needs ``libtorch_cuda.so``, so beside a CPU torch its
import raises, and with it ``import spandrel``. Here, and only when a real torchvision cannot be
imported, spandrel is imported with a stand-in module holding exactly those three names; the
stand-in is taken out of ``sys.modules`` right after, so nothing else ever sees it, and a working
torchvision is always the one used. In the stand-in, ``normalize`` is the real formula and
``rotate`` (LaMa's inpainting only) raises a clear error.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

import torch

STAND_IN_NAMES = ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")


class InterpolationMode(enum.Enum):
    """torchvision's enum, the members LaMa names."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def normalize(tensor: torch.Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> torch.Tensor:
    """``(tensor - mean) / std`` per channel, as torchvision's ``normalize`` computes it."""
    shape = (-1, 1, 1)
    mean_t = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device).view(shape)
    std_t = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device).view(shape)
    return tensor.sub_(mean_t).div_(std_t) if inplace else (tensor - mean_t) / std_t


def rotate(*_args: object, **_kwargs: object) -> torch.Tensor:
    raise RuntimeError("This model (LaMa) needs torchvision, which is not installed or does not load "
                       "beside this torch build.")


def torchvision_works() -> bool:
    """Whether the real ``torchvision.transforms.functional`` imports (any failure counts: a CUDA
    wheel beside CPU torch raises RuntimeError or OSError, not ImportError)."""
    before = set(sys.modules)
    try:
        importlib.import_module("torchvision.transforms.functional")
        return True
    except Exception:
        for name in set(sys.modules) - before:  # half-imported submodules of the broken package
            if name == "torchvision" or name.startswith("torchvision."):
                del sys.modules[name]
        return False


@contextmanager
def _stand_in() -> Iterator[None]:
    functional = ModuleType("torchvision.transforms.functional")
    functional.InterpolationMode = InterpolationMode  # type: ignore[attr-defined]
    functional.normalize = normalize  # type: ignore[attr-defined]
    functional.rotate = rotate  # type: ignore[attr-defined]
    transforms = ModuleType("torchvision.transforms")
    transforms.functional = functional  # type: ignore[attr-defined]
    package = ModuleType("torchvision")
    package.transforms = transforms  # type: ignore[attr-defined]
    package.__path__ = []  # a package, so "import torchvision.x" of other names fails cleanly
    modules = dict(zip(STAND_IN_NAMES, (package, transforms, functional)))
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in modules.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def import_spandrel() -> ModuleType:
    """The spandrel module; ImportError when it is not installed."""
    if "spandrel" in sys.modules:
        return sys.modules["spandrel"]
    if importlib.util.find_spec("spandrel") is None:
        raise ImportError("spandrel is not installed")
    if torchvision_works():
        return importlib.import_module("spandrel")
    with _stand_in():
        return importlib.import_module("spandrel")
