"""Packaging: the torch choice of the install helper, and the Linux desktop files."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


def run_install(tmp_path, tools: dict[str, str]) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in tools.items():
        fake_tool(bin_dir, name, script)
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "install.sh"), "--dry-run"], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("driver, cap, expected", [
    ("575.51.03", "8.9", "whl/cu128"),
    ("575.51.03", "6.1", "whl/cu126"),  # Pascal: newer CUDA builds dropped it
    ("560.35.03", "7.5", "whl/cu126"),
    ("535.183.01", "8.6", "whl/cu118"),
])
def test_install_picks_the_cuda_build_for_the_driver(tmp_path, driver, cap, expected):
    script = ('case "$*" in *driver_version*) echo ' + driver + ';; *compute_cap*) echo ' + cap + ';; esac')
    out = run_install(tmp_path, {"nvidia-smi": script})
    assert f"--index-url https://download.pytorch.org/{expected}" in out and "pip install ." in out


def test_install_falls_back_to_rocm_then_cpu(tmp_path):
    (tmp_path / "amd").mkdir()
    (tmp_path / "none").mkdir()
    assert "--index-url https://download.pytorch.org/whl/rocm" in run_install(tmp_path / "amd", {"rocminfo": "exit 0"})
    assert "--index-url https://download.pytorch.org/whl/cpu" in run_install(tmp_path / "none", {})


def test_desktop_file_and_metainfo():
    desktop = (ROOT / "packaging" / "linux" / "io.github.zimage_desktop.desktop").read_text()
    assert "Exec=zimage-desktop" in desktop and "Icon=io.github.zimage_desktop" in desktop and "Name[zh_CN]=" in desktop
    tree = ET.parse(ROOT / "packaging" / "linux" / "io.github.zimage_desktop.metainfo.xml")
    assert tree.getroot().findtext("id") == "io.github.zimage_desktop"
    validator = shutil.which("appstreamcli")
    if validator:
        proc = subprocess.run([validator, "validate", "--no-net", "--pedantic",
                               str(ROOT / "packaging" / "linux" / "io.github.zimage_desktop.metainfo.xml")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    for size in (16, 32, 48, 128, 256, 512):
        assert (ROOT / "packaging" / "icons" / f"zimage-desktop-{size}.png").exists()


def _check_bundle():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_bundle", ROOT / "packaging" / "check_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_bundle(tmp_path, module, leave_out=()):
    """A one-folder bundle laid out as PyInstaller does (_internal/), holding what the spec collects."""
    internal = tmp_path / "bundle" / "_internal"
    for source, dest in module.bundle_datas():
        if Path(source).name in leave_out:
            continue
        (internal / dest).mkdir(parents=True, exist_ok=True)
        (internal / dest / Path(source).name).write_bytes(b"")
    for key, dist in module._requirements_closure("zimage-desktop").items():
        info = Path(str(getattr(dist, "_path", ""))).name
        if info.endswith(".dist-info"):
            (internal / info).mkdir(parents=True, exist_ok=True)
    return tmp_path / "bundle"


def test_bundle_check_finds_a_data_file_the_bundle_lacks(tmp_path):
    """The check that would have caught transformers 5.25's `kernels` data (issue 26): a bundle without
    kernels/_internals/python_depends.json is reported, by distribution and path; the complete one is not."""
    module = _check_bundle()
    wanted = {str(p) for _, files in module.expected_files().values() for p in files}
    if "kernels/_internals/python_depends.json" not in wanted:
        pytest.skip("this environment's transformers does not depend on kernels")
    assert module.missing_files(_fake_bundle(tmp_path / "full", module)) == {}
    report = module.missing_files(_fake_bundle(tmp_path / "lacking", module, leave_out={"python_depends.json"}))
    assert report == {"kernels": ["kernels/_internals/python_depends.json"]}


def test_the_lock_pins_every_runtime_dependency_at_an_allowed_version():
    """packaging/requirements-lock.txt (the bundle's and the installers' versions) must cover what
    pyproject.toml asks for, at versions it allows: a dependency added without refreshing the lock fails here."""
    import tomllib

    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "packaging" / "requirements-lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            req = Requirement(line)
            pins[req.name.lower().replace("_", "-")] = str(next(iter(req.specifier)).version)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in [*project["dependencies"], *project["optional-dependencies"]["packaging"]]:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in the lock: run bash packaging/lock.sh"
        assert req.specifier.contains(pins[name], prereleases=True), f"lock has {name}=={pins[name]}, pyproject wants {req}"
