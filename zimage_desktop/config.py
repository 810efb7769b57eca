"""Where user data lives, and the typed settings stored there.

Everything the app writes goes under one data folder: ``--data-dir``, else the environment
variable ``ZIMAGE_DESKTOP_DATA``, else the platform's user data folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from . import APP_NAME
from .fsutil import atomic_open

DATA_ENV = "ZIMAGE_DESKTOP_DATA"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Paths:
    data: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike | None = None) -> "Paths":
        chosen = data_dir or os.environ.get(DATA_ENV) or default_data_dir()
        return cls(Path(chosen).expanduser().resolve())

    @property
    def default_models(self) -> Path:
        return self.data / "models"

    @property
    def images(self) -> Path:
        return self.data / "images"

    @property
    def thumbnails(self) -> Path:
        return self.data / "thumbnails"

    @property
    def history_db(self) -> Path:
        return self.data / "history.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.data / "settings.json"

    @property
    def window_state(self) -> Path:
        return self.data / "window-state.json"

    @property
    def session(self) -> Path:
        """What the window had in hand when it closed (the prompt), restored on the next start."""
        return self.data / "session.json"

    @property
    def logs(self) -> Path:
        """The windowed app's rotating log (app_log.py), opened from Help → Open log folder."""
        return self.data / "logs"

    @property
    def hash_cache(self) -> Path:
        return self.data / "cache" / "hashes.json"


def _choices() -> dict[str, tuple[str, ...]]:
    from .engine.planner import PROFILE_NAMES  # pure: no torch

    return {"device": ("auto", "cuda", "mps", "cpu", *(f"cuda:{i}" for i in range(16))), "profile": PROFILE_NAMES,
            "language": ("system", "zh_CN", "en"), "download_source": ("auto", "hf", "mirror", "modelscope"),
            "theme": ("system", "light", "dark")}


# The values a hand-edited or older settings file may hold for the enumerated settings; anything
# else falls back to the default instead of reaching the engine.
CHOICES = _choices()


@dataclass(frozen=True)
class Settings:
    """User choices; unknown keys in the file are ignored, bad values fall back to defaults."""

    models_dir: str = ""  # empty: <data dir>/models
    device: str = "auto"
    profile: str = "auto"
    previews: bool = True
    language: str = "system"  # "system" | "zh_CN" | "en"
    # "auto": the source that answers fastest (the language/region a hint) | "hf" | "mirror" | "modelscope"
    download_source: str = "auto"
    hf_mirror: str = "https://hf-mirror.com"
    # Off: the Hugging Face token goes to huggingface.co only. On: also to the mirror above (HTTPS only).
    hf_token_to_mirror: bool = False
    theme: str = "system"  # "system" | "light" | "dark"
    # On the CPU, a GGUF transformer's layers as int8 × int8 products (engine/gguf_int8.py): 2-3×
    # faster steps, a slightly different picture, more RAM; as `generate --cpu-int8`. x86 only.
    cpu_int8: bool = False

    @classmethod
    def load(cls, paths: Paths) -> "Settings":
        try:
            data = json.loads(paths.settings_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        defaults = cls()
        values = {}
        for f in fields(cls):
            default = getattr(defaults, f.name)
            value = data.get(f.name, default)
            ok = isinstance(value, type(default)) and (f.name not in CHOICES or value in CHOICES[f.name])
            values[f.name] = value if ok else default
        return cls(**values)

    def save(self, paths: Paths) -> None:
        with atomic_open(paths.settings_file, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh, indent=2, ensure_ascii=False)

    @property
    def shown_language(self) -> str:
        """The language messages are shown in: "zh_CN" or "en", with "system" followed (CLI; the
        window passes Qt's view of the system to the same ``resolve_language``)."""
        from .messages import resolve_language

        return resolve_language(self.language)

    def models_path(self, paths: Paths) -> Path:
        return Path(self.models_dir).expanduser() if self.models_dir else paths.default_models
