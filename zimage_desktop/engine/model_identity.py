"""Which files a loaded model is made of: their roles, the text encoder's identity for the prompt
cache, and their sha256 — hashed on a background thread, never before the first image."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..models.hashing import HashCache
from .model_files import ModelSet

log = logging.getLogger(__name__)


class BackgroundHasher:
    """Hashes files into a HashCache on one daemon thread; ``start`` while it runs does nothing."""

    def __init__(self, cache: HashCache) -> None:
        self.cache = cache
        self.thread: threading.Thread | None = None

    def start(self, paths: list[Path]) -> None:
        if self.thread is not None and self.thread.is_alive():
            return

        def work() -> None:
            for path in paths:
                try:
                    self.cache.sha256(path)
                except OSError as exc:  # a file moved away: the next model_info tries again
                    log.warning("could not hash %s: %s", path, exc)

        self.thread = threading.Thread(target=work, name="model-hashing", daemon=True)
        self.thread.start()


def file_roles(model_set: ModelSet) -> dict[str, str]:
    """The single files' names by role; a diffusers folder or a sharded text encoder has none."""
    files = {"transformer": model_set.transformer, "text_encoder": model_set.text_encoder, "vae": model_set.vae}
    return {role: p.name for role, p in files.items()
            if model_set.form != "diffusers" and p is not None and p.is_file()}


def encoder_id(model_set: ModelSet) -> str:
    if model_set.form == "diffusers" and model_set.pipeline_dir is not None:
        files = sorted((model_set.pipeline_dir / "text_encoder").glob("*.safetensors"))
    else:
        assert model_set.text_encoder is not None
        te = model_set.text_encoder
        files = sorted(te.glob("*.safetensors")) if te.is_dir() else [te]
    return "|".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
