"""Seeds are 64-bit everywhere: request, CLI, history database, PNG metadata, GUI, recall."""

import json
import sqlite3

import pytest

from zimage_desktop.cli import main
from zimage_desktop.engine.request import MAX_SEED, GenerationRequest
from zimage_desktop.errors import BadInputError
from zimage_desktop.history.metadata import build_pnginfo, read_png_metadata
from zimage_desktop.history.store import HistoryStore

COMFY_EXAMPLE_SEED = 47447417949230  # the official Z-Image example image's seed


def test_request_takes_every_64_bit_seed_and_wraps_count_at_2_64():
    assert MAX_SEED == 2**64 - 1
    assert GenerationRequest(prompt="x", seed=COMFY_EXAMPLE_SEED).seed == COMFY_EXAMPLE_SEED
    req = GenerationRequest(prompt="x", seed=MAX_SEED - 1, count=3)
    assert req.seeds == [MAX_SEED - 1, MAX_SEED, 0]
    assert req.for_seed(MAX_SEED).seed == MAX_SEED
    for bad in (-1, 2**64, True, 1.0):
        with pytest.raises(BadInputError, match="seed"):
            GenerationRequest(prompt="x", seed=bad)


def test_history_keeps_seeds_above_2_63_and_old_rows_still_read(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    big = store.add(GenerationRequest(prompt="big", seed=MAX_SEED), tmp_path / "a.png")
    comfy = store.add(GenerationRequest(prompt="comfy", seed=COMFY_EXAMPLE_SEED), tmp_path / "b.png")
    # a row written by an earlier version: request JSON without sampler/scheduler fields
    old_json = json.dumps({"prompt": "old", "seed": 5, "width": 1024, "height": 1024, "steps": 9, "count": 1,
                           "transformer": None, "profile": "auto", "extra": {}, "schema": 1})
    with store.transaction() as conn:
        conn.execute("INSERT INTO images (created, prompt, request_json, seed, width, height, path) "
                     "VALUES (1, 'old', ?, 5, 1024, 1024, '/old.png')", (old_json,))
    assert store.get(big).request.seed == MAX_SEED
    assert store.get(comfy).request.seed == COMFY_EXAMPLE_SEED
    old = next(r for r in store.page() if r.prompt == "old")
    assert old.request.seed == 5 and old.request.steps == 9
    assert old.request.scheduler == "diffusers"  # made with the pipeline's own schedule: re-made with it
    store.close()
    raw = sqlite3.connect(tmp_path / "h.sqlite3").execute("SELECT seed FROM images WHERE id=?", (big,)).fetchone()[0]
    assert raw == MAX_SEED - 2**64  # the signed column holds it losslessly


def test_png_metadata_keeps_a_64_bit_seed(tmp_path):
    from PIL import Image

    req = GenerationRequest(prompt="a cat", seed=MAX_SEED, width=256, height=256)
    path = tmp_path / "a.png"
    Image.new("RGB", (16, 16)).save(path, pnginfo=build_pnginfo(req, {"name": "tiny"}))
    with Image.open(path) as img:
        assert f"Seed: {MAX_SEED}," in img.info["parameters"]
    assert read_png_metadata(path).request.seed == MAX_SEED


def test_cli_generates_with_a_comfyui_seed_and_history_shows_it(tiny_models, tmp_path, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "a comfy seed",
                 "--seed", str(COMFY_EXAMPLE_SEED), "--width", "256", "--height", "256",
                 "--out", str(tmp_path / "c.png")]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["seed"] == COMFY_EXAMPLE_SEED
    assert read_png_metadata(tmp_path / "c.png").request.seed == COMFY_EXAMPLE_SEED
    assert main(["history", "show", str(line["id"])]) == 0
    shown = capsys.readouterr().out
    assert any(row.split() == ["seed", str(COMFY_EXAMPLE_SEED)] for row in shown.splitlines())
    assert main(["history", "list"]) == 0
    assert str(COMFY_EXAMPLE_SEED) in capsys.readouterr().out
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "x", "--seed", str(2**64)]) == 2
    assert "seed" in capsys.readouterr().err


def test_cli_sampler_and_scheduler_reach_the_png(tiny_models, tmp_path, data_dir, capsys):
    from PIL import Image

    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "template", "--seed", "1",
                 "--steps", "9", "--sampler", "res_multistep", "--scheduler", "simple", "--width", "256",
                 "--height", "256", "--out", str(tmp_path / "t.png"), "--no-history"]) == 0
    with Image.open(tmp_path / "t.png") as img:
        assert "Sampler: Res Multistep, Schedule type: Simple" in img.info["parameters"]
        graph = json.loads(img.info["prompt"])  # the ComfyUI graph names the files that made it
    transformer = sorted(p.name for p in (tiny_models.comfy / "diffusion_models").glob("*.safetensors"))
    assert graph["16"]["inputs"]["unet_name"] in transformer
    assert graph["18"]["inputs"]["clip_name"] == "tiny_qwen3.safetensors"
    assert graph["17"]["inputs"]["vae_name"] == "tiny_ae.safetensors"
    assert graph["3"]["inputs"]["sampler_name"] == "res_multistep" and graph["3"]["inputs"]["steps"] == 9
    back = read_png_metadata(tmp_path / "t.png").request
    assert (back.sampler, back.scheduler, back.steps) == ("res_multistep", "simple", 9)
