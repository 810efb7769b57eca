"""Glyph control: the poster's texts drawn with a real font in the layout's boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zimage_desktop.errors import BadInputError
from zimage_desktop.poster.compose import PosterSpec
from zimage_desktop.poster.glyphs import BOXES, font_files, load_font, missing_characters, render_glyphs

LATIN = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
W, H = 512, 640


def _latin():
    found = [LATIN] if LATIN.is_file() else [p for p, _ in font_files("DejaVu Sans")]
    if not found:
        pytest.skip("no DejaVu Sans on this machine (fonts-dejavu-core)")
    return load_font(found[0])


def _cjk():
    found = font_files("Noto Sans CJK SC") or font_files("Noto Serif CJK SC")
    if not found:
        pytest.skip("no CJK font on this machine (apt-get install fonts-noto-cjk)")
    path, index = found[0]
    return load_font(path, index=index)


def _crop(image, box):
    return np.asarray(image)[box[1]:box[3], box[0]:box[2]]


def test_each_text_lands_in_its_own_box_and_nowhere_else():
    font = _latin()
    spec = PosterSpec(headline="GRAND SALE", subtitle="Only today", body=("line one", "line two"))
    full = render_glyphs(spec, W, H, font)
    alone = render_glyphs(PosterSpec(headline="GRAND SALE"), W, H, font)
    # the headline is drawn the same whether or not the other texts are there
    assert np.array_equal(_crop(full.filled, full.boxes["headline"]), _crop(alone.filled, alone.boxes["headline"]))
    assert _crop(full.filled, full.boxes["headline"]).any()
    # the subtitle's box holds the subtitle, drawn alone in that box
    sub = render_glyphs(PosterSpec(subtitle="Only today"), W, H, font)
    assert np.array_equal(_crop(full.filled, full.boxes["subtitle"]), _crop(sub.filled, sub.boxes["subtitle"]))
    assert not _crop(alone.filled, full.boxes["subtitle"]).any()
    # nothing outside the boxes, in the texts or in their edge map
    outside = np.ones((H, W), bool)
    for left, top, right, bottom in full.boxes.values():
        outside[top:bottom, left:right] = False
    assert not np.asarray(full.filled)[outside].any()
    assert not np.asarray(full.control)[..., 0][outside].any()
    # the control image is the texts' edges: white only on the outline of the drawn strokes
    edges = np.asarray(full.control)[..., 0]
    assert edges.any() and set(np.unique(edges)) <= {0, 255}
    # the headline box is where the layout says (fractions of the picture)
    left, top, right, bottom = BOXES["headline_top"]["headline"]
    assert full.boxes["headline"] == (round(left * W), round(top * H), round(right * W), round(bottom * H))


def test_a_layout_moves_the_text():
    font = _latin()
    top = render_glyphs(PosterSpec(headline="HELLO", layout="headline_top"), W, H, font)
    bottom = render_glyphs(PosterSpec(headline="HELLO", layout="headline_bottom"), W, H, font)
    rows_top = np.nonzero(np.asarray(top.filled).any(axis=1))[0]
    rows_bottom = np.nonzero(np.asarray(bottom.filled).any(axis=1))[0]
    assert rows_top.max() < H * 0.25 and rows_bottom.min() > H * 0.6


def test_a_font_without_a_character_names_it():
    font = _latin()
    assert missing_characters(font, "AB 新春") == ["新", "春"]
    with pytest.raises(BadInputError, match="新 春"):
        render_glyphs(PosterSpec(headline="新春特惠 SALE"), W, H, font, "DejaVuSans-Bold.ttf")


def test_chinese_title_with_a_cjk_font():
    font = _cjk()
    spec = PosterSpec(headline="新春特惠", subtitle="龘靐齉爩")  # rare characters too
    assert missing_characters(font, "新春特惠龘靐齉爩") == []
    full = render_glyphs(spec, W, H, font)
    alone = render_glyphs(PosterSpec(subtitle="龘靐齉爩"), W, H, font)
    assert np.array_equal(_crop(full.filled, full.boxes["subtitle"]), _crop(alone.filled, alone.boxes["subtitle"]))
    assert _crop(full.filled, full.boxes["headline"]).any()
