"""One place that turns what the user chose into a GenerationRequest.

The prompt tab, the poster panel, "Re-run exactly" and "Vary" all build their requests here, so
each carries the memory profile chosen in Settings (a poster job once ignored it and reloaded
the model) and a drawn seed comes from one function. The edit panel and the CLI build their
image-to-image, inpaint, outpaint and upscale requests here too: sizes follow the source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .request import DEFAULT_SAMPLER, DEFAULT_SCHEDULER, DEFAULT_STEPS, ControlRef, GenerationRequest, LoraRef, random_seed

# diffusers' default for image-to-image; inpaint and outpaint redraw their area from noise.
IMG2IMG_STRENGTH = 0.6
UPSCALE_STRENGTH = 0.3


def _source_size(source: str | Path) -> tuple[int, int]:
    from .editing import load_source_image

    image, _ = load_source_image(source)
    return image.size


@dataclass(frozen=True)
class RequestBuilder:
    profile: str = "auto"  # the memory profile chosen in Settings

    def new(self, prompt: str, *, width: int, height: int, steps: int = DEFAULT_STEPS, seed: int | None = None,
            count: int = 1, sampler: str = DEFAULT_SAMPLER, scheduler: str = DEFAULT_SCHEDULER,
            extra: dict[str, Any] | None = None, original_prompt: str = "",
            loras: tuple[LoraRef, ...] = (), controls: tuple[ControlRef, ...] = (),
            **edit: Any) -> GenerationRequest:
        """A request for new images; ``seed`` None draws one. ``original_prompt``: the user's own
        words when ``prompt`` is the prompt enhancer's rewrite of them. ``edit``: the editing
        fields (mode, source, strength …) as the methods below fill them."""
        return GenerationRequest(prompt=prompt.strip(), width=width, height=height, steps=steps,
                                 seed=random_seed() if seed is None else seed, count=count,
                                 profile=self.profile, sampler=sampler, scheduler=scheduler,
                                 extra=dict(extra or {}), original_prompt=original_prompt.strip(),
                                 loras=tuple(loras), controls=controls, **edit)

    def rerun(self, request: GenerationRequest, vary: bool = False) -> GenerationRequest:
        """The same image again (same seed and files), or with ``vary`` a new seed; on this
        machine's current profile, which changes how it is loaded, not what it makes."""
        again = replace(request, profile=self.profile)
        return again.for_seed(random_seed()) if vary else again

    def img2img(self, prompt: str, source: str | Path, *, strength: float = IMG2IMG_STRENGTH,
                size: tuple[int, int] | None = None, source_entry: int | None = None,
                **options: Any) -> GenerationRequest:
        """Image-to-image: the result has ``size`` (default: the source's, fitted to the bounds)."""
        from .editing import fit_size

        width, height = size or fit_size(*_source_size(source))
        return self.new(prompt, width=width, height=height, mode="img2img", source=str(source),
                        strength=strength, source_entry=source_entry, **options)

    def inpaint(self, prompt: str, source: str | Path, mask: str | Path, *, strength: float = 1.0,
                mask_blur: int = 8, only_masked: bool = False, padding: int = 32,
                source_entry: int | None = None, **options: Any) -> GenerationRequest:
        """Inpaint: the result keeps the source's size; the model works at the source's size fitted
        to the bounds (or, with ``only_masked``, at about 1024² around the mask)."""
        from .editing import fit_size

        width, height = fit_size(*_source_size(source))
        return self.new(prompt, width=width, height=height, mode="inpaint", source=str(source), mask=str(mask),
                        strength=strength, mask_blur=mask_blur, only_masked=only_masked,
                        only_masked_padding=padding, source_entry=source_entry, **options)

    def outpaint(self, prompt: str, source: str | Path, *, sides: tuple[int, int, int, int] | None = None,
                 target: tuple[int, int] | None = None, strength: float = 1.0, mask_blur: int = 8,
                 source_entry: int | None = None, **options: Any) -> GenerationRequest:
        """Outpaint by ``sides`` (left, top, right, bottom pixels) or to a ``target`` format."""
        from .editing import outpaint_geometry

        geometry = outpaint_geometry(_source_size(source), sides, target)
        return self.new(prompt, width=geometry.size[0], height=geometry.size[1], mode="outpaint",
                        source=str(source), outpaint=geometry.sides, strength=strength, mask_blur=mask_blur,
                        source_entry=source_entry, **options)

    def upscale(self, prompt: str, source: str | Path, *, scale: float = 2.0, strength: float = UPSCALE_STRENGTH,
                target: tuple[int, int] | None = None, source_entry: int | None = None,
                **options: Any) -> GenerationRequest:
        """Upscale by ``scale`` (or to ``target``), then a low-strength image-to-image pass."""
        from .editing import fit_size

        src_w, src_h = _source_size(source)
        width, height = target or fit_size(src_w * scale, src_h * scale)
        return self.new(prompt, width=width, height=height, mode="upscale", source=str(source), upscale=scale,
                        strength=strength, source_entry=source_entry, **options)
