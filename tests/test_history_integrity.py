"""Nothing lost: every image gets its own file, `history check` sees overwrites and leftovers,
and a damaged database heals itself from the images' metadata (issue 13)."""

import json
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from zimage_desktop.cli import main
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GeneratedImage, GenerationRequest
from zimage_desktop.fsutil import write_exclusive
from zimage_desktop.history.check import check_history
from zimage_desktop.history.repair import quick_check
from zimage_desktop.history.saving import save_generated
from zimage_desktop.history.store import HistoryStore


def image(seed=7, colour=(200, 0, 0), prompt="same seed 同一秒"):
    return GeneratedImage(GenerationRequest(prompt=prompt, seed=seed, width=256, height=256),
                          Image.new("RGB", (64, 64), colour), {"total_s": 0.1}, {"name": "tiny"})


@pytest.fixture
def frozen_clock(monkeypatch):
    """Every save happens in the same second."""
    import zimage_desktop.history.saving as saving

    monkeypatch.setattr(saving.time, "strftime", lambda fmt, *a: "2026-11-26_120000")


def test_same_seed_in_the_same_second_keeps_both_images(tmp_path, frozen_clock):
    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    first = save_generated(image(colour=(255, 0, 0)), paths, store)
    second = save_generated(image(colour=(0, 0, 255)), paths, store)
    assert first.path != second.path and second.path.name == "2026-11-26_120000-7-2.png"
    assert Image.open(first.path).getpixel((0, 0)) == (255, 0, 0)
    assert Image.open(second.path).getpixel((0, 0)) == (0, 0, 255)
    assert first.thumb_path != second.thumb_path
    assert {store.get(first.history_id).path, store.get(second.history_id).path} == {
        str(first.path.resolve()), str(second.path.resolve())}
    report = check_history(store, paths.images, paths.thumbnails)
    assert report.clean, report.lines()


def test_concurrent_writers_never_replace_each_other(tmp_path):
    target = tmp_path / "out" / "a.png"
    results = []

    def writer(n):
        results.append((n, write_exclusive(target, lambda fh: fh.write(bytes([n]) * 100_000))))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p for _, p in results}) == 8
    for n, path in results:
        assert path.read_bytes() == bytes([n]) * 100_000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for _, p in results)  # no .tmp left


def test_cli_out_onto_an_existing_file_keeps_it(tiny_models, tmp_path, data_dir, capsys):
    out = tmp_path / "same.png"
    args = ["generate", "--models", str(tiny_models.comfy), "--prompt", "twice", "--seed", "3", "--width", "256",
            "--height", "256", "--out", str(out)]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    before = out.read_bytes()
    assert main(args[:-1] + [str(out)]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["path"] == str(tmp_path / "same-2.png") and out.read_bytes() == before
    assert first["id"] != second["id"]
    assert main(["history", "check"]) == 0
    assert "0 files shared by several rows" in capsys.readouterr().out


def test_check_reports_shared_files_leftovers_and_damaged_rows(tmp_path, data_dir, capsys):
    paths = Paths(data_dir)
    store = HistoryStore(paths.history_db)
    shared = paths.images / "day" / "x.png"
    shared.parent.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(shared)
    a = store.add(image().request, shared.resolve())
    b = store.add(image().request, shared.resolve())
    c = store.add(image(seed=9).request, shared.resolve())
    with store.transaction() as conn:
        conn.execute("UPDATE images SET request_json='{broken' WHERE id=?", (c,))
    (shared.parent / ".y.png.abc123.tmp").write_bytes(b"half")
    store.close()
    assert main(["history", "check"]) == 0
    out = capsys.readouterr().out
    assert f"images {a}, {b}, {c} share one file: {shared.resolve()}" in out
    assert "leftover temporary file: " in out and ".y.png.abc123.tmp" in out
    assert f"image {c} has damaged parameters" in out
    assert (shared.parent / ".y.png.abc123.tmp").exists()  # reported, never deleted


def test_a_row_with_bad_json_is_skipped_and_named(tmp_path, data_dir, capsys):
    paths = Paths(data_dir)
    store = HistoryStore(paths.history_db)
    ids = [store.add(GenerationRequest(prompt=f"row {i}", seed=i), tmp_path / f"{i}.png") for i in range(3)]
    with store.transaction() as conn:
        conn.execute("UPDATE images SET model_json='[1,' WHERE id=?", (ids[1],))
    store.close()
    assert main(["history", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids[2], ids[0]]
    assert err.strip() == f"skipped image {ids[1]}: its stored parameters are damaged"
    assert main(["history", "show", str(ids[1])]) == 1
    assert "damaged" in capsys.readouterr().err


def _history_with_images(data_dir, count=12):
    """A real history: PNGs with metadata in the images folder, one favourite, one child."""
    paths = Paths(data_dir)
    store = HistoryStore(paths.history_db)
    saved = [save_generated(image(seed=i, colour=(i * 20, 0, 0), prompt=f"image number {i} 第{i}张"), paths, store)
             for i in range(count)]
    store.set_favourite(saved[3].history_id, True)
    child = save_generated(image(seed=99, prompt="child of 3"), paths, store, parent_id=saved[3].history_id)
    store.close()
    return paths, saved, child


def _damage(db, pages=(2, 3)):
    size = os.path.getsize(db)
    page = 4096
    assert size >= page * (max(pages) + 1)
    with open(db, "r+b") as fh:
        for n in pages:  # 1-based SQLite page numbers
            fh.seek((n - 1) * page)
            fh.write(os.urandom(page))


def test_repair_on_demand_keeps_favourites_and_lineage(tmp_path, data_dir, capsys):
    paths, _, _ = _history_with_images(data_dir)
    thumbs = sorted(paths.thumbnails.rglob("*.jpg"))
    for t in thumbs:
        t.unlink()
    assert main(["history", "repair"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt from 13 images" in out and "kept at" in out
    assert list(paths.data.glob("history.sqlite3.damaged-*"))
    store = HistoryStore(paths.history_db)
    records = {r.prompt: r for r in store.page(0, 100)}
    assert len(records) == 13
    assert records["image number 3 第3张"].favourite
    assert records["child of 3"].parent_id == records["image number 3 第3张"].id
    assert all(os.path.exists(r.thumb_path) for r in records.values())  # thumbnails remade
    assert check_history(store, paths.images, paths.thumbnails).clean


def test_garbage_in_database_pages_heals_on_the_next_open(tmp_path, data_dir, capsys):
    paths, _, _ = _history_with_images(data_dir, count=40)
    db = paths.history_db
    for side in ("-wal", "-shm"):
        assert not os.path.exists(str(db) + side)  # closed cleanly: everything is in the main file
    _damage(db, pages=(2, 5))
    assert quick_check(db) is not None
    # The first command after the damage repairs, says so once, and works.
    assert main(["history", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.count("rebuilt from 41 images") == 1 and "kept at" in err and err.count("\n") == 1
    assert len(out.splitlines()) == 41
    assert {json.loads(line)["seed"] for line in out.splitlines()} == set(range(40)) | {99}
    assert main(["history", "search", "第3张", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seed"] == 3
    # … and only once.
    assert main(["history", "list"]) == 0
    assert "rebuilt" not in capsys.readouterr().err
    assert quick_check(db) is None
    kept = [p for p in paths.data.glob("history.sqlite3.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and quick_check(kept[0]) is not None  # the damaged file is kept as it was


def test_generate_with_a_damaged_history_still_saves_and_records(tiny_models, tmp_path, data_dir, capsys):
    paths, _, _ = _history_with_images(data_dir, count=30)
    _damage(paths.history_db, pages=(2, 3, 4))
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "after the damage", "--seed", "5",
                 "--width", "256", "--height", "256"]) == 0
    out, err = capsys.readouterr()
    assert "rebuilt from 31 images" in err
    record = json.loads(out)
    assert os.path.exists(record["path"]) and record["id"] == 32
    assert "unexpected" not in err


def test_the_window_heals_a_damaged_history_and_says_so(qtbot, tmp_path):
    from zimage_desktop.app import run_app

    data = tmp_path / "data"
    paths, _, _ = _history_with_images(data, count=30)
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    _damage(paths.history_db, pages=(2, 3))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    status = win.findChild(type(win.status), "statusLabel") or win.status
    assert "rebuilt from 31 images" in status.text()
    assert win.gallery is not None and win.gallery.model.total == 31
    win.close()


def test_quick_check_with_odd_characters_in_the_folder(tmp_path):
    folder = tmp_path / "my #1 data?"
    paths, _, _ = _history_with_images(folder, count=20)
    assert quick_check(paths.history_db) is None
    _damage(paths.history_db, pages=(2,))
    assert quick_check(paths.history_db) == "SQLite found damaged pages"


def test_the_window_adopts_images_whose_row_a_kill_lost(qtbot, tmp_path):
    """The image is renamed into place before its row commits: a kill in between leaves an image
    with its parameters but no row. The next start adds it; a foreign PNG stays only reported."""
    import sqlite3

    from zimage_desktop.app import run_app

    data = tmp_path / "data"
    paths, saved, _ = _history_with_images(data, count=4)
    lost = saved[2]
    with sqlite3.connect(paths.history_db) as conn:  # what a kill between rename and commit leaves
        conn.execute("DELETE FROM images WHERE id = ?", (lost.history_id,))
    Image.new("RGB", (8, 8)).save(paths.images / "not-ours.png")  # no parameters: not adopted
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    assert win.gallery is not None and win.gallery.model.total == 5
    store = win.gallery.store
    adopted = [r for r in store.page(0, 100) if Path(r.path).resolve() == Path(lost.path).resolve()]
    assert len(adopted) == 1 and adopted[0].request.seed == 2 and adopted[0].request.prompt == "image number 2 第2张"
    assert "1 image(s) saved just before the app stopped were added" in win.status.text()
    assert "1 images are not in the history" in win.status.text()  # the foreign one, reported as before
    win.close()
