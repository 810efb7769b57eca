"""Partial recall: the user picks which of a file's settings to take (Shift while dropping a PNG).

Each field the file gave (``history.recall.FIELDS``) is a check box with the value it would set,
all ticked; what is left unticked stays as it is in the form."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from .status_line import in_ui_language


class RecallFieldsDialog(QDialog):
    def __init__(self, name: str, known: frozenset[str], values: dict[str, Any], notes: tuple[str, ...] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recallFieldsDialog")
        self.setWindowTitle(self.tr("Restore parameters"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Take these settings from %1:").replace("%1", name)))
        self.boxes: dict[str, QCheckBox] = {}
        for key, text in self._rows(values):
            if key in known:
                box = QCheckBox(text)
                box.setObjectName(f"recall_{key}")
                box.setChecked(True)
                self.boxes[key] = box
                layout.addWidget(box)
        if notes:
            note = QLabel("\n".join(in_ui_language(n) for n in notes))
            note.setObjectName("recallNotes")
            note.setWordWrap(True)
            layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _rows(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        prompt = str(values.get("prompt", ""))
        short = prompt if len(prompt) <= 60 else prompt[:57] + "…"
        loras = ", ".join(f"{ref.name} {ref.strength:g}" for ref in values.get("loras", ()))
        return [
            ("prompt", self.tr("Prompt: %1").replace("%1", short)),
            ("seed", self.tr("Seed: %1").replace("%1", str(values.get("seed", "")))),
            ("steps", self.tr("Steps: %1").replace("%1", str(values.get("steps", "")))),
            ("size", self.tr("Size: %1×%2").replace("%1", str(values.get("width", "")))
             .replace("%2", str(values.get("height", "")))),
            ("sampler", self.tr("Sampler: %1, %2").replace("%1", str(values.get("sampler", "euler")))
             .replace("%2", str(values.get("scheduler", "simple")))),
            ("loras", self.tr("LoRAs: %1").replace("%1", loras)),
        ]

    def chosen(self) -> set[str]:
        return {key for key, box in self.boxes.items() if box.isChecked()}
