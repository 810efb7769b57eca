"""The poster panel's "Glyph control" row: draw the poster's texts with a real font as a
ControlNet control image (poster/glyphs.py). The system's Chinese fonts come from Qt's font
database; ``poster.glyphs.font_files`` maps a family to its file for Pillow."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from ..engine.request import MAX_CONTROL_STRENGTH, ControlRef
from ..poster.compose import PosterSpec

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
        self.enabled.toggled.connect(self._sync)
        self._sync()
        self.retranslate()

    def retranslate(self) -> None:
        self.enabled.setText(self.tr("Glyph control"))
        self.enabled.setToolTip(self.tr("Draw the texts with this font as a control image, so the model draws "
                                        "these exact characters (needs the ControlNet Union add-on)"))
        self.pick.setText(self.tr("Font file…"))
        self.strength.setToolTip(self.tr("Strength of the glyph control"))

    def _sync(self) -> None:
        for widget in (self.font_box, self.pick, self.strength):
            widget.setEnabled(self.enabled.isChecked())

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
        rendered = render_glyphs(spec, width, height, load_font(path, index=index), path.name)
        sha, stored = store_image(rendered.control, Paths(data_dir))
        return (ControlRef("glyph", str(stored), sha, round(self.strength.value(), 2)),)

    def apply(self, controls: tuple[ControlRef, ...]) -> None:
        glyph = [c for c in controls if c.kind == "glyph"]
        self.enabled.setChecked(bool(glyph))
        if glyph:
            self.strength.setValue(glyph[0].strength)
