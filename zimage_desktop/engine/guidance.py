"""Classifier-free guidance: the request's negative prompt and CFG scale, and what a model does
with them.

The CFG scale is counted as ComfyUI's KSampler and A1111 count it: 1 means no guidance, and the
prediction is ``neg + cfg * (pos - neg)``. diffusers' ZImagePipeline counts from 0
(``pos + g * (pos - neg)``), so its ``guidance_scale`` is ``cfg - 1``. A guidance-distilled model
(Z-Image-Turbo, ``Architecture.uses_cfg`` false) samples without guidance whatever the request
says; the negative prompt is kept with the image but has no effect, and the run says so once.
No torch import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..messages import msg
from .architectures import Architecture

if TYPE_CHECKING:
    from .prompts import PromptEncoder
    from .request import GenerationRequest

MAX_CFG = 30.0  # A1111's slider ends here; ComfyUI allows more, no Z-Image picture needs it
# A1111's slider starts here. Below 1 ComfyUI still mixes (neg + cfg·(pos − neg)) where diffusers' ZImagePipeline
# samples without guidance (guidance_scale = cfg − 1 ≤ 0): such a picture could not be made again in ComfyUI.
MIN_CFG = 1.0
MAX_NEGATIVE_CHARS = 4096  # as the prompt: the text encoder reads at most 512 tokens


def problems(negative_prompt: Any, cfg: Any) -> list[str]:
    """The request's guidance fields as sentences for the user (empty when fine)."""
    out: list[str] = []
    if not isinstance(negative_prompt, str) or len(negative_prompt) > MAX_NEGATIVE_CHARS:
        out.append(msg("guidance.negative_too_long", "The negative prompt must be a text of at most {limit} "
                       "characters.", limit=MAX_NEGATIVE_CHARS))
    else:
        try:
            negative_prompt.encode("utf-8")
        except UnicodeEncodeError:
            out.append(msg("guidance.negative_not_utf8", "The negative prompt contains bytes that are not valid UTF-8 "
                           "text; retype it or save it as UTF-8."))
    if cfg is not None and (not isinstance(cfg, (int, float)) or isinstance(cfg, bool) or not math.isfinite(cfg)
                            or not MIN_CFG <= cfg <= MAX_CFG):
        out.append(msg("guidance.cfg_range", "The CFG scale must be a number from 1 to {limit} (1 means no guidance); "
                       "got {value!r}.", limit=MAX_CFG, value=cfg))
    return out


def effective_cfg(arch: Architecture, request: "GenerationRequest") -> float:
    """The CFG scale this model samples with: the request's (or the model's default) for a model
    with guidance, always 1 for a guidance-distilled one."""
    if not arch.uses_cfg:
        return 1.0
    return float(arch.default_cfg if request.cfg is None else request.cfg)


def recorded(request: "GenerationRequest", model: dict[str, Any]) -> tuple[float, str]:
    """(CFG scale, negative prompt) an image was really sampled with, for the metadata other tools
    read (A1111 text, the ComfyUI graph): Turbo's images say CFG 1 and no negative, whatever the
    request held (our own JSON keeps the request as given). ``model`` is the image's model record."""
    from .architectures import ARCHITECTURES, DEFAULT

    arch = ARCHITECTURES.get(str(model.get("arch")), DEFAULT)
    cfg = effective_cfg(arch, request)
    return cfg, request.negative_prompt if cfg > 1.0 else ""


def diffusers_guidance_scale(cfg: float) -> float:
    """ZImagePipeline's ``guidance_scale`` for a ComfyUI/A1111 CFG scale (0: no negative branch)."""
    return max(0.0, cfg - 1.0)


def uses_negative_branch(arch: Architecture, request: "GenerationRequest") -> bool:
    """True when each step runs the transformer twice (positive and negative): the planner counts
    twice the denoising activations then."""
    return effective_cfg(arch, request) > 1.0


def resolved(arch: Architecture, request: "GenerationRequest") -> "GenerationRequest":
    """The request as the image was made: the model's default CFG filled in (Turbo's 1), so the
    image's metadata says the CFG it used; a CFG the user gave Turbo is kept as given."""
    if request.cfg is None:
        return replace(request, cfg=arch.default_cfg)
    return request


def ignored_note(arch: Architecture, request: "GenerationRequest") -> str | None:
    """One sentence when the request asks for guidance the model does not use."""
    if arch.uses_cfg:
        return None
    if request.negative_prompt.strip() or (request.cfg is not None and request.cfg != 1.0):
        return msg("guidance.ignored_by_model", "{model} samples without guidance: the negative prompt and CFG scale "
                   "are kept with the image but have no effect.", model=arch.title)
    return None


@dataclass(frozen=True)
class GuidedPrompts:
    """A request's prompts encoded for sampling: ``negative`` only where the model uses guidance
    (``scale`` > 0, ZImagePipeline's ``guidance_scale``); ``request`` has the CFG it was made with."""

    embeds: Any
    negative: Any
    scale: float
    note: str | None
    request: "GenerationRequest"


def encode_prompts(prompts: "PromptEncoder", arch: Architecture, request: "GenerationRequest", device: Any,
                   dtype: Any, first: bool) -> GuidedPrompts:
    """The positive (and, for a model with guidance, the negative) prompt's embeddings on ``device``;
    Turbo samples exactly as without the guidance fields. ``first``: the run's first image, which
    carries the note that the model ignores them."""
    from .loras import prompt_tags

    # A1111's <lora:name:0.8> tags are instructions, not words the model should read.
    embeds = prompts.encode(prompt_tags(request.prompt)[0]).to(device=device, dtype=dtype)
    scale = diffusers_guidance_scale(effective_cfg(arch, request))
    negative = (prompts.encode(prompt_tags(request.negative_prompt)[0]).to(device=device, dtype=dtype)
                if scale > 0 else None)
    note = ignored_note(arch, request) if first else None
    return GuidedPrompts(embeds, negative, scale, note, resolved(arch, request))
