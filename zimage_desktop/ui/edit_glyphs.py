""""Fix the text" with the poster panel's glyph control on: the text's glyphs drawn in the selected
rectangle, kept in the history's input store, as the inpainting ControlNet's glyph control."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QImage

from .mask_editor import MaskEditor

if TYPE_CHECKING:
    from .main_window import MainWindow


def glyph_controls(window: MainWindow, mask: MaskEditor, work: QImage | None, spec, role: str,
                   text: str | None) -> tuple:
    """The glyph ControlRef for the selected rectangle, or () with the glyph control off (Union 2.x
    inpaints with it; the engine says so in one sentence for 1.0)."""
    glyphs = window.poster.glyphs
    if not glyphs.enabled.isChecked() or work is None:
        return ()
    from ..engine.request import ControlRef
    from ..history.control_inputs import store_image
    from ..poster.fix_text import fix_text_glyphs
    from ..poster.glyphs import load_font, resolve_font

    bounds = mask.bounds()
    box = (bounds.left(), bounds.top(), bounds.right() + 1, bounds.bottom() + 1)
    path, index = resolve_font(glyphs.font_choice())
    rendered = fix_text_glyphs(spec, role, text, (work.width(), work.height()), box,
                               load_font(path, index=index), path.name)
    sha, stored = store_image(rendered.control, window.paths)
    return (ControlRef("glyph", str(stored), sha, round(glyphs.strength.value(), 2)),)
