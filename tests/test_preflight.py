"""Validate before work: bad outputs, data folders, prompts, devices and model headers are refused
with one sentence and exit code 2 before any model loads; a save that still fails keeps the image
and says where (issue 13)."""

import errno
import json
import os
import shutil
import struct
import subprocess
import sys

import pytest
import torch

from zimage_desktop.cli import main
from zimage_desktop.config import Paths
from zimage_desktop.engine.tensor_index import read_safetensors_index
from zimage_desktop.errors import ModelFilesError

NO_MODELS = "/nonexistent/models"  # reaching the models at all would be a different error


def run_cli(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def assert_one_sentence(err, *words):
    assert err.startswith("error: ") and "\n" not in err and "unexpected" not in err, err
    for word in words:
        assert word in err, err


def generate(*extra):
    return ["generate", "--prompt", "a cat", "--width", "256", "--height", "256", "--models", NO_MODELS, *extra]


def test_out_under_a_regular_file(tmp_path, data_dir, capsys):
    (tmp_path / "notes.txt").write_text("x")
    code, out, err = run_cli(capsys, *generate("--out", str(tmp_path / "notes.txt" / "cat.png")))
    assert code == 2 and out == ""
    assert_one_sentence(err, "notes.txt is a file, not a folder")


def test_out_onto_a_directory(tmp_path, data_dir, capsys):
    (tmp_path / "cat.png").mkdir()
    code, _, err = run_cli(capsys, *generate("--out", str(tmp_path / "cat.png")))
    assert code == 2
    assert_one_sentence(err, "it is a folder")


def test_out_with_undecodable_bytes(tmp_path, data_dir, capsys):
    name = os.fsdecode(str(tmp_path).encode() + b"/caf\xe9.png")  # Latin-1 bytes, as a shell passes them
    code, _, err = run_cli(capsys, *generate("--out", name))
    assert code == 2
    assert_one_sentence(err, "not valid UTF-8")


def test_prompt_with_invalid_utf8(data_dir, capsys):
    prompt = os.fsdecode(b"a caf\xe9 at night")
    code, _, err = run_cli(capsys, "generate", "--prompt", prompt, "--models", NO_MODELS)
    assert code == 2
    assert_one_sentence(err, "prompt contains bytes that are not valid UTF-8")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_device_mps_without_mps(data_dir, capsys):
    code, _, err = run_cli(capsys, *generate("--device", "mps"))
    assert code == 2
    assert_one_sentence(err, "Apple MPS is not available")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_does_not_contradict_itself(data_dir, capsys):
    code, _, err = run_cli(capsys, *generate("--device", "cuda"))
    assert code == 2
    assert_one_sentence(err, "no usable NVIDIA CUDA GPU", "auto or cpu")
    assert "profile" not in err


def _safetensors(path, header: dict, data: bytes = b"\0" * 64):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


@pytest.mark.parametrize("entry, why", [
    ({"dtype": "F32", "shape": [[2, 2]], "data_offsets": [0, 16]}, "shape"),
    ({"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]}, "shape"),
    ({"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]}, "offsets"),
    ({"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}, "offsets"),
    ({"dtype": "F32", "shape": [4], "data_offsets": [0]}, "offsets"),
    ({"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}, "does not match"),
    ({"dtype": ["F32"], "shape": [4], "data_offsets": [0, 16]}, "dtype"),
    ({"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}, "shape"),
    ([1, 2, 3], "not an object"),
])
def test_malformed_safetensors_headers_are_refused(tmp_path, entry, why):
    path = _safetensors(tmp_path / "bad.safetensors", {"w": entry})
    with pytest.raises(ModelFilesError, match=why):
        read_safetensors_index(path)


def test_deeply_nested_header_is_refused(tmp_path):
    raw = b"[" * 100_000 + b"]" * 100_000
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(ModelFilesError, match="nested too deeply"):
        read_safetensors_index(path)


def test_generate_with_a_malformed_transformer_is_bad_input(comfy_copy, data_dir, capsys):
    target = next((comfy_copy / "diffusion_models").glob("*.safetensors"))
    _safetensors(target, {"w": {"dtype": "BF16", "shape": ["x"], "data_offsets": [0, 2]}})
    code, out, err = run_cli(capsys, "generate", "--prompt", "x", "--width", "256", "--height", "256",
                             "--models", str(comfy_copy), "--device", "cpu")
    assert code == 2 and out == ""
    assert_one_sentence(err, target.name, "invalid safetensors header")


# -- faults during the save, after the image exists ----------------------------------------------


def test_full_disk_at_the_output_keeps_the_image_in_the_data_folder(tiny_models, tmp_path, data_dir, capsys,
                                                                    monkeypatch):
    import zimage_desktop.fsutil as fsutil

    out_dir = tmp_path / "usb-stick"
    real_link = os.link

    def link_or_full(src, dst, *a, **kw):  # the output device fills up as the image is written
        if os.path.dirname(os.fspath(dst)) == str(out_dir):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(dst))
        return real_link(src, dst, *a, **kw)

    monkeypatch.setattr(fsutil.os, "link", link_or_full)
    code, out, err = run_cli(capsys, "generate", "--prompt", "keep me", "--seed", "4", "--width", "256",
                             "--height", "256", "--models", str(tiny_models.comfy), "--out", str(out_dir / "k.png"))
    assert code == 1
    assert_one_sentence(err, f"Could not save the image to {out_dir / 'k.png'} (the disk is full); it was kept at")
    kept = err.split("it was kept at ")[1].rstrip(".")
    assert os.path.isfile(kept) and kept.startswith(str(data_dir / "images"))
    record = json.loads(out)
    assert record["path"] == kept and record["id"] is not None
    assert not list(out_dir.glob("*"))  # no half-written file, no leftover temp file
    assert main(["history", "show", str(record["id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == kept


def test_full_database_keeps_the_image_and_says_where(tmp_path):
    from PIL import Image

    from zimage_desktop.engine.request import GeneratedImage, GenerationRequest
    from zimage_desktop.history.saving import save_generated
    from zimage_desktop.history.store import HistoryStore

    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count={pages}")  # SQLite's own "database or disk is full"
    image = GeneratedImage(GenerationRequest(prompt="x" * 3000, seed=1, width=256, height=256),
                           Image.new("RGB", (32, 32)), {}, {})
    saved = save_generated(image, paths, store)
    assert saved.history_id is None and saved.path.is_file()
    assert saved.problem == (f"The image is saved at {saved.path} but could not be recorded in the history "
                             f"(The history database {paths.history_db} could not be written: the disk is full).")


# -- real read-only and full file systems (a private mount namespace; needs root and unshare) ---

def _can_mount():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                          capture_output=True).returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and unshare to mount a small tmpfs")


def _cli_in_mount(mount_point, options, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    script = (f"mount -t tmpfs -o {options} tmpfs {mount_point} && "
              f"exec {sys.executable} -m zimage_desktop " + " ".join(f"'{a}'" for a in args))
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=120)


@needs_mount
def test_read_only_data_folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    proc = _cli_in_mount(data, "ro,size=1m", "generate", "--prompt", "x", "--data-dir", str(data),
                         "--models", NO_MODELS)
    assert proc.returncode == 2, proc.stderr
    assert_one_sentence(proc.stderr.strip(), "the disk is read-only", "--data-dir")


@needs_mount
def test_full_output_disk_is_found_before_work(tmp_path, data_dir):
    out = tmp_path / "small"
    out.mkdir()
    proc = _cli_in_mount(out, "size=1m", "generate", "--prompt", "x", "--models", NO_MODELS,
                         "--out", str(out / "x.png"))
    assert proc.returncode == 2, proc.stderr
    assert_one_sentence(proc.stderr.strip(), "only 1 MB are free")


def test_os_errors_reaching_the_top_are_one_sentence(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    # the data folder itself lies under a regular file: settings, history and images all fail
    for command in ("list", "repair"):
        code = main(["history", command, "--data-dir", str(tmp_path / "file" / "data")])
        err = capsys.readouterr().err.strip()
        assert code == 1
        assert_one_sentence(err, "not a folder")
