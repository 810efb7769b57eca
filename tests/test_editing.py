"""The Qt-free editing helpers: reading sources and masks, feathering, compositing, and the
geometry of "only the masked area" and outpainting."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from zimage_desktop.engine import editing
from zimage_desktop.engine.editing import (
    OutpaintGeometry, composite, feathered_mask, fit_size, load_mask, load_source_image, mask_bbox,
    masked_crop_box, outpaint_canvas, outpaint_geometry, working_size,
)
from zimage_desktop.errors import BadInputError


def _noise(size, seed=0, mode="RGB"):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").convert(mode)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view, as phones write it
    img.save(tmp_path / "phone.jpg", exif=exif.tobytes())
    loaded, notes = load_source_image(tmp_path / "phone.jpg")
    assert loaded.size == (20, 40) and loaded.mode == "RGB" and notes == ()


def test_alpha_is_flattened_onto_white_and_said(tmp_path):
    img = Image.new("RGBA", (32, 32), (10, 20, 30, 0))
    img.putpixel((0, 0), (10, 20, 30, 255))
    img.save(tmp_path / "a.png")
    loaded, notes = load_source_image(tmp_path / "a.png")
    assert loaded.getpixel((5, 5)) == (255, 255, 255) and loaded.getpixel((0, 0)) == (10, 20, 30)
    assert len(notes) == 1 and "transparent" in notes[0]


def test_cmyk_and_16_bit_are_converted(tmp_path):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    loaded, notes = load_source_image(tmp_path / "c.jpg")
    assert loaded.mode == "RGB" and loaded.getpixel((8, 8))[0] > 200 and "CMYK" in notes[0]
    wide = Image.fromarray(np.full((16, 16), 65535, dtype=np.uint16))
    wide.save(tmp_path / "w.png")
    loaded, notes = load_source_image(tmp_path / "w.png")
    assert loaded.getpixel((3, 3)) == (255, 255, 255) and "16-bit" in notes[0]


def test_animation_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in ("blue", "green")]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:], lossless=True)
    loaded, notes = load_source_image(tmp_path / "anim.webp")
    assert loaded.getpixel((8, 8)) == (0, 0, 255) and "first frame" in notes[0]


def test_unreadable_truncated_and_oversized_images_are_one_sentence(tmp_path, monkeypatch):
    (tmp_path / "x.png").write_bytes(b"not an image")
    with pytest.raises(BadInputError, match="not an image that can be read"):
        load_source_image(tmp_path / "x.png")
    buf = io.BytesIO()
    _noise((64, 64)).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(BadInputError, match="damaged or cut short"):
        load_source_image(tmp_path / "cut.png")
    monkeypatch.setattr(editing, "MAX_SOURCE_PIXELS", 32 * 32)
    _noise((64, 64)).save(tmp_path / "big.png")
    with pytest.raises(BadInputError, match="64×64, more than"):
        load_source_image(tmp_path / "big.png")
    with pytest.raises(BadInputError, match="does not exist"):
        load_source_image(tmp_path / "gone.png")


def test_mask_of_another_size_is_resized_and_an_empty_one_refused(tmp_path):
    mask = Image.new("L", (50, 50), 0)
    mask.paste(255, (10, 10, 20, 20))
    mask.save(tmp_path / "m.png")
    loaded, notes = load_mask(tmp_path / "m.png", (100, 100))
    assert loaded.size == (100, 100) and loaded.getpixel((30, 30)) == 255 and "resized" in notes[0]
    Image.new("L", (100, 100), 0).save(tmp_path / "empty.png")
    with pytest.raises(BadInputError, match="mask is empty"):
        load_mask(tmp_path / "empty.png", (100, 100))


def test_a_mask_painted_on_a_transparent_layer_means_its_alpha(tmp_path):
    layer = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle((4, 4, 11, 11), fill=(0, 0, 0, 255))  # black paint, as editors save it
    layer.save(tmp_path / "layer.png")
    loaded, _ = load_mask(tmp_path / "layer.png", (32, 32))
    assert loaded.getpixel((6, 6)) == 255 and loaded.getpixel((20, 20)) == 0


@pytest.mark.parametrize("blur", [0, 4, 8, 13, 64])
def test_pixels_beyond_the_feather_are_exactly_the_sources(blur):
    source, made = _noise((200, 160), 1), _noise((200, 160), 2)
    mask = Image.new("L", source.size, 0)
    ImageDraw.Draw(mask).ellipse((70, 50, 120, 90), fill=255)
    alpha = feathered_mask(mask, blur)
    out = np.asarray(composite(source, made, alpha))
    hard = np.asarray(mask) > 0
    ys, xs = np.nonzero(hard)
    near = np.zeros_like(hard)
    for y, x in zip(ys, xs):  # Chebyshev distance ≤ blur from some mask pixel
        near[max(0, y - blur):y + blur + 1, max(0, x - blur):x + blur + 1] = True
    assert np.array_equal(out[~near], np.asarray(source)[~near])
    assert np.array_equal(out[hard], np.asarray(made)[hard])  # what the user painted is fully redrawn
    if blur >= 4:
        soft = np.asarray(alpha)[near & ~hard]
        assert ((soft > 0) & (soft < 255)).any()  # a real feather, not a hard edge


def test_masked_crop_box_keeps_padding_aspect_and_the_image():
    box = masked_crop_box((100, 100, 140, 120), (1000, 800), 32)
    assert box == (68, 68, 172, 152)
    wide = masked_crop_box((100, 100, 140, 120), (1000, 800), 32, aspect=2.0)
    assert (wide[2] - wide[0]) / (wide[3] - wide[1]) == pytest.approx(2.0, abs=0.02)
    assert wide[0] <= 68 and wide[2] >= 172
    corner = masked_crop_box((0, 0, 30, 30), (1000, 800), 32, aspect=1.0)
    assert corner[:2] == (0, 0) and corner[2] - corner[0] == corner[3] - corner[1]
    edge = masked_crop_box((950, 10, 999, 20), (1000, 800), 32, aspect=3.0)
    assert edge[2] == 1000 and edge[0] >= 0 and (edge[2] - edge[0]) >= 3 * (edge[3] - edge[1]) - 3
    with pytest.raises(BadInputError):
        mask_bbox(Image.new("L", (8, 8), 0))


def test_a_small_crop_is_worked_at_the_models_resolution():
    w, h = working_size(104, 84)
    assert w % 16 == 0 and h % 16 == 0 and 0.85e6 < w * h < 1.25e6 and w / h == pytest.approx(104 / 84, rel=0.05)


@pytest.mark.parametrize("source, sides", [((1024, 768), (128, 0, 128, 0)), ((1000, 750), (0, 37, 0, 0)),
                                           ((300, 300), (10, 20, 30, 40))])
def test_outpaint_by_sides_gives_a_valid_canvas_that_holds_the_source(source, sides):
    geo = outpaint_geometry(source, sides)
    assert geo.size[0] % 16 == 0 and geo.size[1] % 16 == 0
    assert all(got >= want for got, want in zip(geo.sides, sides))
    assert geo.inner == source


@pytest.mark.parametrize("target", [(1344, 768), (1024, 1024), (1536, 640)])
def test_outpaint_to_a_format_centres_the_source(target):
    geo = outpaint_geometry((768, 1024), target=target)
    assert geo.size == target
    assert abs(geo.sides[0] - geo.sides[2]) <= 1 and abs(geo.sides[1] - geo.sides[3]) <= 1
    assert geo.inner[0] / geo.inner[1] == pytest.approx(768 / 1024, rel=0.01)


def test_outpaint_canvas_keeps_the_source_and_masks_only_the_new_area():
    source = _noise((64, 48), 3)
    geo = OutpaintGeometry((96, 64), (16, 8, 16, 8))
    canvas, mask = outpaint_canvas(source, geo)
    assert canvas.size == (96, 64)
    assert np.array_equal(np.asarray(canvas)[8:56, 16:80], np.asarray(source))
    m = np.asarray(mask)
    assert (m[8:56, 16:80] == 0).all() and (m[:8] == 255).all() and (m[:, :16] == 255).all()


def test_fit_size_keeps_aspect_within_bounds():
    assert fit_size(1024, 768) == (1024, 768)
    w, h = fit_size(4000, 3000)
    assert w == 2048 and h % 16 == 0 and w / h == pytest.approx(4 / 3, rel=0.02)
    assert min(fit_size(100, 200)) >= 256
