"""Which transformer the next image uses, when the models folder holds more than one (Z-Image-Turbo
and the Z-Image base model, or one model in several forms).

"Automatic" lets the planner choose among the default model's files for this computer (the request
names no transformer); a file picked here is named in the request, so its model (CFG, negative
prompt, default steps) and its form are what runs. With one transformer file there is nothing to
choose and the row is hidden.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from ..engine.architectures import DEFAULT, Architecture
from ..engine.model_files import TransformerChoice


class ModelPicker(QComboBox):
    model_changed = Signal(object)  # the Architecture the chosen entry runs

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelCombo")
        self.choices: list[TransformerChoice] = []
        self.auto_arch: Architecture = DEFAULT
        self.currentIndexChanged.connect(lambda _index: self.model_changed.emit(self.chosen_arch()))
        self._fill()

    def set_choices(self, choices: list[TransformerChoice], auto_arch: Architecture) -> None:
        """The folder's transformer files; the chosen one stays chosen while it is still there."""
        kept = self.chosen_name()
        self.choices, self.auto_arch = list(choices), auto_arch
        self.blockSignals(True)
        self._fill()
        self.select(kept)
        self.blockSignals(False)
        self.model_changed.emit(self.chosen_arch())

    def _fill(self) -> None:
        self.clear()
        self.addItem(self.tr("Automatic: %1").replace("%1", self.auto_arch.title), None)
        for choice in self.choices:
            self.addItem(f"{choice.arch.title} · {choice.form} · {choice.name}", choice.name)
            self.setItemData(self.count() - 1, choice.name, 3)  # the file name as the tooltip (ToolTipRole)

    def retranslate(self) -> None:
        self.setItemText(0, self.tr("Automatic: %1").replace("%1", self.auto_arch.title))
        self.setToolTip(self.tr("Which model file makes the next image. Automatic: the planner picks the best "
                                "form of %1 for this computer.").replace("%1", self.auto_arch.title))

    def select(self, name: str | None) -> None:
        """The entry of this file name (a recalled image's transformer), else Automatic."""
        index = self.findData(name) if name else 0
        self.setCurrentIndex(max(0, index))

    def chosen_name(self) -> str | None:
        data = self.currentData()
        return data if isinstance(data, str) else None

    def chosen_arch(self) -> Architecture:
        name = self.chosen_name()
        return next((c.arch for c in self.choices if c.name == name), self.auto_arch)

    @property
    def worth_showing(self) -> bool:
        return len(self.choices) > 1
