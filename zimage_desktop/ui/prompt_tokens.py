"""A prompt's token count, live (the prompt tab and the poster panel): exact with the tokenizer of the models folder, estimated
until it is loaded or when there is none."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from ..engine.token_counter import TokenCounter, find_tokenizer_file
from ..engine.tokens import TOKEN_LIMIT, estimate_tokens

TEMPLATE_ESTIMATE = 10  # estimate_tokens' allowance for the chat template


class PromptTokens(QObject):
    changed = Signal()  # the exact counter arrived or went away: count again
    _loaded = Signal(object, object)  # (file key, TokenCounter | None), from the loading thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models_dir: Callable[[], Path | None] = lambda: None  # the window's current models folder
        self.counter: TokenCounter | None = None
        self.limit = TOKEN_LIMIT  # the loaded model's limit once it is known (set_limit)
        self._key: tuple[str, int] | None = None  # the tokenizer file loaded or loading
        self._loaded.connect(self._on_loaded)

    def refresh(self) -> None:
        """Load the models folder's tokenizer when it is new or changed: a stat here, the reading
        (a fraction of a second for Qwen's 11 MB file) in a thread, so the tab opens at once."""
        folder = self.models_dir()
        path = find_tokenizer_file(folder) if folder is not None else None
        try:
            key = (str(path), path.stat().st_mtime_ns) if path is not None else None
        except OSError:
            key = None
        if key == self._key:
            return
        self._key = key
        if path is None:
            self.counter = None
            self.changed.emit()
            return

        def load() -> None:
            counter = TokenCounter.from_file(path)
            try:
                self._loaded.emit(key, counter)
            except RuntimeError:  # the panel was closed meanwhile
                pass

        threading.Thread(target=load, name="prompt-tokenizer", daemon=True).start()

    def _on_loaded(self, key: tuple[str, int], counter: TokenCounter | None) -> None:
        if key == self._key:  # not a stale load of a folder that changed since
            self.counter = counter
            self.changed.emit()

    def set_limit(self, limit: int) -> None:
        """The loaded text encoder's limit: what the engine will refuse, said before it has to."""
        if limit > 0 and limit != self.limit:
            self.limit = limit
            self.changed.emit()

    def typed(self, text: str) -> tuple[int, int, bool]:
        """(tokens of what the user typed, tokens the limit leaves for them, exact): the chat
        template's own tokens (about 17) count against the limit but are not the user's."""
        template = self.counter.count("") if self.counter is not None else TEMPLATE_ESTIMATE
        room = self.limit - template
        if not text.strip():
            return 0, room, self.counter is not None
        total, exact = self.count(text)
        return max(total - template, 0), room, exact

    def count(self, text: str) -> tuple[int, bool]:
        """(tokens, exact)."""
        if self.counter is not None:
            return self.counter.count(text), True
        return estimate_tokens(text), False
