"""One models-folder registry (issue 29, restructuring): ``model_folders`` is the only module that
spells the sub-folder names, and the extra_model_paths.yaml section made from it lets an unmodified
ComfyUI find every kind of file it can use in our folder (LoRAs and upscalers included)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import zimage_desktop
from zimage_desktop import model_folders
from zimage_desktop.devkit import comfy_kit
from zimage_desktop.models.store import write_comfyui_config

PACKAGE = Path(zimage_desktop.__file__).parent
NAMES = {f.name for f in model_folders.FOLDERS.values()} - {"vae", "depth"}  # too common a word to search for
# a path built from a folder name literal (models_dir / "loras", "diffusion_models" / name), or a
# "key: folder" mapping of them ("loras" and "configs" are also field names elsewhere)
_NAME = r"""["'](%s)["']""" % "|".join(sorted(NAMES))
LITERAL = re.compile(rf"/\s*{_NAME}|{_NAME}\s*/|{_NAME}:\s*{_NAME}")


def test_only_the_registry_spells_the_folder_names():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "devkit" or relative == Path("model_folders.py"):
            continue  # the devkit writes test folders the way a user's would look; the registry itself
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if LITERAL.search(code) and "resources" not in code:
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_catalog_downloads_only_into_registered_folders():
    from zimage_desktop.models.catalog import ALLOWED_ROOTS, load_catalog

    assert set(ALLOWED_ROOTS) <= {f.name for f in model_folders.FOLDERS.values()}
    for component in load_catalog().components.values():
        for f in component.files:
            assert Path(f.dest).parts[0] in ALLOWED_ROOTS


@pytest.mark.comfy
@pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing())
def test_unmodified_comfyui_sees_every_shared_folder(tmp_path):
    ours = tmp_path / "models"
    for f in model_folders.FOLDERS.values():
        (ours / f.name).mkdir(parents=True)
    comfy_root = tmp_path / "comfy"
    comfy_root.mkdir()
    yaml_path = write_comfyui_config(comfy_root, ours)
    comfy = comfy_kit.kit_dir() / "ComfyUI"
    keys = sorted({k for f in model_folders.FOLDERS.values() for k in (f.comfy_key, *f.comfy_legacy) if k})
    script = ("import json, sys, folder_paths\n"
              "from utils.extra_config import load_extra_path_config\n"
              f"load_extra_path_config({str(yaml_path)!r})\n"
              f"print(json.dumps({{k: folder_paths.get_folder_paths(k) for k in {keys!r}}}))\n")
    out = subprocess.run([str(comfy_kit.kit_python()), "-c", script], cwd=comfy, capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip().splitlines()[-1]
    seen = {k: [Path(p) for p in v] for k, v in json.loads(out).items()}
    for f in model_folders.FOLDERS.values():
        for key in (f.comfy_key, *f.comfy_legacy) if f.comfy_key else ():
            assert ours / f.name in seen[key], (key, seen[key])
    assert "loras" in seen and "upscale_models" in seen  # the user's LoRAs and upscalers work there too
    # our configs/ (a tokenizer) never lands in ComfyUI's "configs" (its checkpoint .yaml files)
    assert ours / "configs" not in [p for paths in seen.values() for p in paths]
