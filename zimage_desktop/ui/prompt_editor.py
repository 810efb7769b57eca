"""The prompt box: multi-line, IME friendly, Ctrl+Enter to generate, Ctrl+Up/Down for history."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit

from ..engine.tokens import TOKEN_LIMIT, estimate_tokens  # noqa: F401  (re-exported for the window)

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
