"""The poster panel's "Glyph control" row: draw the poster's texts with a real font as a
ControlNet control image (poster/glyphs.py). The system's Chinese fonts come from Qt's font
database; ``poster.glyphs.font_files`` maps a family to its file for Pillow."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtGui import QFontDatabase, QImage
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QPushButton, QToolButton, QWidget,
)

from ..engine.request import MAX_CONTROL_STRENGTH, ControlRef
from ..poster.compose import PosterSpec
from .glyph_boxes import GlyphBoxEditor

DEFAULT_STRENGTH = 0.75


def cjk_families() -> list[str]:
    """Families that can draw Simplified Chinese, the usual good ones first."""
    from ..poster.glyphs import CJK_FAMILIES

    found = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    preferred = [f for f in CJK_FAMILIES if f in found]
    return preferred + sorted(f for f in found if f not in preferred and not f.startswith("@"))


class GlyphControl(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox()
        self.enabled.setObjectName("posterGlyphCheck")
        self.font_box = QComboBox()
        self.font_box.setObjectName("posterGlyphFont")
        self.font_box.setMinimumContentsLength(8)
        self.font_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for family in cjk_families():
            self.font_box.addItem(family, family)
        self.pick = QPushButton()
        self.pick.setObjectName("posterGlyphFontFile")
        self.pick.clicked.connect(self._pick_file)
        self.strength = QDoubleSpinBox()
        self.strength.setObjectName("posterGlyphStrength")
        self.strength.setRange(0.0, MAX_CONTROL_STRENGTH)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(DEFAULT_STRENGTH)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.enabled)
        row.addWidget(self.font_box, 1)
        row.addWidget(self.pick)
        row.addWidget(self.strength)
        # The text boxes moved on the canvas (ui/glyph_boxes.py): role → box, fractions of the picture.
        self.moved: dict[str, tuple[float, float, float, float]] = {}
        self.page: Callable[[], tuple[PosterSpec, int, int]] | None = None  # the poster panel's spec and size
        self.editor: GlyphBoxEditor | None = None
        self.boxes_button = QToolButton()
        self.boxes_button.setObjectName("posterGlyphBoxes")
        self.boxes_button.setCheckable(True)
        self.boxes_button.setEnabled(False)
        self.boxes_button.toggled.connect(self._edit_boxes)
        row.addWidget(self.boxes_button)
        self.enabled.toggled.connect(self._sync)
        self._sync()
        self.retranslate()

    def retranslate(self) -> None:
        self.enabled.setText(self.tr("Glyph control"))
        self.enabled.setToolTip(self.tr("Draw the texts with this font as a control image, so the model draws "
                                        "these exact characters (needs the ControlNet Union add-on)"))
        self.pick.setText(self.tr("Font file…"))
        self.strength.setToolTip(self.tr("Strength of the glyph control"))
        self.boxes_button.setText(self.tr("Move texts"))
        self.boxes_button.setToolTip(self.tr("Move and resize the text boxes on the canvas: drag a box or its corner; "
                                             "arrow keys nudge (Shift: 10 px); Ctrl+Z undoes"))

    def _sync(self) -> None:
        for widget in (self.font_box, self.pick, self.strength):
            widget.setEnabled(self.enabled.isChecked())
        self.boxes_button.setEnabled(self.enabled.isChecked() and self.editor is not None)
        if not self.enabled.isChecked():
            self.boxes_button.setChecked(False)

    def attach_canvas(self, view, page: Callable[[], tuple[PosterSpec, int, int]]) -> None:
        """The canvas the boxes are moved on, and the poster panel's (spec, width, height)."""
        self.page = page
        editor = self.editor = GlyphBoxEditor(view, self)
        editor.changed.connect(self._boxes_changed)
        self._sync()

    def reset_boxes(self) -> None:
        """The layout's own boxes again (a new layout): moved boxes belonged to the old one."""
        self.moved = {}
        if self.editor is not None and self.editor.active:
            self._edit_boxes(True)

    def _edit_boxes(self, on: bool) -> None:
        from ..poster.glyphs import layout_boxes

        editor = self.editor
        if editor is None or self.page is None:
            return
        editor.active = on
        if on:
            spec, _, _ = self.page()
            editor.start({**layout_boxes(spec.layout), **self.moved})
        editor.view.label.update()

    def _boxes_changed(self, boxes: dict) -> None:
        """The glyph map follows the boxes: kept for the next control image, and shown on the canvas."""
        from ..poster.glyphs import layout_boxes

        if self.page is None or self.editor is None:
            return
        spec, width, height = self.page()
        original = layout_boxes(spec.layout)
        self.moved = {role: box for role, box in boxes.items() if original.get(role) != box}
        filled = self._render(spec, width, height)
        if filled is not None:
            self.editor.view.show_image(filled)

    def _render(self, spec: PosterSpec, width: int, height: int) -> QImage | None:
        """The texts as drawn at the boxes (white on black), or None when the font cannot draw them."""
        from ..errors import UserFacingError
        from ..poster.glyphs import load_font, render_glyphs, resolve_font

        try:
            path, index = resolve_font(self.font_choice())
            filled = render_glyphs(spec, width, height, load_font(path, index=index), path.name, self.moved).filled
        except UserFacingError:
            return None
        return QImage(filled.tobytes(), width, height, width, QImage.Format.Format_Grayscale8).copy()

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Font file"), "",
                                              self.tr("Fonts (*.ttf *.otf *.ttc *.otc)"))
        if path:
            self.font_box.insertItem(0, Path(path).name, path)
            self.font_box.setCurrentIndex(0)

    def font_choice(self) -> str | None:
        data = self.font_box.currentData()
        return str(data) if data else None

    def control(self, spec: PosterSpec, width: int, height: int, data_dir: Path) -> tuple[ControlRef, ...]:
        """The glyph control of this poster (stored in the history's inputs), or () when off.
        BadInputError names a character the font cannot draw."""
        if not self.enabled.isChecked():
            return ()
        from ..config import Paths
        from ..history.control_inputs import store_image
        from ..poster.glyphs import load_font, render_glyphs, resolve_font

        path, index = resolve_font(self.font_choice())
        rendered = render_glyphs(spec, width, height, load_font(path, index=index), path.name, self.moved)
        sha, stored = store_image(rendered.control, Paths(data_dir))
        return (ControlRef("glyph", str(stored), sha, round(self.strength.value(), 2)),)

    def saved_boxes(self) -> dict:
        """What a request keeps of the moved boxes (its ``extra``), or nothing while they are
        the layout's own or the glyph control is off."""
        from ..poster.glyphs import MOVED_BOXES_KEY, moved_boxes_to_extra

        if not self.enabled.isChecked() or not self.moved:
            return {}
        return {MOVED_BOXES_KEY: moved_boxes_to_extra(self.moved)}

    def apply(self, controls: tuple[ControlRef, ...], extra: dict | None = None) -> None:
        """A recalled request's glyph control, with its moved boxes (``extra``) back where the user
        left them; call it after the poster's layout is set (a new layout forgets moved boxes)."""
        from ..poster.glyphs import MOVED_BOXES_KEY, moved_boxes_from_extra

        glyph = [c for c in controls if c.kind == "glyph"]
        self.enabled.setChecked(bool(glyph))
        if glyph:
            self.strength.setValue(glyph[0].strength)
        layout = self.page()[0].layout if self.page is not None else ""
        saved = (extra or {}).get(MOVED_BOXES_KEY) if glyph else None
        self.moved = moved_boxes_from_extra(saved, layout)
        if self.editor is not None and self.editor.active:
            self._edit_boxes(True)
