"""A label that keeps *how* to say its text, so a live language switch says it again."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel

from ..messages import render
from .translations import current_language

Saying = Callable[[], str]


def in_ui_language(text: object) -> str:
    """An engine message (or an error carrying one) in the UI language; other text as it is."""
    return render(text, current_language())


class StatusLine(QLabel):
    """``say`` takes a function that builds the text from ``tr(...)`` and parameters, or an engine
    message; either is rendered again on ``QEvent.LanguageChange``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._saying: Saying | None = None

    def say(self, text: Saying | object) -> None:
        self._saying = text if callable(text) else (lambda: in_ui_language(text))
        self.setText(self._saying())

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange and self._saying is not None:
            self.setText(self._saying())
        super().changeEvent(event)
