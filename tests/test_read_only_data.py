"""A data folder on a read-only disk (issue 25): the history still lists and searches (it is not
taken for a damaged one), and `generate --no-history --out elsewhere` does not need it."""

import contextlib
import json
import os
import subprocess

import pytest

from zimage_desktop.cli import main
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.store import HistoryStore


@contextlib.contextmanager
def read_only(folder):
    """``folder`` read-only for this process: a read-only bind mount as root (where permissions
    do not bind), else the permission bits."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
    if not bound:
        pytest.skip("running as root without the right to bind-mount: a read-only folder cannot be made")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("a read-only bind mount is not allowed here")
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_history_on_a_read_only_disk_lists_and_searches(data_dir, tmp_path, capsys):
    store = HistoryStore(Paths(data_dir).history_db)
    for i in range(3):
        store.add(GenerationRequest(prompt=f"lighthouse {i}", seed=i), tmp_path / f"{i}.png")
    store.close()
    with read_only(data_dir):
        with pytest.raises(OSError):
            (data_dir / "probe").write_text("x")
        assert main(["history", "list", "--json"]) == 0
        out, err = capsys.readouterr()
        assert [json.loads(line)["seed"] for line in out.splitlines()] == [2, 1, 0] and err == ""
        assert main(["history", "search", "lighthouse 1", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["seed"] == 1
    assert not list(data_dir.glob("history.sqlite3.damaged-*"))  # never taken for damage


def test_generate_without_history_to_elsewhere_needs_no_writable_data_folder(tiny_models, data_dir, tmp_path,
                                                                           capsys):
    (data_dir / "cache").mkdir(parents=True)
    out = tmp_path / "elsewhere" / "fox.png"
    with read_only(data_dir):
        assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", "fox", "--seed", "1", "--steps", "1",
                     "--width", "256", "--height", "256", "--no-history", "--out", str(out)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == str(out) and out.is_file() and record["id"] is None
