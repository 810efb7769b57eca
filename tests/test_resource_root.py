"""One function finds the runtime data in each layout the app runs from (issue 29, 'Layout as designed'): the
source tree and editable install (top-level resources/ beside the package), the wheel (inside the package) and
the PyInstaller bundle (where packaging/zimage-desktop.spec puts it). A stale folder without the data is passed
over. tests/test_wheel.py installs real wheels and editable installs; these build the layouts by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zimage_desktop import resource_root as rr

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh(monkeypatch):
    rr.resource_root.cache_clear()
    monkeypatch.delattr("sys._MEIPASS", raising=False)
    yield monkeypatch
    rr.resource_root.cache_clear()


def _data(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / rr.MARKER).write_text("{}")
    return folder


def _package_at(monkeypatch, root: Path) -> None:
    (root / "zimage_desktop").mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(rr, "__file__", str(root / "zimage_desktop" / "resource_root.py"))


def test_the_checkout_reads_the_top_level_resources(fresh):
    assert rr.resource_root() == ROOT / "resources"
    assert (rr.resource("configs", "z-image-turbo", "model_index.json")).is_file()
    assert not (ROOT / "zimage_desktop" / "resources" / rr.MARKER).exists()


def test_installed_wheel_layout_reads_inside_the_package(fresh, tmp_path):
    _package_at(fresh, tmp_path / "site")
    inside = _data(tmp_path / "site" / "zimage_desktop" / "resources")
    assert rr.resource_root() == inside


def test_a_stale_folder_inside_the_package_does_not_hide_the_top_level_one(fresh, tmp_path):
    _package_at(fresh, tmp_path / "tree")
    (tmp_path / "tree" / "zimage_desktop" / "resources" / "__pycache__").mkdir(parents=True)  # left by git
    top = _data(tmp_path / "tree" / "resources")
    assert rr.resource_root() == top


def test_frozen_bundle_reads_where_the_spec_puts_the_data(fresh, tmp_path):
    spec = (ROOT / "packaging" / "zimage-desktop.spec").read_text(encoding="utf-8")
    (dest,) = re.findall(r'\(str\(ROOT / "resources"\), "([^"]+)"\)', spec)
    _package_at(fresh, tmp_path / "elsewhere")
    bundle = tmp_path / "_internal"
    data = _data(bundle / dest)
    fresh.setattr("sys._MEIPASS", str(bundle), raising=False)
    assert rr.resource_root() == data


def test_missing_data_says_where_it_looked(fresh, tmp_path):
    _package_at(fresh, tmp_path / "broken")
    with pytest.raises(FileNotFoundError, match="reinstall") as caught:
        rr.resource_root()
    assert str(tmp_path / "broken" / "resources") in str(caught.value)
