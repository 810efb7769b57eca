"""The prompt that redraws one text of a poster ("Fix the text"): the poster's own words verbatim in
double quotes, with the role, size, font and colour the poster prompt gave them, in the poster's
language — for an inpaint of the region the user selected."""

from __future__ import annotations

from typing import Any

from .compose import FONTS, ROLES, STYLES, PosterSpec, quote

FIXABLE = ("headline", "subtitle", "cta", "small_print")


def fixable_texts(spec: PosterSpec) -> list[tuple[str, str]]:
    """(role, text) of the poster's texts a user can fix, in the order the poster shows them."""
    return [(role, text) for role, text in spec.texts() if role in FIXABLE or role == "body"]


def fix_text_prompt(spec: PosterSpec, role: str, text: str | None = None) -> str:
    """A prompt for the selected region: the text of ``role`` (or ``text``, one body line) exactly."""
    words = text if text is not None else dict(spec.texts()).get(role, "")
    if not words.strip():
        raise ValueError(f"the poster has no {role} text")
    zh_name, en_name, zh_size, en_size = ROLES.get(role, ROLES["body"])
    font_zh, font_en = FONTS.get(spec.font, FONTS["heiti"])
    style = STYLES.get(spec.style, STYLES["flat"])
    colours = spec.colours.strip()
    if spec.language.startswith("zh"):
        colour = f"，{colours}配色" if colours else ""
        return (f"{style[0]}海报上的{zh_size}{zh_name}文字{quote(words)}，{font_zh}{colour}，"
                f"每个字笔画完整准确、清晰锐利，与周围画面自然融合。")
    colour = f" in {colours}" if colours else ""
    return (f"The {en_name} {quote(words)} on {style[1]} poster, {en_size}, set in {font_en}{colour}; every "
            f"letter spelled exactly and crisp, blending naturally with the surrounding picture.")


def fix_text_glyphs(spec: PosterSpec, role: str, text: str | None, size: tuple[int, int],
                    box: tuple[int, int, int, int], font: Any, font_name: str = "") -> Any:
    """The glyph control for "Fix the text": the chosen text alone, drawn with ``font`` into the
    selected ``box`` (pixels: left, top, right, bottom) of a picture of ``size`` — the edge map the
    inpainting ControlNet follows, so the redrawn region carries exactly these characters.
    BadInputError names a character the font cannot draw."""
    from dataclasses import replace

    from .glyphs import render_glyphs

    words = text if text is not None else dict(spec.texts()).get(role, "")
    key = role if role in FIXABLE else "body"
    fields: dict[str, Any] = {key: (words,) if key == "body" else words}
    alone = replace(PosterSpec(), layout=spec.layout, **fields)
    width, height = size
    fractions = (box[0] / width, box[1] / height, box[2] / width, box[3] / height)
    return render_glyphs(alone, width, height, font, font_name, {key: fractions})
