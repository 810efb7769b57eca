"""Sampler and schedule choice: what ComfyUI calls sampler_name and scheduler."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from ..engine.request import DEFAULT_SAMPLER, DEFAULT_SCHEDULER, SAMPLERS, SCHEDULERS


class SamplingControls(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.sampler = QComboBox()
        self.sampler.setObjectName("samplerCombo")
        for name in SAMPLERS:
            self.sampler.addItem(name, name)
        self.schedule = QComboBox()
        self.schedule.setObjectName("scheduleCombo")
        for name in SCHEDULERS:
            self.schedule.addItem(name, name)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.sampler, 1)
        row.addWidget(self.schedule, 1)
        self.set_values(DEFAULT_SAMPLER, DEFAULT_SCHEDULER)
        self.retranslate()

    def values(self) -> tuple[str, str]:
        return self.sampler.currentData(), self.schedule.currentData()

    def set_values(self, sampler: str, scheduler: str) -> None:
        self.sampler.setCurrentIndex(max(0, self.sampler.findData(sampler)))
        self.schedule.setCurrentIndex(max(0, self.schedule.findData(scheduler)))

    def retranslate(self) -> None:
        labels = {"euler": self.tr("Euler"), "res_multistep": self.tr("Res multistep"),
                  "simple": self.tr("Simple schedule (ComfyUI)"), "diffusers": self.tr("Diffusers schedule")}
        for combo in (self.sampler, self.schedule):
            for i in range(combo.count()):
                combo.setItemText(i, labels[combo.itemData(i)])
        self.sampler.setToolTip(self.tr("Euler is ComfyUI's Z-Image example; res multistep is its current template."))
        self.schedule.setToolTip(self.tr("With the same seed, the simple schedule makes ComfyUI's picture; the "
                                         "diffusers schedule is the pipeline's own, used by this app's older images."))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
