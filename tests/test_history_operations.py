"""Delete to the trash and undo, and export, on the history without any window (history/operations)."""

from pathlib import Path

from PIL import Image

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history import operations
from zimage_desktop.history.store import HistoryStore


def _record(store: HistoryStore, folder: Path, name: str, prompt: str):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path)
    image_id = store.add(GenerationRequest(prompt=prompt, seed=5, width=256, height=256), path, {"name": "t"})
    return store.get(image_id)


def test_trash_then_restore_brings_file_and_row_back(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    record = _record(store, tmp_path / "images", "a.png", "a red kite 风筝")
    done = operations.trash(store, [record], tmp_path / "trash")
    assert store.get(record.id) is None and not Path(record.path).exists() and done[0].trashed.exists()
    new_id = operations.restore(store, done[0])
    again = store.get(new_id)
    assert Path(record.path).exists() and not done[0].trashed.exists()
    assert again.request.prompt == "a red kite 风筝" and again.path == record.path
    assert [r.id for r in store.search("风筝")] == [new_id]


def test_export_never_replaces_a_file_already_there(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    first = _record(store, tmp_path / "one", "same.png", "first")
    second = _record(store, tmp_path / "two", "same.png", "second")
    out = tmp_path / "export"
    out.mkdir()
    (out / "same.png").write_bytes(b"the user's own file")
    exported = operations.export([first, second], out)
    assert [p.name for p in exported] == ["same-2.png", "same-3.png"]
    assert (out / "same.png").read_bytes() == b"the user's own file"
    assert all(p.read_bytes() == Path(r.path).read_bytes() for p, r in zip(exported, (first, second)))


def test_metadata_never_names_a_file_outside_the_models_folder(tmp_path, tiny_models):
    """A PNG whose `zimage` request names /anywhere/x.safetensors: recall keeps the name only, and
    re-running looks it up inside the models folder (and says it is missing there)."""
    import json

    from PIL import PngImagePlugin

    from zimage_desktop.engine.model_files import resolve_model_set
    from zimage_desktop.errors import ModelFilesError
    from zimage_desktop.history.metadata import read_png_metadata

    outside = tmp_path / "anywhere" / "x.safetensors"
    outside.parent.mkdir()
    outside.write_bytes(next((tiny_models.comfy / "diffusion_models").iterdir()).read_bytes())
    info = PngImagePlugin.PngInfo()
    info.add_text("zimage", json.dumps({"schema": 2, "request": {"prompt": "p", "seed": 1, "transformer": str(outside)}}))
    png = tmp_path / "hostile.png"
    Image.new("RGB", (8, 8)).save(png, pnginfo=info)
    request = read_png_metadata(png).request
    assert request is not None and request.transformer == "x.safetensors"
    try:
        resolve_model_set(tiny_models.comfy, request.transformer)
        raise AssertionError("a file outside the models folder was accepted")
    except ModelFilesError as exc:
        assert str(tiny_models.comfy) in str(exc) or "does not exist" in str(exc)
