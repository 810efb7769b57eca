"""`generate --negative TEXT --cfg X` (DESIGN.md's CLI contract): taken into the request and the
image's metadata; Turbo accepts them with one note; a bad CFG is one sentence and exit 2."""

import json
import shutil

import pytest

from zimage_desktop.cli import main
from zimage_desktop.history.metadata import read_png_metadata

ARGS = ["--prompt", "a kite", "--seed", "4", "--width", "256", "--height", "256", "--steps", "2", "--no-history"]


def test_turbo_takes_the_flags_and_notes_once_that_they_do_nothing(tiny_models, tmp_path, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.comfy), *ARGS, "--count", "2", "--negative", "blurry",
                 "--cfg", "5", "--out", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr()
    assert out.err.count("no effect") == 1
    records = [json.loads(line) for line in out.out.splitlines()]
    assert [r["cfg"] for r in records] == [5.0, 5.0]
    back = read_png_metadata(tmp_path / "t-1.png").request
    assert (back.negative_prompt, back.cfg) == ("blurry", 5.0)


def test_the_base_model_uses_its_default_steps_and_cfg(tiny_models, tmp_path, data_dir, capsys):
    folder = tmp_path / "tiny-z-image-base"
    shutil.copytree(tiny_models.diffusers, folder)
    args = [a for a in ARGS if a not in ("--steps", "2")]
    from zimage_desktop.engine.architectures import Z_IMAGE_BASE
    from zimage_desktop.cli.common import model_default_steps

    assert model_default_steps(folder, None) == Z_IMAGE_BASE.default_steps
    assert main(["generate", "--models", str(folder), *args, "--steps", "2", "--negative", "grey",
                 "--out", str(tmp_path / "b.png")]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert record["cfg"] == Z_IMAGE_BASE.default_cfg
    back = read_png_metadata(tmp_path / "b.png")
    assert (back.request.negative_prompt, back.request.cfg) == ("grey", Z_IMAGE_BASE.default_cfg)
    assert back.model["arch"] == "z-image-base"


@pytest.mark.parametrize("value", ["abc", "-2", "nan", "99"])
def test_a_bad_cfg_is_one_line_and_exit_2(tmp_path, data_dir, capsys, value):
    assert main(["generate", "--models", str(tmp_path), *ARGS, "--cfg", value]) == 2
    err = capsys.readouterr().err
    assert "--cfg" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
