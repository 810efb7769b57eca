"""What `pip install .` installs is the wheel, not the tree: every module and data file must be in it.

The tests themselves run against an editable install, which would hide a package left out of the
wheel (it did: zimage_desktop.poster was missing and the installed app did not open).
"""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zimage_desktop"
DATA_SUFFIXES = {".json", ".qm", ".txt", ".png", ".svg"}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    # Built from a copy: setuptools reuses a build/ folder left in the tree, which can hold modules
    # that the package list no longer names.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / "zimage_desktop", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = out.glob("zimage_desktop-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def tree_files(suffixes: set[str]) -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*")
                  if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts)


@pytest.mark.slow
def test_wheel_holds_every_module_of_the_tree(wheel_names):
    modules = tree_files({".py"})
    assert "zimage_desktop/poster/compose.py" in modules  # the package that was once left out
    assert [m for m in modules if m not in wheel_names] == []


@pytest.mark.slow
def test_wheel_holds_every_resource(wheel_names):
    data = tree_files(DATA_SUFFIXES)
    assert "zimage_desktop/resources/catalog.json" in data
    assert "zimage_desktop/resources/configs/z-image-turbo/transformer/config.json" in data
    assert [d for d in data if d not in wheel_names] == []
