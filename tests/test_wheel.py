"""What `pip install .` installs is the wheel, not the tree: every module and data file must be in it.

The tests themselves run against an editable install, which would hide a package left out of the
wheel (it did: zimage_desktop.poster was missing and the installed app did not open). The runtime data
lives in the top-level ``resources/`` folder (DESIGN.md's layout) and the build maps it into the wheel as
``zimage_desktop/resources`` (setup.py): the installed package must find it there, not in a checkout.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zimage_desktop"
RESOURCES = ROOT / "resources"
DATA_SUFFIXES = {".json", ".qm", ".txt", ".png", ".svg"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: setuptools reuses a build/ folder left in the tree, which can hold modules
    # that the package list no longer names.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in (PACKAGE, RESOURCES):
        shutil.copytree(folder, src / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = out.glob("zimage_desktop-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel) -> set[str]:
    return set(zipfile.ZipFile(wheel).namelist())


def tree_files(folder: Path, suffixes: set[str]) -> list[str]:
    """The files as the wheel names them: resources/… lands in zimage_desktop/resources/…."""
    prefix = "zimage_desktop/resources/" if folder == RESOURCES else "zimage_desktop/"
    return sorted(prefix + p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts)


@pytest.mark.slow
def test_wheel_holds_every_module_of_the_tree(wheel_names):
    modules = tree_files(PACKAGE, {".py"})
    assert "zimage_desktop/poster/compose.py" in modules  # the package that was once left out
    assert "zimage_desktop/cli/common.py" in modules
    assert [m for m in modules if m not in wheel_names] == []


@pytest.mark.slow
def test_wheel_holds_every_resource(wheel_names):
    assert not (PACKAGE / "resources").is_dir() or not any((PACKAGE / "resources").rglob("*.json")), \
        "runtime data belongs in the top-level resources/ folder"
    data = tree_files(RESOURCES, DATA_SUFFIXES)
    assert "zimage_desktop/resources/catalog.json" in data
    assert "zimage_desktop/resources/configs/z-image-turbo/transformer/config.json" in data
    assert "zimage_desktop/resources/translations/zimage_desktop_zh_CN.qm" in data
    assert [d for d in data if d not in wheel_names] == []
    assert not [n for n in wheel_names if n.startswith("resources/")], "no top-level 'resources' in site-packages"


@pytest.mark.slow
def test_installed_wheel_reads_its_resources_without_the_checkout(wheel, tmp_path):
    """Installed non-editable into a folder of its own and run from elsewhere: the catalog, a model config,
    the Chinese messages and the UI translation come from the installed package."""
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    probe = (
        "import zimage_desktop, sys\n"
        "from zimage_desktop.resource_root import resource_root\n"
        "from zimage_desktop.models.catalog import load_catalog\n"
        "from zimage_desktop.engine.model_files import shipped_config_dir\n"
        "from zimage_desktop.messages import catalog\n"
        "print(zimage_desktop.__file__)\n"
        "print(resource_root())\n"
        "print(len(load_catalog().components) > 0, (shipped_config_dir() / 'model_index.json').is_file(),\n"
        "      len(catalog('zh_CN')) > 100)\n"
        "print((resource_root() / 'translations' / 'zimage_desktop_zh_CN.qm').stat().st_size > 0)\n"
    )
    # -I drops PYTHONPATH and the checkout's folder; the editable install of the venv stays on sys.path,
    # so the target goes first: the import must come from it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n" + probe],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    module, root, checks, qm = proc.stdout.strip().splitlines()
    assert Path(module).is_relative_to(target)
    assert Path(root) == target / "zimage_desktop" / "resources"
    assert checks == "True True True"
    assert qm == "True"


@pytest.mark.slow
def test_editable_install_reads_the_top_level_resources(tmp_path):
    """`pip install -e .` (how developers and the tests install) maps the package to the tree: the data comes
    from the top-level resources/ folder beside it."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in (PACKAGE, RESOURCES):
        shutil.copytree(folder, src / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--prefix", str(venv),
                           "-e", str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = ("import zimage_desktop\nfrom zimage_desktop.resource_root import resource_root\n"
             "from zimage_desktop.messages import catalog\n"
             "print(zimage_desktop.__file__); print(resource_root()); print(len(catalog('zh_CN')) > 100)\n")
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    module, root, translated = proc.stdout.strip().splitlines()
    assert Path(module) == src / "zimage_desktop" / "__init__.py"
    assert Path(root) == src / "resources"
    assert translated == "True"
