"""The prompt tab's Control section: a ControlNet Union input (kind, image from a file or the
canvas, strength, start/end) with a preview of the preprocessed control image.

A view over ``engine.control_images`` (Qt-free, no torch): the preview is exactly the image the
engine will feed the ControlNet at the chosen size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QToolButton,
)

from ..engine.request import MAX_CONTROL_STRENGTH, ControlRef, GenerationRequest
from ..errors import UserFacingError
from .scribble_layer import ScribbleLayer

USER_KINDS = ("canny", "grey", "scribble", "depth")
PREVIEW_SIDE = 160


def pil_to_qimage(image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


class ControlPanel(QGroupBox):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("controlPanel")
        self.setCheckable(True)
        self.setChecked(False)
        self.canvas_image: Callable[[], QImage | None] = lambda: None  # the window's current picture
        self.output_size: Callable[[], tuple[int, int]] = lambda: (1024, 1024)
        self.models_dir: Callable[[], Path | None] = lambda: None
        self.kind = QComboBox()
        self.kind.setObjectName("controlKind")
        for kind in USER_KINDS:
            self.kind.addItem("", kind)
        self.file = QLineEdit()
        self.file.setObjectName("controlImagePath")
        self.browse = QPushButton()
        self.browse.setObjectName("controlImageButton")
        self.browse.clicked.connect(self._browse)
        self.from_canvas = QPushButton()
        self.from_canvas.setObjectName("controlFromCanvasButton")
        self.from_canvas.clicked.connect(self._take_canvas)
        # Drawing a scribble on the canvas (ui/scribble_layer.py), once the window attaches its canvas.
        self.scribble: ScribbleLayer | None = None
        self.draw = QPushButton()
        self.draw.setObjectName("controlDrawButton")
        self.draw.setCheckable(True)
        self.draw.toggled.connect(self._draw_toggled)
        self.draw_undo, self.draw_redo = QToolButton(), QToolButton()
        self.draw_undo.setObjectName("controlDrawUndo")
        self.draw_redo.setObjectName("controlDrawRedo")
        for button in (self.draw_undo, self.draw_redo):
            button.setEnabled(False)
        self.strength, self.start, self.end = QDoubleSpinBox(), QDoubleSpinBox(), QDoubleSpinBox()
        for spin, name, top, value in ((self.strength, "controlStrength", MAX_CONTROL_STRENGTH, 0.75),
                                       (self.start, "controlStart", 1.0, 0.0), (self.end, "controlEnd", 1.0, 1.0)):
            spin.setObjectName(name)
            spin.setRange(0.0, top)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setValue(value)
        self.preview = QLabel()
        self.preview.setObjectName("controlPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW_SIDE // 2)
        self.note = QLabel()
        self.note.setObjectName("controlNote")
        self.note.setWordWrap(True)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.browse)
        file_row.addWidget(self.from_canvas)
        draw_row = QHBoxLayout()
        draw_row.addWidget(self.draw, 1)
        draw_row.addWidget(self.draw_undo)
        draw_row.addWidget(self.draw_redo)
        range_row = QHBoxLayout()
        range_row.addWidget(self.start)
        range_row.addWidget(QLabel("–"))
        range_row.addWidget(self.end)
        self.labels = {k: QLabel() for k in ("kind", "image", "strength", "range")}
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.labels["kind"], self.kind)
        form.addRow(self.labels["image"], file_row)
        form.addRow("", draw_row)
        form.addRow(self.labels["strength"], self.strength)
        form.addRow(self.labels["range"], range_row)
        form.addRow(self.preview)
        form.addRow(self.note)
        self.kind.currentIndexChanged.connect(lambda _: self.update_preview())
        self.file.editingFinished.connect(self.update_preview)
        self.toggled.connect(lambda _: self.update_preview())
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Control (ControlNet Union)"))
        names = {"canny": self.tr("Edges (canny)"), "grey": self.tr("Greyscale"), "scribble": self.tr("Scribble"),
                 "depth": self.tr("Depth")}
        for i, kind in enumerate(USER_KINDS):
            self.kind.setItemText(i, names[kind])
        for key, text in (("kind", self.tr("Kind")), ("image", self.tr("Image")), ("strength", self.tr("Strength")),
                          ("range", self.tr("Steps (from – to)"))):
            self.labels[key].setText(text)
        self.browse.setText(self.tr("File…"))
        self.from_canvas.setText(self.tr("From canvas"))
        self.draw.setText(self.tr("Draw a scribble on the canvas"))
        self.draw.setToolTip(self.tr("White strokes on black: the brush draws, X erases, [ and ] change the pen, "
                                     "Ctrl+Z undoes a stroke"))
        self.draw_undo.setText(self.tr("Undo"))
        self.draw_redo.setText(self.tr("Redo"))
        self.start.setToolTip(self.tr("Fraction of the steps where the control starts"))
        self.end.setToolTip(self.tr("Fraction of the steps where the control ends"))

    def attach_canvas(self, view) -> None:
        """The canvas (a PreviewView) the scribble is drawn on."""
        layer = self.scribble = ScribbleLayer(view, self)
        layer.saved.connect(self._scribble_saved)
        stack = layer.undo_stack
        self.draw_undo.clicked.connect(stack.undo)
        self.draw_redo.clicked.connect(stack.redo)
        stack.canUndoChanged.connect(self.draw_undo.setEnabled)
        stack.canRedoChanged.connect(self.draw_redo.setEnabled)

    def _draw_toggled(self, on: bool) -> None:
        if self.scribble is None:
            return
        if not on:
            self.scribble.end()
            return
        self.setChecked(True)
        self.kind.setCurrentIndex(self.kind.findData("scribble"))
        self.scribble.begin(QSize(*self.output_size()))

    def _scribble_saved(self, path: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData("scribble"))
        self.file.setText(path)
        self.update_preview()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Control image"), "",
                                              self.tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"))
        if path:
            self.file.setText(path)
            self.setChecked(True)
            self.update_preview()

    def _take_canvas(self) -> None:
        image = self.canvas_image()
        if image is None or image.isNull():
            self.note.setText(self.tr("The canvas has no picture yet."))
            return
        target = Path(tempfile.mkdtemp(prefix="zimage-control-")) / "canvas.png"
        image.save(str(target))
        self.file.setText(str(target))
        self.setChecked(True)
        self.update_preview()

    def controls(self) -> tuple[ControlRef, ...]:
        if not self.isChecked() or not self.file.text().strip():
            return ()
        return (ControlRef(self.kind.currentData(), self.file.text().strip(), None, round(self.strength.value(), 2),
                           round(self.start.value(), 2), round(self.end.value(), 2)),)

    def apply(self, request: GenerationRequest) -> None:
        controls = [c for c in request.controls if c.kind in USER_KINDS]
        self.setChecked(bool(controls))
        if controls:
            control = controls[0]
            self.kind.setCurrentIndex(max(0, self.kind.findData(control.kind)))
            self.file.setText(control.image or "")
            self.strength.setValue(control.strength)
            self.start.setValue(control.start)
            self.end.setValue(control.end)
        self.update_preview()

    def update_preview(self) -> None:
        """The preprocessed control image at the output size, or one sentence why there is none."""
        from ..engine.control_images import open_source, prepare

        self.preview.clear()
        self.note.clear()
        path = self.file.text().strip()
        if not self.isChecked() or not path:
            return
        width, height = self.output_size()
        try:
            prepared = prepare(self.kind.currentData(), open_source(path), width, height, self.models_dir())
        except UserFacingError as exc:
            from .status_line import in_ui_language

            self.note.setText(in_ui_language(exc.message))
            return
        pixmap = QPixmap.fromImage(pil_to_qimage(prepared.image))
        self.preview.setPixmap(pixmap.scaled(PREVIEW_SIDE, PREVIEW_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))
        if prepared.note:
            from .status_line import in_ui_language

            self.note.setText(in_ui_language(prepared.note))
