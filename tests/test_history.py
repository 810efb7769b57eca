"""The SQLite history: migrations, search in Chinese and English, lineage, re-run, crash safety."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from zimage_desktop.cli import main
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.store import MIGRATIONS, HistoryStore


def req(prompt, seed=1):
    return GenerationRequest(prompt=prompt, seed=seed, width=256, height=256)


def test_migrates_an_older_schema_and_indexes_old_rows(tmp_path):
    db = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO images (created, prompt, request_json, seed, width, height, path) VALUES (?,?,?,?,?,?,?)",
                 (1.0, "旧的海报 old poster", req("旧的海报 old poster").to_json(), 1, 256, 256, "/x.png"))
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    store = HistoryStore(db)
    assert store.version == 2 and store.fts
    assert [r.prompt for r in store.search("old poster")] == ["旧的海报 old poster"]
    assert store.get(1).parent_id is None and store.get(1).tags == ()


def test_search_chinese_and_english(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    for i, prompt in enumerate(["海报，标题文字“新春特惠”，金色", "A poster for a SPRING sale", "一只橘猫在窗台上晒太阳",
                                "cat on a windowsill", "50% off_sale"]):
        store.add(req(prompt, i), tmp_path / f"{i}.png", created=1000.0 + i)
    assert [r.prompt for r in store.search("新春特惠")] == ["海报，标题文字“新春特惠”，金色"]
    assert [r.prompt for r in store.search("海报")] == ["海报，标题文字“新春特惠”，金色"]  # 2 characters: LIKE
    assert {r.prompt for r in store.search("spring poster")} == {"A poster for a SPRING sale"}
    assert {r.prompt for r in store.search("cat")} == {"cat on a windowsill"}
    assert [r.prompt for r in store.search("橘猫")] == ["一只橘猫在窗台上晒太阳"]
    assert [r.prompt for r in store.search("%")] == ["50% off_sale"]  # LIKE wildcards are literal
    assert store.search("nothing-like-this") == []
    assert [r.id for r in store.page(0, 2)] == [5, 4]  # newest first, paged
    assert store.count() == 5 and store.count("poster") == 1


def test_lineage_and_favourites(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    a = store.add(req("a"), tmp_path / "a.png")
    b = store.add(req("a", 2), tmp_path / "b.png", parent_id=a)
    c = store.add(req("a", 3), tmp_path / "c.png", parent_id=b)
    assert [r.id for r in store.lineage(c)] == [a, b, c]
    store.set_favourite(b, True)
    assert [r.id for r in store.page(favourites=True)] == [b]
    store.delete(a)
    assert store.get(b).parent_id is None and store.search("a") != []


def test_reconcile_reports_without_deleting(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    store = HistoryStore(tmp_path / "h.sqlite3")
    kept, gone = images / "kept.png", images / "gone.png"
    for p in (kept, gone):
        Image.new("RGB", (8, 8)).save(p)
    store.add(req("kept"), kept)
    gone_id = store.add(req("gone"), gone)
    gone.unlink()
    orphan = images / "orphan.png"
    Image.new("RGB", (8, 8)).save(orphan)
    missing, orphans = store.reconcile(images)
    assert missing == [gone_id] and orphans == [orphan]
    assert store.get(gone_id) is not None and orphan.exists()


def test_generate_records_and_rerun_is_pixel_identical(tiny_models, tmp_path, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "re-run me 再来一次", "--seed", "9",
                 "--width", "256", "--height", "256", "--out", str(tmp_path / "first.png")]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["history", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed[0]["id"] == first["id"] and listed[0]["prompt"] == "re-run me 再来一次" and listed[0]["seed"] == 9
    assert main(["history", "rerun", str(first["id"]), "--models", str(tiny_models.comfy),
                 "--out", str(tmp_path / "again.png")]) == 0
    again = json.loads(capsys.readouterr().out)
    a = np.asarray(Image.open(tmp_path / "first.png"))
    b = np.asarray(Image.open(tmp_path / "again.png"))
    assert np.array_equal(a, b)
    assert main(["history", "show", str(again["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["parent_id"] == first["id"] and shown["seed"] == 9
    assert os.path.exists(shown["thumb_path"])
    assert main(["history", "search", "再来", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["history", "list"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.split()[0] == str(again["id"]) and "256x256" in line and "re-run me" in line


def test_no_history_flag(tiny_models, tmp_path, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "x", "--width", "256", "--height", "256",
                 "--no-history", "--out", str(tmp_path / "x.png")]) == 0
    assert json.loads(capsys.readouterr().out)["id"] is None
    assert main(["history", "list"]) == 0 and capsys.readouterr().out == ""


def test_unknown_history_id_is_bad_input(data_dir, capsys):
    assert main(["history", "show", "12345"]) == 2
    assert "no image 12345" in capsys.readouterr().err


SAVER = r"""
import sys, time
from pathlib import Path
from PIL import Image
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GenerationRequest, GeneratedImage
from zimage_desktop.history.saving import save_generated
from zimage_desktop.history.store import HistoryStore
paths = Paths.resolve(sys.argv[1])
store = HistoryStore(paths.history_db)
i = 0
while True:
    i += 1
    image = GeneratedImage(GenerationRequest(prompt=f"crash test {i}", seed=i, width=256, height=256),
                           Image.new("RGB", (512, 512), (i % 255, 0, 0)), {"total_s": 0.0}, {"name": "x"})
    save_generated(image, paths, store)
    print(i, flush=True)
"""


@pytest.mark.slow
def test_kill_9_during_saves_keeps_the_database_consistent(tmp_path):
    data = tmp_path / "data"
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(data)], stdout=subprocess.PIPE, text=True)
        saved = 0
        deadline = time.monotonic() + 30
        while saved < 5 + round_ * 3 and time.monotonic() < deadline:
            saved = int(proc.stdout.readline() or 0) or saved
        time.sleep(0.05 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store = HistoryStore(data / "history.sqlite3")
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    records = store.page(0, 10_000)
    assert len(records) >= 15
    for record in records:  # every committed row has its complete image
        with Image.open(record.path) as img:
            img.load()
    missing, _orphans = store.reconcile(data / "images")
    assert missing == []
    # An interrupted save may leave a hidden temporary file, never a half-written image under a real name.
    for png in (data / "images").rglob("*.png"):
        with Image.open(png) as img:
            img.load()


def test_import_a_folder_of_foreign_pngs(tmp_path, data_dir, capsys):
    from PIL import PngImagePlugin

    folder = tmp_path / "outputs"
    folder.mkdir()

    def png(name, **chunks):
        info = PngImagePlugin.PngInfo()
        for key, value in chunks.items():
            info.add_itxt(key, value)
        Image.new("RGB", (64, 64), "blue").save(folder / name, pnginfo=info)

    png("a1111.png", parameters="a castle at dusk\nSteps: 20, Seed: 99, Size: 832x1216")
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 8, "positive": ["6", 0]}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "山水画"}}}
    png("comfy.png", prompt=json.dumps(graph))
    png("plain.png")
    assert main(["history", "import", str(folder)]) == 0
    out = capsys.readouterr()
    assert "imported 2 images, skipped 1" in out.out and "no generation parameters" in out.err
    assert main(["history", "search", "山水画", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["seed"] == 5 and found["model"]["imported_from"] == "comfyui"
    assert main(["history", "import", str(folder)]) == 0  # again: nothing new
    assert "imported 0 images" in capsys.readouterr().out


def test_check_reports_without_deleting(tiny_models, tmp_path, data_dir, capsys):
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "x", "--width", "256", "--height", "256"]) == 0
    path = json.loads(capsys.readouterr().out)["path"]
    os.unlink(path)
    assert main(["history", "check"]) == 0
    out = capsys.readouterr().out
    assert "missing file for image 1" in out and "nothing was deleted" in out


def test_filters_by_date_and_shape(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    now = time.time()
    store.add(GenerationRequest(prompt="old square", width=1024, height=1024), tmp_path / "a.png", created=now - 40 * 86400)
    store.add(GenerationRequest(prompt="new wide", width=1280, height=720), tmp_path / "b.png", created=now - 3600)
    store.add(GenerationRequest(prompt="new tall", width=720, height=1280), tmp_path / "c.png", created=now - 60)
    assert [r.prompt for r in store.page(since=now - 7 * 86400)] == ["new tall", "new wide"]
    assert [r.prompt for r in store.page(shape="landscape")] == ["new wide"]
    assert [r.prompt for r in store.page(shape="square")] == ["old square"]
    assert store.count("new", since=now - 7 * 86400, shape="portrait") == 1
