"""The Edit tab: what to do with the image on the canvas — image-to-image, inpaint, outpaint or upscale —
with the strength and each mode's options (mask tools, outpaint sides and formats, upscale factor), and
"Fix the text" for posters. A view: ``EditFlow`` connects it to the canvas and builds the requests.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit,
    QPushButton, QRadioButton, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from ..engine.request import MAX_SIDE
from .mask_editor import BRUSH, DEFAULT_SIZE, ERASER, MAX_SIZE, MIN_SIZE, RECTANGLE

IMG2IMG, INPAINT, OUTPAINT, UPSCALE = "img2img", "inpaint", "outpaint", "upscale"
MODES = (IMG2IMG, INPAINT, OUTPAINT, UPSCALE)
DEFAULT_STRENGTH = {IMG2IMG: 0.6, INPAINT: 1.0, OUTPAINT: 1.0, UPSCALE: 0.3}
# one-click outpaint targets: the ratios of the poster formats (zimage_desktop/poster/formats.py)
RATIOS = ((16, 9), (21, 9), (3, 1), (1, 1), (3, 4), (9, 16))


class EditPanel(QWidget):
    retranslated = Signal()  # the texts the flow writes (source, poster texts, result size) follow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editPanel")
        self.source_label = QLabel()
        self.source_label.setObjectName("editSourceLabel")
        self.source_label.setWordWrap(True)
        self.open_button = QPushButton()
        self.open_button.setObjectName("editOpenButton")
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("editPromptEdit")
        self.prompt.setMaximumHeight(110)
        self.mode = QComboBox()
        self.mode.setObjectName("editMode")
        for key in MODES:
            self.mode.addItem("", key)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setObjectName("editStrength")
        self.strength.setRange(1, 100)
        self.strength_label = QLabel()
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v / 100:.2f}"))
        self.strength_title = QLabel()
        self.mode_title = QLabel()
        self.prompt_title = QLabel()
        form = QFormLayout()
        form.addRow(self.mode_title, self.mode)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_label)
        form.addRow(self.strength_title, strength_row)

        self.mask_group = QGroupBox()
        self.mask_group.setObjectName("editMaskGroup")
        self.tools = QButtonGroup(self)
        self.tool_buttons: dict[str, QToolButton] = {}
        tools_row = QHBoxLayout()
        for key in (BRUSH, ERASER, RECTANGLE):
            button = QToolButton()
            button.setObjectName(f"editTool_{key}")
            button.setCheckable(True)
            self.tools.addButton(button)
            self.tool_buttons[key] = button
            tools_row.addWidget(button)
        self.tool_buttons[BRUSH].setChecked(True)
        self.brush_size = QSpinBox()
        self.brush_size.setObjectName("editBrushSize")
        self.brush_size.setRange(MIN_SIZE, MAX_SIZE)
        self.brush_size.setValue(DEFAULT_SIZE)
        self.brush_size.setSuffix(" px")
        self.invert_button, self.clear_button, self.undo_button, self.redo_button = (QToolButton() for _ in range(4))
        for button, name in ((self.invert_button, "editInvert"), (self.clear_button, "editClear"),
                             (self.undo_button, "editUndo"), (self.redo_button, "editRedo")):
            button.setObjectName(name)
        actions_row = QHBoxLayout()
        for button in (self.undo_button, self.redo_button, self.invert_button, self.clear_button):
            actions_row.addWidget(button)
        self.overlay = QCheckBox()
        self.overlay.setObjectName("editOverlay")
        self.overlay.setChecked(True)
        self.feather = QSpinBox()
        self.feather.setObjectName("editFeather")
        self.feather.setRange(0, 64)
        self.feather.setValue(8)
        self.feather.setSuffix(" px")
        self.only_masked = QCheckBox()
        self.only_masked.setObjectName("editOnlyMasked")
        self.padding = QSpinBox()
        self.padding.setObjectName("editPadding")
        self.padding.setRange(0, 512)
        self.padding.setValue(32)
        self.padding.setSuffix(" px")
        self.size_title, self.feather_title, self.padding_title = QLabel(), QLabel(), QLabel()
        mask_form = QFormLayout(self.mask_group)
        mask_form.addRow(tools_row)
        mask_form.addRow(self.size_title, self.brush_size)
        mask_form.addRow(actions_row)
        mask_form.addRow(self.overlay)
        mask_form.addRow(self.feather_title, self.feather)
        mask_form.addRow(self.only_masked)
        mask_form.addRow(self.padding_title, self.padding)

        self.outpaint_group = QGroupBox()
        self.outpaint_group.setObjectName("editOutpaintGroup")
        self.ratio_buttons: list[QPushButton] = []
        ratios = QGridLayout()
        for i, (w, h) in enumerate(RATIOS):
            ratio = QPushButton(f"{w}:{h}")
            ratio.setObjectName(f"editRatio_{w}_{h}")
            self.ratio_buttons.append(ratio)
            ratios.addWidget(ratio, i // 3, i % 3)
        self.side_spins: list[QSpinBox] = []
        self.side_titles: list[QLabel] = []
        sides = QGridLayout()
        for i, name in enumerate(("Left", "Top", "Right", "Bottom")):
            spin = QSpinBox()
            spin.setObjectName(f"editSide{name}")
            spin.setRange(0, MAX_SIDE)
            spin.setSingleStep(16)
            spin.setKeyboardTracking(False)
            title = QLabel()
            self.side_spins.append(spin)
            self.side_titles.append(title)
            sides.addWidget(title, i // 2, (i % 2) * 2)
            sides.addWidget(spin, i // 2, (i % 2) * 2 + 1)
        self.outpaint_hint = QLabel()
        self.outpaint_hint.setWordWrap(True)
        self.result_label = QLabel()
        self.result_label.setObjectName("editResultSize")
        out_col = QVBoxLayout(self.outpaint_group)
        out_col.addWidget(self.outpaint_hint)
        out_col.addLayout(ratios)
        out_col.addLayout(sides)

        self.upscale_group = QGroupBox()
        self.upscale_group.setObjectName("editUpscaleGroup")
        self.scale_15, self.scale_2, self.scale_target = QRadioButton("×1.5"), QRadioButton("×2"), QRadioButton()
        self.scale_15.setObjectName("editScale15")
        self.scale_2.setObjectName("editScale2")
        self.scale_target.setObjectName("editScaleTarget")
        self.scale_2.setChecked(True)
        self.target_width = QSpinBox()
        self.target_width.setObjectName("editTargetWidth")
        self.target_width.setRange(256, MAX_SIDE)
        self.target_width.setSingleStep(16)
        self.target_width.setValue(MAX_SIDE)
        self.target_width.setSuffix(" px")
        self.upscale_model_title = QLabel()
        self.upscale_model = QComboBox()  # the files in models/upscale_models/ (set_upscale_models)
        self.upscale_model.setObjectName("editUpscaleModel")
        self.upscale_model.addItem("", "")
        self.upscale_model_title.setBuddy(self.upscale_model)
        up_col = QVBoxLayout(self.upscale_group)
        up_row = QHBoxLayout()
        for widget in (self.scale_15, self.scale_2, self.scale_target, self.target_width):
            up_row.addWidget(widget)
        up_col.addLayout(up_row)
        model_row = QHBoxLayout()
        model_row.addWidget(self.upscale_model_title)
        model_row.addWidget(self.upscale_model, 1)
        up_col.addLayout(model_row)

        self.text_group = QGroupBox()
        self.text_group.setObjectName("editFixTextGroup")
        self.text_role = QComboBox()
        self.text_role.setObjectName("editTextRole")
        self.fix_button = QPushButton()
        self.fix_button.setObjectName("fixTextButton")
        self.text_hint = QLabel()
        self.text_hint.setWordWrap(True)
        text_col = QVBoxLayout(self.text_group)
        text_col.addWidget(self.text_hint)
        text_row = QHBoxLayout()
        text_row.addWidget(self.text_role, 1)
        text_row.addWidget(self.fix_button)
        text_col.addLayout(text_row)
        self.text_group.hide()

        self.edit_button = QPushButton()
        self.edit_button.setObjectName("editButton")
        self.show_source_button = QPushButton()
        self.show_source_button.setObjectName("editShowSource")
        column = QVBoxLayout(self)
        column.addWidget(self.source_label)
        open_row = QHBoxLayout()
        open_row.addWidget(self.open_button)
        open_row.addWidget(self.show_source_button)
        column.addLayout(open_row)
        column.addWidget(self.text_group)  # on a poster, the likeliest action: first
        column.addWidget(self.prompt_title)
        column.addWidget(self.prompt)
        column.addLayout(form)
        for group in (self.mask_group, self.outpaint_group, self.upscale_group):
            column.addWidget(group)
        column.addWidget(self.result_label)
        column.addStretch(1)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.retranslate()
        self._mode_changed()

    def current_mode(self) -> str:
        return str(self.mode.currentData())

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def strength_value(self) -> float:
        return self.strength.value() / 100

    def set_upscale_models(self, names: list[str], chosen: str | None = None) -> None:
        """List the upscale model files after "Lanczos"; keep the user's choice while it is there,
        else pick ``chosen`` or the first model (what the CLI uses by default)."""
        keep = self.upscale_model.currentData() if chosen is None and self.upscale_model.count() > 1 else chosen
        self.upscale_model.blockSignals(True)
        while self.upscale_model.count() > 1:
            self.upscale_model.removeItem(1)
        for name in names:
            self.upscale_model.addItem(name, name)
        index = self.upscale_model.findData(keep) if keep is not None else -1
        self.upscale_model.setCurrentIndex(index if index >= 0 else (1 if names else 0))
        self.upscale_model.blockSignals(False)

    def upscale_model_name(self) -> str:
        """The chosen file name, or "" for Lanczos."""
        return str(self.upscale_model.currentData() or "")

    def _mode_changed(self) -> None:
        mode = self.current_mode()
        self.mask_group.setVisible(mode == INPAINT)
        self.outpaint_group.setVisible(mode == OUTPAINT)
        self.upscale_group.setVisible(mode == UPSCALE)
        self.strength.setValue(round(DEFAULT_STRENGTH[mode] * 100))

    def retranslate(self) -> None:
        self.open_button.setText(self.tr("Open an image…"))
        self.show_source_button.setText(self.tr("Show the source"))
        self.show_source_button.setToolTip(self.tr("Show the image being edited again (after a result replaced it)"))
        self.prompt_title.setText(self.tr("What the changed area should show:"))
        self.prompt.setPlaceholderText(self.tr("Describe the picture; for inpainting, what goes into the mask."))
        self.mode_title.setText(self.tr("Mode:"))
        for i, text in enumerate((self.tr("Image to image"), self.tr("Inpaint (change the masked area)"),
                                  self.tr("Outpaint (extend the picture)"), self.tr("Upscale"))):
            self.mode.setItemText(i, text)
        self.strength_title.setText(self.tr("Strength:"))
        self.strength.setToolTip(self.tr("How much may change: low keeps the source, 1 redraws it entirely"))
        self.mask_group.setTitle(self.tr("Mask: paint where the picture may change"))
        for key, text, tip in ((BRUSH, self.tr("Brush"), self.tr("Paint the mask (B)")),
                               (ERASER, self.tr("Eraser"), self.tr("Erase the mask (X)")),
                               (RECTANGLE, self.tr("Rectangle"),
                                self.tr("Drag a rectangle onto the mask (R); with Alt held it erases"))):
            self.tool_buttons[key].setText(text)
            self.tool_buttons[key].setToolTip(tip)
        self.size_title.setText(self.tr("Brush size:"))
        self.brush_size.setToolTip(self.tr("[ smaller, ] bigger"))
        self.undo_button.setText(self.tr("Undo"))
        self.undo_button.setToolTip(self.tr("Undo the last stroke (Ctrl+Z)"))
        self.redo_button.setText(self.tr("Redo"))
        self.redo_button.setToolTip(self.tr("Redo (Ctrl+Shift+Z)"))
        self.invert_button.setText(self.tr("Invert"))
        self.clear_button.setText(self.tr("Clear"))
        self.overlay.setText(self.tr("Show the mask"))
        self.feather_title.setText(self.tr("Feather:"))
        self.feather.setToolTip(self.tr("How softly the new pixels blend into the old ones at the mask's edge"))
        self.only_masked.setText(self.tr("Only the masked area (redraw it at full detail)"))
        self.only_masked.setToolTip(self.tr("Crop around the mask, work at the model's resolution, paste back"))
        self.padding_title.setText(self.tr("Padding:"))
        self.outpaint_group.setTitle(self.tr("Outpaint"))
        self.outpaint_hint.setText(self.tr("Drag the canvas edges, or pick the format to extend to:"))
        for title, text in zip(self.side_titles, (self.tr("Left"), self.tr("Top"), self.tr("Right"), self.tr("Bottom"))):
            title.setText(text)
        self.upscale_group.setTitle(self.tr("Upscale"))
        self.scale_target.setText(self.tr("Width:"))
        self.upscale_model_title.setText(self.tr("&Model:"))
        self.upscale_model.setItemText(0, self.tr("Lanczos (no model)"))
        self.upscale_model.setToolTip(self.tr("An ESRGAN-family upscaler from the models folder's upscale_models/ "
                                              "enlarges the pixels before the refining pass"))
        self.text_group.setTitle(self.tr("Fix the text"))
        self.text_hint.setText(self.tr("Drag a rectangle over the wrong text, then press the button: it is redrawn "
                                       "with the poster's own words."))
        self.fix_button.setText(self.tr("Fix the text"))
        self.edit_button.setText(self.tr("Edit  (Ctrl+Enter)"))
        self.retranslated.emit()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
