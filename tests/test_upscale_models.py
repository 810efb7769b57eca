"""Upscale models through spandrel: ESRGAN files as they are published (the original ESRGAN layout
and BasicSR's, ×2 and ×4, .pth and .safetensors) give exactly the picture spandrel's own loader
and model make; tiles, sizes, bad files and Lanczos; and spandrel imports where torchvision is
missing or broken, without ever shadowing a working one."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from zimage_desktop.devkit.upscalers import esrgan_state_dict, write_upscaler
from zimage_desktop.engine.upscalers import (
    LANCZOS,
    load_upscaler,
    pixel_upscale,
    run_tiled,
    to_image,
    upscale_model_files,
)
from zimage_desktop.errors import BadInputError

spandrel = pytest.importorskip("zimage_desktop.engine.spandrel_import").import_spandrel()


def _source(size=(24, 20), seed=3):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (size[1] // 4, size[0] // 4, 3), dtype=np.uint8)
    return Image.fromarray(base).resize(size, Image.Resampling.BICUBIC)


def _spandrel_own(path, image):
    """The reference: spandrel's own file loader and model, run on the whole picture."""
    model = spandrel.ModelLoader().load_from_file(str(path)).eval()
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.inference_mode():
        return to_image(model(pixels).float()), model.scale


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("layout", ["old", "new"])
def test_published_layouts_upscale_exactly_as_spandrel_runs_them(tmp_path, layout, scale, suffix):
    path = write_upscaler(tmp_path / f"{scale}x-{layout}{suffix}", esrgan_state_dict(scale, layout, seed=scale),
                          wrap=layout == "new" and suffix == ".pth")
    source = _source()
    size = (source.width * scale, source.height * scale)
    ours, notes = pixel_upscale(source, size, tmp_path, float(scale), path.name)
    reference, ref_scale = _spandrel_own(path, source)
    assert ref_scale == scale and ours.size == size
    assert np.array_equal(np.asarray(ours), np.asarray(reference))
    assert np.asarray(ours).std() > 20  # a real picture, not a clamped blank
    assert notes == [f"Upscaled with {path.name}."]


def test_tiles_join_without_seams(tmp_path):
    path = write_upscaler(tmp_path / "4x.safetensors", esrgan_state_dict(4, "old"))
    model = load_upscaler(path)
    source = _source((48, 40))
    whole = np.asarray(run_tiled(model, source, tile=1024)).astype(int)
    tiled = np.asarray(run_tiled(model, source, tile=24, margin=20)).astype(int)  # 4 tiles
    assert whole.shape == tiled.shape == (160, 192, 3)
    assert np.abs(whole - tiled).max() <= 1  # float order of the convolutions only
    assert (whole != tiled).mean() < 0.01


def test_a_scale_between_model_scales_is_fitted_with_lanczos(tmp_path):
    path = write_upscaler(tmp_path / "2x.pth", esrgan_state_dict(2, "old"))
    source = _source()
    out, _ = pixel_upscale(source, (36, 30), tmp_path, 1.5, path.name)
    reference, _ = _spandrel_own(path, source)
    assert out.size == (36, 30)
    assert np.array_equal(np.asarray(out), np.asarray(reference.resize((36, 30), Image.Resampling.LANCZOS)))


def test_no_model_or_lanczos_chosen_is_plain_lanczos(tmp_path):
    source = _source()
    expected = np.asarray(source.resize((48, 40), Image.Resampling.LANCZOS))
    out, notes = pixel_upscale(source, (48, 40), tmp_path / "none", 2.0)
    assert np.array_equal(np.asarray(out), expected) and notes == []
    write_upscaler(tmp_path / "4x.safetensors", esrgan_state_dict(4, "old"))
    out, notes = pixel_upscale(source, (48, 40), tmp_path, 2.0, LANCZOS)
    assert np.array_equal(np.asarray(out), expected) and notes == []


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def _bad_files(folder):
    (folder / "truncated.safetensors").write_bytes(
        write_upscaler(folder / "t.safetensors", esrgan_state_dict(2)).read_bytes()[:300])
    (folder / "t.safetensors").unlink()
    (folder / "noise.pth").write_bytes(os.urandom(2000))
    torch.save({"weights": _Payload()}, str(folder / "code.pth"))
    write_upscaler(folder / "vae.safetensors", {"encoder.conv_in.weight": torch.zeros(8, 3, 3, 3)})
    write_upscaler(folder / "1x.pth", {"model.0.weight": torch.zeros(1)} | {
        k: v for k, v in esrgan_state_dict(2).items() if not k.startswith("model.0.")})
    torch.save([1, 2, 3], str(folder / "list.pth"))


@pytest.mark.parametrize("name, words", [
    ("truncated.safetensors", "cannot be read"), ("noise.pth", "cannot be read"), ("code.pth", "cannot be read"),
    ("vae.safetensors", "is not an upscale model spandrel knows"), ("1x.pth", "spandrel knows"),
    ("list.pth", "holds no model weights"), ("absent.pth", "is not in")])
def test_bad_files_are_one_sentence_and_lanczos_only_when_picked_by_default(tmp_path, capfd, name, words):
    _bad_files(tmp_path)
    with pytest.raises(BadInputError) as err:
        pixel_upscale(_source(), (48, 40), tmp_path, 2.0, name)
    text = str(err.value)
    assert words in text and "\n" not in text and text.count(". ") == 0 and len(text) < 200
    assert "owned" not in capfd.readouterr().out  # the pickled code never ran


def test_a_broken_file_picked_by_default_falls_back_with_a_note(tmp_path):
    _bad_files(tmp_path)
    assert upscale_model_files(tmp_path)[0].name == "1x.pth"
    out, notes = pixel_upscale(_source(), (48, 40), tmp_path, 2.0)
    assert out.size == (48, 40) and "Lanczos was used" in notes[0]


_PROBE = textwrap.dedent("""
    import sys
    from zimage_desktop.engine.spandrel_import import import_spandrel
    import_spandrel()
    restore = sys.modules["spandrel.architectures.RestoreFormer"]
    print("left:", sorted(m for m in sys.modules if m.startswith("torchvision")))
    print("normalize from:", restore.tv_normalize.__module__)
    import zimage_desktop.engine.upscalers  # the ESRGAN path works either way
    import torch
    out = restore.tv_normalize(torch.ones(3, 2, 2), [0.5] * 3, [0.25] * 3)
    print("normalize:", float(out.mean()))
""")


@pytest.mark.parametrize("torchvision", ["broken", "working"])
def test_spandrel_imports_beside_a_broken_torchvision_and_never_shadows_a_working_one(tmp_path, torchvision):
    fake = tmp_path / "site" / "torchvision"
    (fake / "transforms").mkdir(parents=True)
    if torchvision == "broken":  # what PyPI's CUDA wheel does beside a CPU torch
        (fake / "__init__.py").write_text("from . import extension\n")
        (fake / "extension.py").write_text("raise RuntimeError('libtorch_cuda.so: cannot open shared object')\n")
    else:
        (fake / "__init__.py").write_text("")
        (fake / "transforms" / "__init__.py").write_text("")
        (fake / "transforms" / "functional.py").write_text(
            "import enum\nclass InterpolationMode(enum.Enum):\n    BILINEAR = 'bilinear'\n"
            "def rotate(*a, **k): pass\n"
            "def normalize(t, mean, std, inplace=False):\n    return (t - mean[0]) / std[0]\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    if torchvision == "broken":
        assert "left: []" in done.stdout
        assert "normalize from: zimage_desktop.engine.spandrel_import" in done.stdout
    else:
        assert "normalize from: torchvision.transforms.functional" in done.stdout
    assert "normalize: 2.0" in done.stdout


def test_cli_upscale_with_a_model_records_it_in_the_png_and_the_comfy_graph(comfy_copy, tmp_path, capsys):
    import json

    from zimage_desktop.cli import main

    model = write_upscaler(comfy_copy / "upscale_models" / "2x-tiny.pth", esrgan_state_dict(2, "new", seed=1),
                           wrap=True)
    source = tmp_path / "src.png"
    _source((128, 128)).save(source)
    out = tmp_path / "big.png"
    assert main(["--data-dir", str(tmp_path / "d"), "upscale", str(source), "--scale", "2", "--strength", "0.3",
                 "--steps", "2", "--prompt", "a lake", "--models", str(comfy_copy), "--device", "cpu",
                 "--no-history", "--out", str(out)]) == 0
    png = Image.open(out)
    assert png.size == (256, 256)
    assert json.loads(png.text["zimage"])["request"]["upscale_model"] == model.name
    graph = json.loads(png.text["prompt"])
    loader = next(n for n in graph.values() if n["class_type"] == "UpscaleModelLoader")
    assert loader["inputs"]["model_name"] == model.name
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path / "d"), "upscale", str(source), "--scale", "2", "--models", str(comfy_copy),
                 "--upscale-model", "4x-absent.pth", "--device", "cpu", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "4x-absent.pth is not in" in err and not (tmp_path / "x.png").exists()
