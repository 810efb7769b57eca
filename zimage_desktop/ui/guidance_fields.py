"""The negative prompt and CFG scale of the prompt tab, shown for a model that uses them.

Z-Image-Turbo is guidance-distilled: the fields are hidden for it (a negative recalled from a
file is kept and travels with the request; the engine says once that it has no effect). For
Z-Image (the base model) they show, with its own default CFG.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QPlainTextEdit, QWidget

from ..engine.architectures import DEFAULT, Architecture
from ..engine.guidance import MAX_CFG, MAX_NEGATIVE_CHARS, MIN_CFG


class GuidanceFields(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.negative = QPlainTextEdit()
        self.negative.setObjectName("negativeEdit")
        self.negative.setTabChangesFocus(True)  # Tab moves on, as in the other fields
        self.negative.setFixedHeight(self.negative.fontMetrics().lineSpacing() * 3 + 12)
        self.cfg_spin = QDoubleSpinBox()
        self.cfg_spin.setObjectName("cfgSpin")
        self.cfg_spin.setRange(MIN_CFG, MAX_CFG)
        self.cfg_spin.setSingleStep(0.5)
        self.cfg_spin.setDecimals(1)
        self.negative_label, self.cfg_label = QLabel(), QLabel()
        self.negative_label.setBuddy(self.negative)
        self.cfg_label.setBuddy(self.cfg_spin)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.negative_label, self.negative)
        form.addRow(self.cfg_label, self.cfg_spin)
        self.architecture = DEFAULT
        self.cfg_spin.setValue(DEFAULT.default_cfg)
        self.set_model(DEFAULT)
        self.retranslate()

    def set_model(self, arch: Architecture) -> None:
        """Show the fields for a model with guidance, with its default CFG when the model changes."""
        changed = arch.id != self.architecture.id
        self.architecture = arch
        if changed:
            self.cfg_spin.setValue(arch.default_cfg)
        self.setVisible(arch.uses_cfg)

    def values(self) -> dict:
        """``negative_prompt`` and ``cfg`` for the request (cfg None: the model's own, for Turbo)."""
        text = self.negative.toPlainText().strip()[:MAX_NEGATIVE_CHARS]
        return dict(negative_prompt=text, cfg=self.cfg_spin.value() if self.architecture.uses_cfg else None)

    def apply(self, negative_prompt: str, cfg: float | None) -> None:
        self.negative.setPlainText(negative_prompt)
        if cfg is not None and self.architecture.uses_cfg:
            self.cfg_spin.setValue(cfg)

    def retranslate(self) -> None:
        self.negative_label.setText(self.tr("&Negative prompt"))
        self.negative.setPlaceholderText(self.tr("What the picture should not show, e.g. blurry, watermark, 低质量"))
        self.cfg_label.setText(self.tr("C&FG scale"))
        self.cfg_spin.setToolTip(self.tr("How strongly the picture follows the prompt against the negative prompt "
                                         "(1 = no guidance; Z-Image: about 3 to 5). Each step runs the model twice."))
