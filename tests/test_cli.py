"""The command line, in-process (fast) and as real processes (the done-when scenario)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from zimage_desktop.cli import main
from zimage_desktop.history.metadata import read_png_metadata


def run_cli(*args, env_extra=None, timeout=600):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "zimage_desktop", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.slow
def test_done_when_scenario(tiny_models, tmp_path, data_dir):
    """Default 1024², metadata reads back to the same request, same seed → identical image."""
    prompt = "海报 “新春特惠”"
    outs = []
    for name in ("x.png", "y.png"):
        proc = run_cli("generate", "--models", str(tiny_models.comfy), "--prompt", prompt, "--seed", "7",
                       "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        record = json.loads(proc.stdout.strip().splitlines()[-1])
        assert record["seed"] == 7 and record["path"] == str(tmp_path / name)
        outs.append(tmp_path / name)
    a, b = (np.asarray(Image.open(p)) for p in outs)
    assert a.shape == (1024, 1024, 3) and np.array_equal(a, b)
    back = read_png_metadata(outs[0])
    assert back.request.prompt == prompt and back.request.seed == 7
    assert (back.request.width, back.request.height, back.request.steps, back.request.count) == (1024, 1024, 8, 1)
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_self_test_command():
    proc = run_cli("self-test")
    assert proc.returncode == 0, proc.stderr
    assert "self-test passed" in proc.stdout
    assert proc.stdout.count("ok ") == 4  # the libraries, then the three model layouts
    assert "ok   libraries:" in proc.stdout.splitlines()[0]


def test_generate_count_previews_and_out_names(tiny_models, tmp_path, data_dir, capsys):
    rc = main(["generate", "--models", str(tiny_models.gguf), "--prompt", "a cat", "--seed", "100", "--count", "2",
               "--width", "256", "--height", "256", "--out", str(tmp_path / "cat.png"),
               "--preview-dir", str(tmp_path / "previews")])
    assert rc == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["seed"], os.path.basename(r["path"])) for r in lines] == [(100, "cat-1.png"), (101, "cat-2.png")]
    previews = sorted(p.name for p in (tmp_path / "previews").iterdir())
    assert len(previews) == 16 and previews[0] == "image1-step01.png"
    assert Image.open(tmp_path / "previews" / previews[0]).size == (32, 32)


def test_generate_into_folder_and_default_images_dir(tiny_models, tmp_path, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "a", "--width", "256", "--height", "256",
                 "--seed", "1", "--out", str(tmp_path / "folder")]) == 0
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "a", "--width", "256", "--height", "256"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0]["path"].startswith(str(tmp_path / "folder")) and records[0]["path"].endswith("-1.png")
    assert records[1]["path"].startswith(str(data_dir / "images"))
    assert 0 <= records[1]["seed"] < 2**32  # a random seed, recorded


def test_data_dir_option_moves_default_models_and_images(tiny_models, tmp_path, capsys):
    import shutil

    data = tmp_path / "elsewhere"
    shutil.copytree(tiny_models.comfy, data / "models")
    assert main(["generate", "--data-dir", str(data), "--prompt", "a", "--width", "256", "--height", "256"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"].startswith(str(data / "images"))


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["generate", "--prompt", "x", "--width", "1000"], "nearest: 992"),
        (["generate", "--prompt", ""], "prompt is empty"),
        (["generate", "--prompt", "x", "--steps", "abc"], "not a whole number"),
        (["generate", "--prompt", "x", "--device", "tpu"], "invalid choice"),
        (["generate"], "--prompt"),
        (["nonsense"], "invalid choice"),
        (["generate", "--prompt", "x", "--models", "{missing}"], "does not exist"),
        (["generate", "--prompt", "x", "--models", "{sdxl}"], "SDXL"),
        (["generate", "--prompt", "x", "--models", "{pickle}"], "pickle"),
        (["generate", "--prompt", "x", "--models", "{comfy}", "--transformer", "evil.ckpt"], "pickle"),
        (["generate", "--prompt", "字" * 600, "--models", "{comfy}"], "tokens long"),
    ],
)
def test_bad_input_exit_2_with_one_line(args, fragment, tiny_models, tmp_path, data_dir, capsys):
    import torch
    from safetensors.torch import save_file

    sdxl = tmp_path / "sdxl"
    (sdxl / "diffusion_models").mkdir(parents=True)
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(2, 2),
               "model.diffusion_model.label_emb.0.0.weight": torch.zeros(2, 2)},
              sdxl / "diffusion_models" / "sdxl.safetensors")
    pickle = tmp_path / "pickle"
    (pickle / "diffusion_models").mkdir(parents=True)
    (pickle / "diffusion_models" / "z.ckpt").write_bytes(b"\x80")
    folders = {"{missing}": str(tmp_path / "missing"), "{sdxl}": str(sdxl), "{pickle}": str(pickle),
               "{comfy}": str(tiny_models.comfy)}
    args = [folders.get(a, a) for a in args]
    assert main(args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert captured.out == ""


def test_bad_input_exit_code_from_a_real_process(tmp_path):
    proc = run_cli("generate", "--prompt", "x", "--height", "17", env_extra={"ZIMAGE_DESKTOP_DATA": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: The height 17") and len(proc.stderr.strip().splitlines()) == 1


def test_info_json(tiny_models, data_dir, capsys):
    assert main(["info", "--json", "--models", str(tiny_models.gguf)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["models"]["installed"] and report["models"]["form"] == "single_files"
    assert any(f.endswith(".gguf") for f in report["models"]["files"])
    assert report["machine"]["total_ram"] > 0 and report["data_dir"] == str(data_dir.resolve())


def test_info_text_reports_missing_models(data_dir, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "Models: not ready" in out and "RAM" in out


def test_data_dir_before_or_after_the_sub_command(tiny_models, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ZIMAGE_DESKTOP_DATA", raising=False)
    for where in ("before", "after"):
        data = tmp_path / where
        opts = ["--data-dir", str(data)]
        args = ["info", "--json"]
        assert main(opts + args if where == "before" else args + opts) == 0
        assert json.loads(capsys.readouterr().out)["data_dir"] == str(data.resolve())


def test_info_shows_the_plan(tiny_models, data_dir, capsys):
    assert main(["info", "--models", str(tiny_models.gguf)]) == 0
    out = capsys.readouterr().out
    assert "Profile cpu: GGUF Q8_0 transformer (the best that fits) on the CPU" in out
    assert main(["info", "--json", "--models", str(tiny_models.gguf), "--profile", "6gb"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    # Only Q8_0 is installed: it runs now (the tiny file fits, by its real size), and Q4_K and the
    # GGUF encoder are what to download.
    assert plan["profile"] == "6gb" and plan["transformer_form"] == "Q8_0"
    assert "using Q8_0" in plan["warnings"][-1] and "(installed)" in plan["explanation"]
    assert plan["needs"][:2] == ["transformer-gguf-q3_k_s", "text-encoder-gguf-q6_k"]
    assert plan["missing"] == ["transformer-gguf-q3_k_s", "text-encoder-gguf-q6_k"]


def test_generate_with_a_profile(tiny_models, tmp_path, data_dir, capsys):
    """--profile 6gb with --device cpu runs the 6gb plan's code path (GGUF, model offload) here."""
    assert main(["generate", "--models", str(tiny_models.gguf), "--prompt", "a", "--width", "256", "--height", "256",
                 "--seed", "3", "--profile", "6gb", "--device", "cpu", "--out", str(tmp_path / "p.png")]) == 0
    record = json.loads(capsys.readouterr().out)
    meta = read_png_metadata(tmp_path / "p.png")
    assert record["seed"] == 3 and meta.request.profile == "6gb" and meta.model["profile"] == "6gb"


def test_unknown_profile_is_bad_input(tiny_models, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.gguf), "--prompt", "a", "--profile", "3gb"]) == 2
    assert "Unknown profile" in capsys.readouterr().err


def test_info_names_the_configs_among_what_to_download(comfy_copy, data_dir, capsys):
    """Issue 29 item 15: without the configs (the tokenizer) nothing loads, so `info` must say to get them."""
    import shutil

    assert main(["info"]) == 0  # an empty models folder: everything, the configs included
    out = capsys.readouterr().out
    assert "to download:" in out and "configs" in out.split("to download:")[1]
    shutil.rmtree(comfy_copy / "configs")
    assert main(["info", "--json", "--models", str(comfy_copy)]) == 0
    assert "configs" in json.loads(capsys.readouterr().out)["plan"]["missing"]
    assert main(["models", "plan", "--models", str(comfy_copy)]) == 0
    assert "configs" in capsys.readouterr().out
