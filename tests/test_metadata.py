import json
import struct
import zlib
import pytest
from PIL import Image, PngImagePlugin

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import BadInputError
from zimage_desktop.history.metadata import a1111_parameters, read_png_metadata, write_png

MODEL = {"name": "z_image_turbo_bf16", "hash": "2407613050", "files": []}


def test_round_trip_with_chinese_and_multiline_prompt(tmp_path):
    req = GenerationRequest(prompt="海报，标题文字“新春特惠”\n副标题 \"Spring Sale\"", seed=7, width=1152, height=896,
                            extra={"poster": {"headline": "新春特惠"}})
    path = write_png(tmp_path / "a.png", Image.new("RGB", (64, 48), "red"), req, MODEL, {"total_s": 1.5})
    back = read_png_metadata(path)
    assert back.source == "zimage" and back.request == req and back.request.extra == req.extra
    assert back.model["hash"] == "2407613050"
    assert list(tmp_path.iterdir()) == [path]  # the temporary file is gone


def test_a1111_text_is_what_other_tools_parse():
    req = GenerationRequest(prompt="a cat", seed=42, width=1280, height=720)
    text = a1111_parameters(req, MODEL)
    assert text.splitlines() == [
        "a cat",
        "Steps: 8, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Seed: 42, Size: 1280x720, "
        "Model hash: 2407613050, Model: z_image_turbo_bf16, Version: zimage-desktop 0.1.0",
    ]


def _png_with(tmp_path, **chunks):
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key, value)
    path = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_reads_a1111_images(tmp_path):
    text = ("masterpiece, 一只猫\nsecond line\nNegative prompt: ugly\n"
            "Steps: 20, Sampler: DPM++ 2M, CFG scale: 7, Seed: 123, Size: 832x1216, Model: \"sd, xl\"")
    back = read_png_metadata(_png_with(tmp_path, parameters=text))
    assert back.source == "a1111"
    assert back.request.prompt == "masterpiece, 一只猫\nsecond line"
    assert (back.request.seed, back.request.steps, back.request.width, back.request.height) == (123, 20, 832, 1216)
    # Kept for a model that uses them (Z-Image base); Turbo says at run time that it does not.
    assert (back.request.negative_prompt, back.request.cfg) == ("ugly", 7.0)


def test_damaged_zimage_chunk_falls_back_with_a_note(tmp_path):
    path = _png_with(tmp_path, zimage='{"request": {"prompt": "x", "width": 17}}',
                     parameters="a dog\nSteps: 8, Seed: 5, Size: 512x512")
    back = read_png_metadata(path)
    assert back.source == "a1111" and back.request.prompt == "a dog"
    assert any("damaged" in n for n in back.notes)


def test_no_metadata(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(path)
    back = read_png_metadata(path)
    assert back.source == "none" and back.request is None


def test_json_bomb_is_rejected(tmp_path):
    back = read_png_metadata(_png_with(tmp_path, zimage="[" * 100000 + "]" * 100000))
    assert back.request is None and back.notes


def test_not_a_png(tmp_path):
    path = tmp_path / "fake.png"
    path.write_bytes(b"not an image")
    with pytest.raises(BadInputError, match="not a readable PNG"):
        read_png_metadata(path)


def test_failed_write_leaves_nothing(tmp_path):
    class Broken:
        def save(self, *a, **k):
            raise OSError("disk full")

    with pytest.raises(OSError):
        write_png(tmp_path / "b.png", Broken(), GenerationRequest(prompt="x"), MODEL)
    assert list(tmp_path.iterdir()) == []


def test_reads_comfyui_prompt_chunk(tmp_path):
    graph = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 777, "steps": 9, "cfg": 1.0, "positive": ["6", 0],
                                                   "negative": ["7", 0], "latent_image": ["5", 0]}},
        "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1152, "height": 896, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "一只熊猫 a panda", "clip": ["4", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 0]}},
    }
    back = read_png_metadata(_png_with(tmp_path, prompt=json.dumps(graph), workflow="{}"))
    assert back.source == "comfyui"
    r = back.request
    assert (r.prompt, r.seed, r.steps, r.width, r.height) == ("一只熊猫 a panda", 777, 9, 1152, 896)


def test_hostile_metadata_is_rejected_with_a_message(tmp_path):
    # a text chunk far beyond PIL's limit (compressed, so the file stays small)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("zimage", "x" * 5_000_000, zip=True)
    path = tmp_path / "huge.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    back = read_png_metadata(path)  # inflated only up to the bound, then ignored with a note
    assert back.request is None and any("too large" in n for n in back.notes)
    # an iTXt chunk whose text is not valid UTF-8
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    data = (tmp_path / "plain.png").read_bytes()
    body = b"zimage\x00\x00\x00\x00\x00" + b"\xff\xfe{not utf-8"
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    bad = tmp_path / "bad-utf8.png"
    bad.write_bytes(data[:33] + chunk + data[33:])  # right after IHDR
    try:
        back = read_png_metadata(bad)
    except BadInputError:
        pass  # refused with a message
    else:
        assert back.request is None and back.notes  # or ignored, with a note


def test_decompression_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(path)  # 900 MPixel of zeros compresses to a small file
    with pytest.raises(BadInputError, match="not a readable PNG"):
        read_png_metadata(path)
