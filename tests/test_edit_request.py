"""The editing fields of GenerationRequest: defaults, validation sentences and the saved form."""

import pytest

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import BadInputError

SHA = "ab" * 32


def test_old_saved_requests_are_text_to_image():
    old = {"prompt": "a cat", "width": 512, "height": 512, "seed": 3, "schema": 2, "scheduler": "simple"}
    req = GenerationRequest.from_dict(old)
    assert req.mode == "txt2img" and req.strength == 1.0 and req.source is None and not req.is_edit


def test_saved_form_names_source_and_mask_by_content_address_only():
    req = GenerationRequest(prompt="p", mode="inpaint", source="/home/u/a.png", source_sha256=SHA,
                            mask="/home/u/m.png", mask_sha256="cd" * 32, strength=0.6, source_entry=4)
    data = req.to_dict()
    assert "source" not in data and "mask" not in data and data["source_sha256"] == SHA
    # A path planted in saved data is never taken over.
    back = GenerationRequest.from_dict({**data, "source": "/etc/passwd", "mask": "/etc/shadow"})
    assert back.source is None and back.mask is None
    assert back.mode == "inpaint" and back.strength == 0.6 and back.source_entry == 4
    # for_seed keeps the files: it re-makes the same image from the same source.
    assert req.for_seed(9).source == "/home/u/a.png" and req.for_seed(9).seed == 9


def test_outpaint_sides_survive_json():
    req = GenerationRequest(prompt="p", mode="outpaint", source_sha256=SHA, outpaint=(64, 0, 64, 0),
                            width=1152, height=1024)
    assert GenerationRequest.from_json(req.to_json()).outpaint == (64, 0, 64, 0)


@pytest.mark.parametrize("kwargs, words", [
    ({"mode": "sketch"}, "mode 'sketch' is not known"),
    ({"mode": "img2img"}, "needs a source image"),
    ({"mode": "img2img", "source": "a.png", "strength": 0}, "strength must be above 0"),
    ({"mode": "img2img", "source": "a.png", "strength": 1.5}, "strength must be above 0"),
    ({"mode": "img2img", "source": "a.png", "strength": float("nan")}, "strength must be above 0"),
    ({"mode": "inpaint", "source": "a.png"}, "needs a mask"),
    ({"mode": "outpaint", "source": "a.png"}, "four whole numbers"),
    ({"mode": "outpaint", "source": "a.png", "outpaint": (0, 0, 0, 0)}, "at least one above 0"),
    ({"mode": "outpaint", "source": "a.png", "outpaint": (-16, 0, 32, 0)}, "none below 0"),
    ({"mode": "outpaint", "source": "a.png", "outpaint": (512, 0, 512, 0)}, "no room for the picture"),
    ({"mode": "upscale", "source": "a.png", "upscale": 8}, "between 1 and 4"),
    ({"mode": "img2img", "source": "a.png", "width": 1000}, "multiple of 16"),
    ({"mask_blur": 100}, "feather"),
    ({"source_sha256": "../../x"}, "SHA-256"),
])
def test_bad_edit_requests_are_one_sentence(kwargs, words):
    with pytest.raises(BadInputError) as info:
        GenerationRequest(prompt="p", **kwargs)
    assert words in str(info.value) and str(info.value).count(". ") == 0
