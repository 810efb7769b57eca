"""The parameters sidebar of the prompt tab: prompt, size, steps, sampler, seed and count.

It holds what the next request will be and nothing else: the window builds the request from
``values()`` and fills the form back from a past one with ``apply()``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..engine.request import DEFAULT_STEPS, MAX_COUNT, MAX_STEPS, GenerationRequest, snap_size
from .enhance_panel import EnhancePanel
from .lora_panel import LoraPanel
from .model_picker import ModelPicker
from .prompt_editor import PromptEdit
from .prompt_tokens import PromptTokens
from .sampling_controls import SamplingControls
from .seed_edit import SeedEdit
from .size_combo import SizeCombo


class ParametersForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last_seed: int | None = None  # the seed of the last image made, for "Reuse last"
        self.prompt = PromptEdit()
        self.prompt.textChanged.connect(self._update_count)
        self.tokens = PromptTokens(self)  # exact once the models folder's tokenizer is read; the window sets models_dir
        self.tokens.changed.connect(self._update_count)
        self.count_label = QLabel()
        self.count_label.setObjectName("tokenCount")
        self.enhance_button = QPushButton()
        self.enhance_button.setObjectName("enhanceButton")
        self.enhance_panel = EnhancePanel()
        self.model_picker = ModelPicker()
        self.model_picker.model_changed.connect(self.set_model)
        self.size_combo = SizeCombo()
        self.size_combo.currentIndexChanged.connect(self._size_changed)
        self.width_spin, self.height_spin = QSpinBox(), QSpinBox()
        for spin, name in ((self.width_spin, "widthSpin"), (self.height_spin, "heightSpin")):
            spin.setObjectName(name)
            spin.setRange(64, 4096)
            spin.setSingleStep(16)
            spin.setValue(1024)
            spin.setEnabled(False)
            spin.editingFinished.connect(self.snap_custom)
        self.size_note = QLabel()
        self.size_note.setObjectName("sizeNote")
        self.size_note.setWordWrap(True)
        self.size_note.hide()  # an empty row would leave a gap in the form
        self.steps_spin = QSpinBox()
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.sampling = SamplingControls()
        from .guidance_fields import GuidanceFields

        self.guidance = GuidanceFields()
        self.seed_spin = SeedEdit()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_random = QCheckBox()
        self.seed_random.setObjectName("seedRandomCheck")
        self.seed_random.setChecked(True)
        self.seed_random.toggled.connect(lambda on: self.seed_spin.setEnabled(not on))
        self.seed_spin.setEnabled(False)
        self.reuse_seed = QPushButton()
        self.reuse_seed.setObjectName("reuseSeedButton")
        self.reuse_seed.clicked.connect(self._reuse_seed)
        self.count_spin = QSpinBox()
        self.count_spin.setObjectName("countSpin")
        self.count_spin.setRange(1, MAX_COUNT)
        self.model_button = QPushButton()
        self.model_button.setObjectName("modelManagerButton")
        self.loras = LoraPanel()
        self.loras.setObjectName("loraPanel")
        self.loras.insert_text.connect(self._insert_word)
        from .control_panel import ControlPanel

        self.control = ControlPanel()
        self.control.output_size = lambda: (self.width_spin.value(), self.height_spin.value())

        size_row = QHBoxLayout()
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)
        size_row.addStretch(1)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.seed_random)
        seed_row.addWidget(self.reuse_seed)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.count_label, 1)
        prompt_row.addWidget(self.enhance_button)
        self.labels = {k: QLabel() for k in ("model", "size", "custom", "steps", "sampler", "seed", "count", "loras")}
        self.labels["model"].setBuddy(self.model_picker)
        form = self._form = QFormLayout(self)
        form.addRow(self.prompt)
        form.addRow(prompt_row)
        form.addRow(self.enhance_panel)
        form.addRow(self.labels["model"], self.model_picker)
        form.setRowVisible(self.model_picker, False)  # shown once the folder holds more than one transformer
        form.addRow(self.labels["size"], self.size_combo)
        form.addRow(self.labels["custom"], size_row)
        form.addRow(self.size_note)
        form.addRow(self.labels["steps"], self.steps_spin)
        form.addRow(self.labels["sampler"], self.sampling)
        form.addRow(self.guidance)
        form.addRow(self.labels["seed"], seed_row)
        form.addRow(self.labels["count"], self.count_spin)
        form.addRow(self.labels["loras"])
        form.addRow(self.loras)
        form.addRow(self.control)
        form.addRow(self.model_button)
        # narrow sidebar: labels go above their fields instead of squeezing them
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._update_count()

    def retranslate(self) -> None:  # the window calls it (on start and on a language change)
        self.prompt.setPlaceholderText(self.tr(
            "Describe the image. For text in the picture, put the exact words in quotes and say font, "
            "colour and position, e.g. 标题文字“新春特惠”，金色粗体，居中"))
        self.size_combo.retranslate()
        for key, text in (("model", self.tr("&Model")), ("size", self.tr("Size")), ("custom", self.tr("Width × height")),
                          ("steps", self.tr("Steps")),
                          ("sampler", self.tr("Sampler")), ("seed", self.tr("Seed")), ("count", self.tr("Images")),
                          ("loras", self.tr("LoRAs"))):
            self.labels[key].setText(text)
        self.seed_random.setText(self.tr("Random"))
        self.reuse_seed.setText(self.tr("Reuse last"))
        self.enhance_button.setText(self.tr("Enhance  (Ctrl+E)"))
        self.enhance_button.setToolTip(self.tr(
            "Rewrite the idea into a detailed prompt with the text encoder already on disk (offline)"))
        self.enhance_panel.retranslate()
        self.loras.retranslate()
        self.control.retranslate()
        self.guidance.retranslate()
        self.model_picker.retranslate()
        self.model_button.setText(self.tr("Models…"))
        self._update_count()

    def _update_count(self) -> None:
        text = self.prompt.toPlainText()
        tokens, room, exact = self.tokens.typed(text)  # what the user typed, not the chat template
        count = self.tr("%1 / %2 tokens") if exact else self.tr("≈%1 / %2 tokens")
        self.count_label.setText(self.tr("%n characters", "", len(text)) + " · " +
                                 count.replace("%1", str(tokens)).replace("%2", str(room)))
        self.count_label.setStyleSheet("color: #c0392b;" if tokens > room else "")

    def _size_changed(self) -> None:
        data = self.size_combo.chosen()
        custom = data is None
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        if data is not None:
            self.width_spin.setValue(data[0])
            self.height_spin.setValue(data[1])
            self.size_note.clear()
            self.size_note.hide()

    def snap_custom(self) -> None:
        """Custom sides to the nearest allowed size, saying so when they moved."""
        w, h = self.width_spin.value(), self.height_spin.value()
        sw, sh = snap_size(w), snap_size(h)
        if (sw, sh) != (w, h):
            self.width_spin.setValue(sw)
            self.height_spin.setValue(sh)
            self.size_note.setText(self.tr("Adjusted %1×%2 to %3×%4: sides must be multiples of 16 between 256 and 2048.")
                                   .replace("%1", str(w)).replace("%2", str(h)).replace("%3", str(sw)).replace("%4", str(sh)))
            self.size_note.show()
        else:
            self.size_note.clear()
            self.size_note.hide()

    def _reuse_seed(self) -> None:
        if self.last_seed is not None:
            self.seed_random.setChecked(False)
            self.seed_spin.setValue(self.last_seed)

    def values(self) -> dict[str, Any]:
        """The keyword arguments of ``RequestBuilder.new`` that this form holds (seed None: random)."""
        if self.size_combo.is_custom():
            self.snap_custom()
        sampler, scheduler = self.sampling.values()
        return dict(width=self.width_spin.value(), height=self.height_spin.value(), steps=self.steps_spin.value(),
                    seed=None if self.seed_random.isChecked() else self.seed_spin.value(),
                    count=self.count_spin.value(), sampler=sampler, scheduler=scheduler, loras=self.loras.values(),
                    controls=self.control.controls(), transformer=self.model_picker.chosen_name(),
                    **self.guidance.values())

    def select_size(self, width: int, height: int) -> None:
        """The size list's entry for this size, else "Custom size…" with the sides as they are."""
        self.size_combo.select(width, height)
        self.width_spin.setValue(width)
        self.height_spin.setValue(height)

    def apply(self, request: GenerationRequest) -> None:
        """Fill the form from a past request (history, or a dropped PNG): one image, its seed."""
        self.model_picker.select(request.transformer)  # first: a model change resets steps and CFG
        self.prompt.setPlainText(request.prompt)
        self.select_size(request.width, request.height)
        self.steps_spin.setValue(request.steps)
        self.sampling.set_values(request.sampler, request.scheduler)
        self.seed_random.setChecked(False)
        self.seed_spin.setValue(request.seed)
        self.count_spin.setValue(1)
        self.control.apply(request)
        self.loras.apply(request.loras)
        self.guidance.apply(request.negative_prompt, request.cfg)

    def apply_fields(self, values: dict[str, Any], fields: set[str] | frozenset[str]) -> None:
        """Partial recall: only the chosen fields (``history.recall.FIELDS`` keys) from a file's
        checked values; the rest of the form — the prompt, say — stays as the user had it."""
        if "prompt" in fields and isinstance(values.get("prompt"), str):
            self.prompt.setPlainText(values["prompt"])
        if "size" in fields and "width" in values and "height" in values:
            self.select_size(values["width"], values["height"])
        if "steps" in fields and "steps" in values:
            self.steps_spin.setValue(values["steps"])
        if "sampler" in fields:
            current = self.sampling.values()
            self.sampling.set_values(values.get("sampler", current[0]), values.get("scheduler", current[1]))
        if "seed" in fields and "seed" in values:
            self.seed_random.setChecked(False)
            self.seed_spin.setValue(values["seed"])
        if "loras" in fields and values.get("loras"):
            self.loras.apply(values["loras"])
        if "guidance" in fields:
            self.guidance.apply(values.get("negative_prompt", ""), values.get("cfg"))

    def set_models(self, choices, auto_arch) -> None:
        """The models folder's transformer files (engine/model_files.transformer_choices) and the model
        "Automatic" runs; the row shows when there is a choice to make."""
        self.model_picker.set_choices(choices, auto_arch)
        self.model_picker.retranslate()
        self._form.setRowVisible(self.model_picker, self.model_picker.worth_showing)

    def set_model(self, arch) -> None:
        """The model the next image runs (engine/architectures.py): its guidance fields, and its
        default steps when the model changes."""
        if arch.id != self.guidance.architecture.id:
            self.steps_spin.setValue(arch.default_steps)
        self.guidance.set_model(arch)

    def _insert_word(self, word: str) -> None:
        """A LoRA's trigger word into the prompt at the cursor, separated by a comma."""
        cursor = self.prompt.textCursor()
        before = self.prompt.toPlainText()[: cursor.position()].rstrip()
        cursor.insertText((", " if before and not before.endswith(",") else " " if before else "") + word)
        self.prompt.setFocus()
