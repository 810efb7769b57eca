"""Can the models folder generate yet, and if not, which parts are missing?

The window asks this to decide whether its main action is "Generate" or "Get models", and to
say what is missing in words a user can act on (the transformer, the text encoder, the VAE, the
configs) rather than the first error the loader meets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..engine import model_files as mf
from ..errors import UserFacingError
from ..model_folders import has_configs
from .store import KIND_FOLDER

# The parts a models folder needs, in the order the loader looks for them.
PARTS = ("transformer", "text_encoder", "vae", "configs")


@dataclass(frozen=True)
class Readiness:
    missing: tuple[str, ...] = ()  # of PARTS: nothing of that kind is in the folder
    problem: str = ""  # the loader's reason (a Message) when every part is there but one is wrong

    @property
    def usable(self) -> bool:
        return not self.missing and not self.problem


def check_models(models_dir: Path) -> Readiness:
    """Header reads only (no torch): cheap enough to ask after every download or import."""
    models_dir = Path(models_dir).expanduser()
    try:
        mf.resolve_model_set(models_dir)
        return Readiness()
    except UserFacingError as exc:
        problem = exc.message  # a catalog message: the window says it in its language
    if (models_dir / "model_index.json").is_file():  # a diffusers folder: the loader's reason is the answer
        return Readiness(problem=problem)
    missing = tuple(part for part in PARTS if not _has(models_dir, part))
    return Readiness(missing, "" if missing else problem)


def _has(models_dir: Path, part: str) -> bool:
    if part == "configs":  # the loader needs the tokenizer; the rest falls back to the shipped configs
        return has_configs(models_dir, mf.CONFIG_NAME)
    folder = models_dir / KIND_FOLDER[part]
    weights, _ = mf._weight_candidates(folder)
    return bool(weights) or (part == "text_encoder" and folder.is_dir() and any(p.is_dir() for p in folder.iterdir()))
