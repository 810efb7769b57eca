"""The Control section of the prompt tab and glyph control on the poster panel (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from zimage_desktop.engine.request import ControlRef, GenerationRequest
from zimage_desktop.poster.compose import PosterSpec

LATIN = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@pytest.fixture
def drawing(tmp_path):
    path = tmp_path / "shapes.png"
    img = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(img).rectangle((40, 40, 150, 160), fill=(200, 30, 30))
    img.save(path)
    return path


def test_control_section_previews_what_the_engine_gets_and_round_trips(qtbot, drawing):
    from zimage_desktop.engine.control_images import open_source, prepare
    from zimage_desktop.ui.control_panel import ControlPanel, pil_to_qimage

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.output_size = lambda: (256, 256)
    assert panel.controls() == ()  # off until the user turns it on
    panel.setChecked(True)
    panel.kind.setCurrentIndex(panel.kind.findData("canny"))
    panel.file.setText(str(drawing))
    panel.strength.setValue(0.6)
    panel.end.setValue(0.5)
    panel.update_preview()
    shown = panel.preview.pixmap()
    assert shown is not None and not shown.isNull()
    expected = pil_to_qimage(prepare("canny", open_source(drawing), 256, 256).image)
    assert shown.toImage().size().width() <= 160 and not expected.isNull()
    assert "300×200" in panel.note.text()  # resized: said so
    (control,) = panel.controls()
    assert (control.kind, control.image, control.strength, control.start, control.end) == (
        "canny", str(drawing), 0.6, 0.0, 0.5)
    other = ControlPanel()
    qtbot.addWidget(other)
    other.apply(GenerationRequest(prompt="x", controls=(control,)))
    assert other.controls() == (control,)
    other.apply(GenerationRequest(prompt="x"))
    assert other.controls() == ()


def test_glyph_control_makes_a_glyph_image_and_names_missing_characters(qtbot, tmp_path):
    from zimage_desktop.errors import BadInputError
    from zimage_desktop.ui.glyph_control import GlyphControl

    if not LATIN.is_file():
        pytest.skip("no DejaVu Sans on this machine")
    glyphs = GlyphControl()
    qtbot.addWidget(glyphs)
    spec = PosterSpec(headline="SALE", subtitle="today")
    assert glyphs.control(spec, 512, 640, tmp_path) == ()
    glyphs.enabled.setChecked(True)
    glyphs.font_box.insertItem(0, LATIN.name, str(LATIN))
    glyphs.font_box.setCurrentIndex(0)
    (control,) = glyphs.control(spec, 512, 640, tmp_path)
    stored = Path(control.image)
    assert control.kind == "glyph" and stored.parent == tmp_path / "history" / "inputs"
    assert np.asarray(Image.open(stored))[..., 0].any()
    with pytest.raises(BadInputError, match="新"):
        glyphs.control(PosterSpec(headline="新春"), 512, 640, tmp_path)
    other = GlyphControl()
    qtbot.addWidget(other)
    other.apply((control,))
    assert other.enabled.isChecked() and other.strength.value() == control.strength
    other.apply((ControlRef("canny", "a.png"),))
    assert not other.enabled.isChecked()
