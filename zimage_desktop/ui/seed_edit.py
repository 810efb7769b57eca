"""The seed control: a line edit that holds any seed 0 … 2^64−1 (a QSpinBox stops at 2^31−1)."""

from __future__ import annotations

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QLineEdit

from ..engine.request import MAX_SEED


class SeedValidator(QValidator):
    """Digits only, at most MAX_SEED; an empty box is Intermediate (the user is still typing)."""

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # type: ignore[override]
        stripped = text.strip()
        if not stripped:
            return QValidator.State.Intermediate, text, pos
        if not stripped.isascii() or not stripped.isdigit() or int(stripped) > MAX_SEED:
            return QValidator.State.Invalid, text, pos
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:  # type: ignore[override]
        return text.strip() or "0"


class SeedEdit(QLineEdit):
    """Spin-box-like API (``value``/``setValue``) so callers need not know it is a line edit."""

    def __init__(self, parent=None) -> None:
        super().__init__("0", parent)
        self.setValidator(SeedValidator(self))
        self.setMaxLength(len(str(MAX_SEED)))
        self.editingFinished.connect(self._normalise)

    def value(self) -> int:
        text = self.text().strip()
        return int(text) if text.isdigit() else 0

    def setValue(self, seed: int) -> None:
        if not 0 <= int(seed) <= MAX_SEED:
            raise ValueError(f"seed {seed} is outside 0 … {MAX_SEED}")
        self.setText(str(int(seed)))

    def _normalise(self) -> None:
        self.setText(str(self.value()))  # "007" → "7", empty → "0"
