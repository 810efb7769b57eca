"""What a run reports: each step's progress (StepEvent), each finished image (GeneratedImage) and
the whole request's images (GenerationResult)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .request import GenerationRequest


@dataclass(frozen=True)
class StepEvent:
    """Progress of one denoising step; ``preview`` is an RGB uint8 array (H/8, W/8, 3) or None."""

    image_index: int
    image_count: int
    step: int  # 1-based
    total_steps: int
    seed: int
    elapsed_s: float
    eta_s: float
    preview: Any = None


@dataclass(frozen=True)
class GeneratedImage:
    """One finished image (a PIL image) and how it was made."""

    request: GenerationRequest  # single-image request: count 1, this image's seed
    image: Any
    timings: dict[str, float]
    model: dict[str, Any]
    notes: tuple[str, ...] = ()  # e.g. a retry in float32 after an overflow
    # The preprocessed control image of each of request.controls (PIL), kept with the history.
    control_images: tuple[Any, ...] = ()

    @property
    def seed(self) -> int:
        return self.request.seed


@dataclass(frozen=True)
class GenerationResult:
    request: GenerationRequest
    images: tuple[GeneratedImage, ...]
    cancelled: bool = False
