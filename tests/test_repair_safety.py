"""Repair never empties a history (issue 25): one odd file is a note, a database another process has
open is never moved, and a repair killed with SIGKILL at any moment loses no row and can run again
at once. Every writer and killer here is a real process."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from zimage_desktop.cli import main
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GeneratedImage, GenerationRequest
from zimage_desktop.history.repair import quick_check
from zimage_desktop.history.saving import save_generated
from zimage_desktop.history.store import HistoryStore

ROOT = Path(__file__).resolve().parent.parent


def _history(data_dir: Path, count: int) -> tuple[Paths, dict[str, bool]]:
    """A real history of ``count`` images (every third a favourite): prompt -> favourite."""
    paths = Paths(data_dir)
    store = HistoryStore(paths.history_db)
    expected = {}
    for i in range(count):
        request = GenerationRequest(prompt=f"image {i} 第{i}张", seed=i, width=256, height=256)
        saved = save_generated(GeneratedImage(request, Image.new("RGB", (32, 32), (i, 0, 0)), {}, {"name": "t"}),
                               paths, store)
        if i % 3 == 0:
            store.set_favourite(saved.history_id, True)
        expected[request.prompt] = i % 3 == 0
    store.close()
    return paths, expected


def _rows(db: Path) -> dict[str, bool]:
    store = HistoryStore(db)
    try:
        return {r.prompt: r.favourite for r in store.page(0, 10_000)}
    finally:
        store.close()


def _odd_comfy_png(folder: Path) -> Path:
    """Valid JSON as ComfyUI could write it, but odd: a node id '²' and link ids that are lists."""
    prompt = {"²": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}},
              "3": {"class_type": "KSampler", "inputs": {"seed": 11, "steps": 8, "positive": ["6", 0],
                                                         "latent_image": ["5", 0]}},
              "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "odd but fine"}},
              "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512}}}
    workflow = {"nodes": [{"id": 3, "type": "KSampler", "inputs": [{"name": "model", "link": [4, 0]}],
                           "widgets_values": [11, "fixed", 8, 1, "euler", "simple", 1]}],
                "links": [[[4, 0], 4, 0, 3, 0, "MODEL"], {"id": {"x": 1}, "origin_id": 4}]}
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(prompt, ensure_ascii=False))
    info.add_text("workflow", json.dumps(workflow))
    path = folder / "comfy" / "ComfyUI_00001_.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16)).save(path, pnginfo=info)
    wf_only = PngImagePlugin.PngInfo()
    wf_only.add_text("workflow", json.dumps(workflow))
    Image.new("RGB", (16, 16)).save(path.with_name("ComfyUI_00002_.png"), pnginfo=wf_only)
    return path


def test_an_odd_comfyui_png_is_a_note_and_the_history_keeps_every_row(data_dir, capsys):
    paths, expected = _history(data_dir, 6)
    odd = _odd_comfy_png(paths.images)
    assert main(["history", "repair"]) == 0
    out, err = capsys.readouterr()
    assert "unexpected" not in out + err and "rebuilt from 7 images" in out
    assert f"skipped {odd.with_name('ComfyUI_00002_.png')}:" in err  # no parameters in it: a note, not a crash
    rows = _rows(paths.history_db)
    assert {p: f for p, f in rows.items() if p != "odd but fine"} == expected and "odd but fine" in rows
    kept = [p for p in paths.data.glob("history.sqlite3.damaged-*") if not p.name.endswith("-wal")]
    assert len(kept) == 1 and set(_rows(kept[0])) == set(expected)  # the old one kept, whole


def test_a_repair_that_cannot_finish_leaves_the_old_database_in_place(data_dir, capsys):
    paths, expected = _history(data_dir, 4)
    (paths.data / "history.sqlite3.rebuilding" / "x").mkdir(parents=True)  # the new file cannot be made there
    before = paths.history_db.read_bytes()
    assert main(["history", "repair"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "history.sqlite3.rebuilding is in the way" in err
    assert paths.history_db.read_bytes() == before and _rows(paths.history_db) == expected


WRITER = """
import sys, time
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.store import HistoryStore
store = HistoryStore(sys.argv[1])
print("open", flush=True)
for i in range(10):
    store.add(GenerationRequest(prompt=f"live {i}", seed=i), sys.argv[2] + f"/{i}.png")
    time.sleep(0.15)
store.close()
"""


def test_repair_refuses_while_another_process_writes(data_dir, capsys):
    paths, expected = _history(data_dir, 3)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(paths.history_db), str(data_dir)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        time.sleep(0.3)
        assert main(["history", "repair"]) == 1
        err = capsys.readouterr().err
        assert "open in another window or command" in err and err.count("\n") == 1
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
        writer.wait()
    rows = _rows(paths.history_db)
    assert {f"live {i}" for i in range(10)} <= set(rows) and len(rows) == 13
    assert not list(paths.data.glob("history.sqlite3.damaged-*"))  # nothing was moved


REPAIRER = """
import sys
from zimage_desktop.config import Paths
from zimage_desktop.history.repair import repair_history
paths = Paths(__import__("pathlib").Path(sys.argv[1]))
print("go", flush=True)
repair_history(paths)
print("done", flush=True)
"""


@pytest.mark.parametrize("delays", [(0.0, 0.03, 0.08, 0.15, 0.3, 0.6, 1.2)])
def test_a_repair_killed_at_any_moment_loses_no_row_and_runs_again_at_once(data_dir, delays):
    paths, expected = _history(data_dir, 40)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    finished = 0
    for delay in delays:
        child = subprocess.Popen([sys.executable, "-c", REPAIRER, str(data_dir)], stdout=subprocess.PIPE, text=True,
                                 env=env)
        assert child.stdout is not None and child.stdout.readline().strip() == "go"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        finished += child.stdout.read().strip() == "done"
        # right after the kill: the history in place is whole, old or new, never empty
        assert quick_check(paths.history_db) is None
        assert _rows(paths.history_db) == expected, f"rows lost by a kill {delay} s into the repair"
    assert finished < len(delays)  # at least one kill landed inside a repair
    # … and a repair runs again at once (no stale lock), keeping everything
    assert main(["history", "repair"]) == 0
    assert _rows(paths.history_db) == expected
    assert not (paths.data / "history.sqlite3.rebuilding").exists()


def test_two_repairs_at_once_one_waits_its_turn(data_dir):
    paths, expected = _history(data_dir, 30)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    children = [subprocess.Popen([sys.executable, "-c", REPAIRER, str(data_dir)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [c.communicate(timeout=120) for c in children]
    codes = [c.returncode for c in children]
    assert 0 in codes, results
    for (out, err), code in zip(results, codes):
        assert code == 0 or ("repairing the history right now" in err or "open in another window" in err), err
    assert _rows(paths.history_db) == expected
    with sqlite3.connect(paths.history_db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
