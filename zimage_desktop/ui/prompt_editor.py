"""The prompt box: multi-line, IME friendly, Ctrl+Enter to generate, Ctrl+Up/Down for history."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit

TOKEN_LIMIT = 512
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """Qwen's tokenizer gives about one token per CJK character and per ~4 bytes of other text;
    the chat template adds ~10. Good enough to warn before the exact count from the engine."""
    cjk = len(_CJK.findall(text))
    rest = len(_CJK.sub("", text).encode("utf-8"))
    return cjk + (rest + 3) // 4 + 10 if text.strip() else 0


class PromptEdit(QPlainTextEdit):
    submitted = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("promptEdit")
        self.setTabChangesFocus(True)
        self.history: list[str] = []
        self._history_pos = 0
        self._draft = ""

    def remember(self, prompt: str) -> None:
        if prompt.strip():
            if prompt in self.history:
                self.history.remove(prompt)
            self.history.append(prompt)
            del self.history[:-50]
        self._history_pos = len(self.history)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit()
            return
        if ctrl and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.history:
            self._step_history(-1 if event.key() == Qt.Key.Key_Up else 1)
            return
        super().keyPressEvent(event)

    def _step_history(self, delta: int) -> None:
        if self._history_pos == len(self.history):
            self._draft = self.toPlainText()
        self._history_pos = max(0, min(len(self.history), self._history_pos + delta))
        text = self.history[self._history_pos] if self._history_pos < len(self.history) else self._draft
        self.setPlainText(text)
        self.moveCursor(self.textCursor().MoveOperation.End)
