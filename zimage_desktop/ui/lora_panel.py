"""The LoRA list of the sidebar: search, on/off, strength, trigger words, preview thumbnails.

A view over ``engine.loras.scan_loras`` (headers only, read when the models folder changes or the
user presses Refresh); ``values()`` gives the request's LoRAs and ``apply()`` restores them. A
click on a trigger word asks the window to insert it into the prompt (``insert_text``).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSlider, QVBoxLayout, QWidget,
)

from ..engine.loras import LoraFile, scan_loras
from ..engine.request import LORA_STRENGTH_LIMIT, LoraRef

STEPS_PER_UNIT = 100  # the slider moves in 0.01
THUMB = 40
MAX_WORDS = 12
NAME_ROLE = Qt.ItemDataRole.UserRole
STRENGTH_ROLE = Qt.ItemDataRole.UserRole + 1


class LoraPanel(QWidget):
    insert_text = Signal(str)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models_dir: Callable[[], Path] | None = None
        self.files: dict[str, LoraFile] = {}
        self.search = QLineEdit()
        self.search.setObjectName("loraSearch")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.refresh_button = QPushButton()
        self.refresh_button.setObjectName("loraRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.list = QListWidget()
        self.list.setObjectName("loraList")
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setMaximumHeight(5 * (THUMB + 6))
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentItemChanged.connect(self._show_selected)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setObjectName("loraStrength")
        limit = int(LORA_STRENGTH_LIMIT * STEPS_PER_UNIT)
        self.strength.setRange(-limit, limit)
        self.strength.setValue(STEPS_PER_UNIT)
        self.strength.setEnabled(False)
        self.strength.valueChanged.connect(self._strength_changed)
        self.strength_label = QLabel()
        self.strength_label.setObjectName("loraStrengthLabel")
        self.strength_label.setMinimumWidth(40)
        self.detail = QLabel()
        self.detail.setObjectName("loraDetail")
        self.detail.setWordWrap(True)
        self.words = QLabel()  # links that wrap in a narrow sidebar
        self.words.setObjectName("loraTriggerWords")
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.TextFormat.RichText)
        self.words.linkActivated.connect(self._word_clicked)
        self._shown_words: tuple[str, ...] = ()
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.refresh_button)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.strength, 1)
        slider_row.addWidget(self.strength_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list)
        layout.addLayout(slider_row)
        layout.addWidget(self.detail)
        layout.addWidget(self.words)
        self.retranslate()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search LoRAs"))
        self.refresh_button.setText(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("Read the loras folder again"))
        self.strength.setToolTip(self.tr("Strength of the selected LoRA (-2 to 2)"))
        self._show_selected(self.list.currentItem())

    # -- the folder -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the loras folder again, keeping what is switched on and each strength."""
        chosen = {ref.name: ref.strength for ref in self.values()}
        strengths = {self._name(self.list.item(i)): self._strength_of(self.list.item(i)) for i in range(self.list.count())}
        self.files = {f.name: f for f in scan_loras(self.models_dir())} if self.models_dir else {}
        self.list.blockSignals(True)
        self.list.clear()
        for lora in self.files.values():
            item = QListWidgetItem(lora.name)
            item.setData(NAME_ROLE, lora.name)
            item.setData(STRENGTH_ROLE, strengths.get(lora.name, chosen.get(lora.name, 1.0)))
            flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
            if lora.problem:
                flags &= ~Qt.ItemFlag.ItemIsUserCheckable
                item.setForeground(Qt.GlobalColor.gray)
            item.setFlags(flags)
            item.setCheckState(Qt.CheckState.Checked if lora.name in chosen and not lora.problem
                               else Qt.CheckState.Unchecked)
            if lora.preview is not None:
                pixmap = QPixmap(str(lora.preview))
                if not pixmap.isNull():
                    item.setIcon(QIcon(pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.SmoothTransformation)))
            self._label(item)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._filter(self.search.text())
        self._show_selected(self.list.currentItem())

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            lora = self.files.get(self._name(item))
            haystack = " ".join([self._name(item), *(lora.trigger_words if lora else ())]).lower()
            item.setHidden(bool(needle) and needle not in haystack)

    def offer_import(self, path: Path, confirm: Callable[[str], bool] | None = None) -> str:
        """A .safetensors dropped on the window: if it is a Z-Image LoRA, copy it into loras/ once
        the user agrees. Returns what to say in the status line."""
        import shutil

        from ..engine.loras import LORA_DIR, describe
        from .status_line import in_ui_language

        info = describe(path, path.parent)
        if info.problem:
            return in_ui_language(info.problem)
        if self.models_dir is None:
            return ""
        target = self.models_dir() / LORA_DIR / path.name
        if target.exists():
            return self.tr("%1 is in the loras folder already.").replace("%1", path.name)
        question = self.tr("Copy the LoRA %1 into the loras folder?").replace("%1", path.name)
        if not (confirm or self._ask)(question):
            return ""
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        shutil.copyfile(path, part)  # complete before it appears under its name
        part.replace(target)
        if info.preview is not None and not (target.parent / info.preview.name).exists():
            shutil.copyfile(info.preview, target.parent / info.preview.name)
        self.refresh()
        return self.tr("LoRA %1 added.").replace("%1", target.stem)

    def _ask(self, question: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(self, self.tr("Add LoRA"), question)
        return answer == QMessageBox.StandardButton.Yes

    # -- values ---------------------------------------------------------------------------

    def values(self) -> tuple[LoraRef, ...]:
        """The switched-on LoRAs in list order, each with its strength."""
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(LoraRef(self._name(item), self._strength_of(item)))
        return tuple(out)

    def apply(self, loras: tuple[LoraRef, ...]) -> list[str]:
        """Switch on exactly these LoRAs with their strengths; returns the names not in the list."""
        wanted = {ref.name: ref.strength for ref in loras}
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            name = self._name(item)
            on = name in wanted and not self.files[name].problem
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            if on:
                item.setData(STRENGTH_ROLE, float(wanted[name]))
            self._label(item)
        self.list.blockSignals(False)
        self._show_selected(self.list.currentItem())
        self.changed.emit()
        return [name for name in wanted if name not in self.files]

    # -- the selected LoRA --------------------------------------------------------------------

    @staticmethod
    def _name(item: QListWidgetItem | None) -> str:
        return str(item.data(NAME_ROLE)) if item is not None else ""

    @staticmethod
    def _strength_of(item: QListWidgetItem) -> float:
        value = item.data(STRENGTH_ROLE)
        return float(value) if value is not None else 1.0

    def _label(self, item: QListWidgetItem) -> None:
        on = item.checkState() == Qt.CheckState.Checked
        item.setText(f"{self._name(item)}  {self._strength_of(item):.2f}" if on else self._name(item))

    def _item_changed(self, item: QListWidgetItem) -> None:
        self.list.blockSignals(True)
        self._label(item)
        self.list.blockSignals(False)
        self.changed.emit()

    def _strength_changed(self, value: int) -> None:
        strength = value / STEPS_PER_UNIT
        self.strength_label.setText(f"{strength:.2f}")
        item = self.list.currentItem()
        if item is not None and self.strength.isEnabled():
            self.list.blockSignals(True)
            item.setData(STRENGTH_ROLE, strength)
            if item.checkState() != Qt.CheckState.Checked and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(Qt.CheckState.Checked)  # moving the slider means "use it"
            self._label(item)
            self.list.blockSignals(False)
            self.changed.emit()

    def _show_selected(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        self.words.clear()
        self._shown_words = ()
        lora = self.files.get(self._name(item))
        usable = lora is not None and not lora.problem
        self.strength.setEnabled(False)
        self.strength.setValue(round(self._strength_of(item) * STEPS_PER_UNIT) if item is not None else STEPS_PER_UNIT)
        self.strength_label.setText(f"{self.strength.value() / STEPS_PER_UNIT:.2f}")
        self.strength.setEnabled(usable)
        if lora is None:
            self.detail.setText(self.tr("No LoRAs: put .safetensors files into the loras folder.") if not self.files
                                else "")
            return
        if lora.problem:
            from .status_line import in_ui_language

            self.detail.setText(in_ui_language(lora.problem))
            return
        self.detail.setText(self.tr("Trigger words (click to insert):") if lora.trigger_words else
                            self.tr("No trigger words in this file."))
        self._shown_words = lora.trigger_words[:MAX_WORDS]
        self.words.setText(", ".join(f'<a href="{i}">{html.escape(w)}</a>' for i, w in enumerate(self._shown_words)))

    def _word_clicked(self, link: str) -> None:
        if link.isdigit() and int(link) < len(self._shown_words):
            self.insert_text.emit(self._shown_words[int(link)])
