"""A restart picks up where the user left off: the prompt that was in the box when the window closed
(generated or not), and the newest image of the history on the canvas.

The prompt is kept in ``<data>/session.json`` (beside the window layout, apart from the settings a
user edits); the image is read off the GUI thread, so a large file never delays the window.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..engine.request import MAX_PROMPT_CHARS
from ..fsutil import atomic_open
from .background_read import read_in_background


def load_prompt(path: Path) -> str:
    """The prompt saved at the last close; "" when there is none or the file is damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    prompt = data.get("prompt") if isinstance(data, dict) else None
    return prompt[:MAX_PROMPT_CHARS] if isinstance(prompt, str) else ""


def save_prompt(path: Path, prompt: str) -> None:
    with contextlib.suppress(OSError):  # an unwritable data folder costs the prompt, nothing else
        with atomic_open(Path(path), "w", encoding="utf-8") as fh:
            json.dump({"prompt": prompt}, fh, ensure_ascii=False)


def _read_image(path: str) -> QImage | None:
    image = QImage(path)
    return None if image.isNull() else image


class LastSession(QObject):
    image_read = Signal(str, object)  # (path, QImage or None), on the GUI thread

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)

    def prompt(self) -> str:
        return load_prompt(self.path)

    def save(self, prompt: str) -> None:
        save_prompt(self.path, prompt)

    def read_image(self, image_path: str) -> None:
        """Read the image on a thread; ``image_read`` brings it back (None: gone or not a picture)."""
        read_in_background("read-last-image", image_path, _read_image, self.image_read)
