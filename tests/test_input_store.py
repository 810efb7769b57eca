"""The history's one input store (history/input_store.py): edit sources, masks and control images share
one content-addressed folder, a file stays while any entry uses it and leaves with the last one (undo brings
it back), the older folders of earlier versions are moved in without losing a file, also when the move is
killed halfway."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from zimage_desktop.config import Paths
from zimage_desktop.engine.request import ControlRef, GeneratedImage, GenerationRequest
from zimage_desktop.history.edit_inputs import keep_edit_inputs
from zimage_desktop.history.input_store import (file_sha256, forget_unused, inputs_folder, keep_file,
                                                migrate_inputs, unused_inputs)
from zimage_desktop.history.operations import forget_unused_inputs, inputs_of, restore, trash
from zimage_desktop.history.saving import save_generated
from zimage_desktop.history.store import HistoryStore

MODEL = {"name": "tiny", "hash": "abc", "roles": {"transformer": "t.gguf", "text_encoder": "te.safetensors",
                                                  "vae": "ae.safetensors"}}


def _picture(seed: int, size: int = 64) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def _stored(paths: Paths) -> set[str]:
    folder = inputs_folder(paths.data)
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_control_image_and_an_edit_source_share_one_file_that_leaves_with_the_last_entry(tmp_path):
    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    drawing = _picture(1)
    drawing.save(tmp_path / "drawing.png")
    prepared = _picture(2)
    control = GenerationRequest(prompt="edges", width=256, height=256, seed=1,
                                controls=(ControlRef("canny", str(tmp_path / "drawing.png"), strength=0.7),))
    first = save_generated(GeneratedImage(control, _picture(3, 256), {}, MODEL, control_images=(prepared,)), paths, store)
    record = store.get(first.history_id)
    kept_control = Path(record.request.controls[0].image)
    assert kept_control.parent == inputs_folder(paths.data)
    # the stored control file, used again as the source of an inpaint: one file, two entries
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (8, 8, 40, 40))
    mask.save(tmp_path / "mask.png")
    edit = keep_edit_inputs(GenerationRequest(prompt="a door", width=256, height=256, seed=2, mode="inpaint",
                                              source=str(kept_control), mask=str(tmp_path / "mask.png")), paths.data)
    assert edit.source == str(kept_control)
    second = save_generated(GeneratedImage(edit, _picture(4, 256), {}, MODEL), paths, store)
    assert len(_stored(paths)) == 3  # the drawing (shared), the prepared image, the mask
    everything = _stored(paths)

    undo = trash(store, [record], paths.data / "trash")
    assert _stored(paths) == {kept_control.name, Path(edit.mask).name}  # the drawing is still used by the edit
    trash(store, [store.get(second.history_id)], paths.data / "trash")
    assert _stored(paths) == set()  # gone with the last entry that used them
    restored = store.get(restore(store, undo[0]))
    assert _stored(paths) == {kept_control.name, record.model["controls"][0]["prepared"]}
    assert file_sha256(Path(restored.request.controls[0].image)) == kept_control.name.split(".")[0]
    assert _stored(paths) < everything
    store.close()


def test_inputs_no_entry_uses_are_forgotten_after_a_day(tmp_path):
    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    _picture(5).save(tmp_path / "a.png")
    _picture(6).save(tmp_path / "b.png")
    used = keep_edit_inputs(GenerationRequest(prompt="x", width=256, height=256, seed=1, mode="img2img",
                                              source=str(tmp_path / "a.png")), paths.data)
    save_generated(GeneratedImage(used, _picture(7, 256), {}, MODEL), paths, store)
    _, stale = keep_file(tmp_path / "b.png", paths.data)  # an edit that never finished
    day_ago = time.time() - 2 * 86400
    for path in inputs_folder(paths.data).iterdir():
        os.utime(path, (day_ago, day_ago))
    assert forget_unused_inputs(store) == [stale]
    assert Path(store.get(1).request.source).is_file()  # the used one stays, however old
    _, fresh = keep_file(tmp_path / "b.png", paths.data)
    assert forget_unused(paths.data, store.input_hashes()) == [] and fresh.is_file()  # kept today: a job may wait
    store.close()


def _old_layout(data: Path, rng_seed: int = 0) -> dict[str, bytes]:
    """Files as the earlier versions left them: edit-inputs/<sha>.<ext> (bytes as given) and the window's
    scratch edit_inputs/<sha>.png; returns {sha: bytes}."""
    import hashlib

    files: dict[str, bytes] = {}
    for folder, suffix, n in (("edit-inputs", ".jpg", 3), ("edit_inputs", ".png", 3)):
        (data / folder).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            buffer = __import__("io").BytesIO()
            _picture(rng_seed * 100 + len(files)).save(buffer, format="JPEG" if suffix == ".jpg" else "PNG")
            content = buffer.getvalue()
            sha = hashlib.sha256(content).hexdigest()
            (data / folder / f"{sha}{suffix}").write_bytes(content)
            files[sha] = content
    return files


def test_opening_the_history_moves_each_old_folder_into_the_store(tmp_path):
    paths = Paths(tmp_path / "data")
    files = _old_layout(paths.data)
    sha = next(p for p in (paths.data / "edit-inputs").iterdir()).name.split(".")[0]
    (paths.data / "edit_inputs" / "deadbeef.png.part").write_bytes(b"half")  # the old scratch's torn write
    wrong = paths.data / "edit_inputs" / f"{'0' * 64}.png"
    wrong.write_bytes(b"not what the name says")
    store = HistoryStore(paths.history_db)
    # a row of the old version names its source by sha256 only: it finds the moved file
    store.add(GenerationRequest(prompt="x", width=256, height=256, seed=1, mode="img2img", source_sha256=sha),
              paths.data / "x.png", MODEL)
    record = store.get(1)
    assert Path(record.request.source).parent == inputs_folder(paths.data)
    assert file_sha256(Path(record.request.source)) == sha
    store.close()
    stored = {p.name.split(".")[0]: p.read_bytes() for p in inputs_folder(paths.data).iterdir()}
    assert stored == files  # every file, byte for byte, once
    assert not (paths.data / "edit-inputs").exists()  # emptied and removed
    assert [p.name for p in (paths.data / "edit_inputs").iterdir()] == [wrong.name]  # nothing unproven is lost
    # content already stored, met again in an old folder (a copy an old version wrote later), is not doubled
    dup = next(iter(files))
    (paths.data / "edit-inputs").mkdir()
    (paths.data / "edit-inputs" / f"{dup}.jpg").write_bytes(files[dup])
    HistoryStore(paths.history_db).close()
    assert {p.name.split(".")[0]: p.read_bytes() for p in inputs_folder(paths.data).iterdir()} == files
    assert not (paths.data / "edit-inputs").exists()


def test_a_migration_killed_at_any_moment_loses_nothing_and_the_next_open_finishes(tmp_path):
    data = tmp_path / "data"
    files: dict[str, bytes] = {}
    for round_ in range(40):  # enough files that the kill lands in the middle of the moves
        files.update(_old_layout(data, round_ + 10))
    script = ("import sys, time; from pathlib import Path; from zimage_desktop.history import input_store as s\n"
              "real = s.os.replace\n"
              "def slow(a, b):\n    real(a, b); time.sleep(0.01)\n"
              "s.os.replace = slow\n"
              "s.migrate_inputs(Path(sys.argv[1]))\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(data)], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(unused_inputs(data, set())) < 20:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    moved = len(unused_inputs(data, set()))
    assert 0 < moved < len(files), "the kill should land halfway"
    # each file is whole in exactly one of the two places
    seen: dict[str, bytes] = {}
    for folder in (inputs_folder(data), data / "edit-inputs", data / "edit_inputs"):
        for path in folder.iterdir() if folder.is_dir() else ():
            sha = path.name.split(".")[0]
            assert sha not in seen or seen[sha] == path.read_bytes()
            seen[sha] = path.read_bytes()
    assert seen == files
    migrate_inputs(data)
    assert {p.name.split(".")[0]: p.read_bytes() for p in inputs_folder(data).iterdir()} == files
    assert not (data / "edit-inputs").exists() and not (data / "edit_inputs").exists()


def test_a_torn_write_in_the_store_is_never_taken_for_an_input(tmp_path):
    paths = Paths(tmp_path / "data")
    _picture(8).save(tmp_path / "a.png")
    sha = file_sha256(tmp_path / "a.png")
    folder = inputs_folder(paths.data)
    folder.mkdir(parents=True)
    (folder / f".{sha}.png.abc123.tmp").write_bytes(b"\x89PNG half")  # what a kill during a write leaves
    request = keep_edit_inputs(GenerationRequest(prompt="x", width=256, height=256, seed=1, mode="img2img",
                                                 source=str(tmp_path / "a.png")), paths.data)
    assert Path(request.source).read_bytes() == (tmp_path / "a.png").read_bytes()
    assert unused_inputs(paths.data, set()) == [Path(request.source)]


def test_a_delete_leaves_the_inputs_a_queued_job_still_needs(tmp_path):
    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    _picture(9).save(tmp_path / "a.png")
    made = keep_edit_inputs(GenerationRequest(prompt="x", width=256, height=256, seed=1, mode="img2img",
                                              source=str(tmp_path / "a.png")), paths.data)
    saved = save_generated(GeneratedImage(made, _picture(10, 256), {}, MODEL), paths, store)
    queued = made.for_seed(2)  # the same edit again, waiting in the window's queue
    trash(store, [store.get(saved.history_id)], paths.data / "trash", inputs_of([queued]))
    assert Path(made.source).is_file()  # the queued job can still read its source
    trash(store, [], paths.data / "trash", inputs_of([]))
    assert not Path(made.source).exists()  # once nothing needs it, it leaves
    store.close()
