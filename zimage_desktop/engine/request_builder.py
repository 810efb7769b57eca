"""One place that turns what the user chose into a GenerationRequest.

The prompt tab, the poster panel, "Re-run exactly" and "Vary" all build their requests here, so
each carries the memory profile chosen in Settings (a poster job once ignored it and reloaded
the model) and a drawn seed comes from one function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .request import DEFAULT_SAMPLER, DEFAULT_SCHEDULER, ControlRef, GenerationRequest, random_seed


@dataclass(frozen=True)
class RequestBuilder:
    profile: str = "auto"  # the memory profile chosen in Settings

    def new(self, prompt: str, *, width: int, height: int, steps: int = 8, seed: int | None = None,
            count: int = 1, sampler: str = DEFAULT_SAMPLER, scheduler: str = DEFAULT_SCHEDULER,
            extra: dict[str, Any] | None = None, original_prompt: str = "",
            controls: tuple[ControlRef, ...] = ()) -> GenerationRequest:
        """A request for new images; ``seed`` None draws one. ``original_prompt``: the user's own
        words when ``prompt`` is the prompt enhancer's rewrite of them."""
        return GenerationRequest(prompt=prompt.strip(), width=width, height=height, steps=steps,
                                 seed=random_seed() if seed is None else seed, count=count,
                                 profile=self.profile, sampler=sampler, scheduler=scheduler,
                                 extra=dict(extra or {}), original_prompt=original_prompt.strip(), controls=controls)

    def rerun(self, request: GenerationRequest, vary: bool = False) -> GenerationRequest:
        """The same image again (same seed and files), or with ``vary`` a new seed; on this
        machine's current profile, which changes how it is loaded, not what it makes."""
        again = replace(request, profile=self.profile)
        return again.for_seed(random_seed()) if vary else again
