"""One image of the history as read back (HistoryRecord), and the seed as SQLite stores it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.request import GenerationRequest


def sql_seed(seed: int) -> int:
    """The seed as SQLite stores it: a signed 64-bit integer, so seeds from 2^63 on are kept as
    their two's complement (lossless; the request JSON holds the seed itself and is what is read)."""
    return seed - 2**64 if seed >= 2**63 else seed


@dataclass(frozen=True)
class HistoryRecord:
    id: int
    created: float
    request: GenerationRequest
    model: dict[str, Any]
    timings: dict[str, float]
    path: str
    thumb_path: str
    favourite: bool
    tags: tuple[str, ...]
    parent_id: int | None

    @property
    def prompt(self) -> str:
        return self.request.prompt

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {"id": self.id, "created": self.created, "prompt": r.prompt, "seed": r.seed, "width": r.width,
                "height": r.height, "steps": r.steps, "path": self.path, "thumb_path": self.thumb_path,
                "favourite": self.favourite, "tags": list(self.tags), "parent_id": self.parent_id,
                "model": self.model, "timings": self.timings, "request": r.to_dict()}
