"""The models folder: scan, verify, import from ComfyUI, and the CLI over them."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import save_file

from tests.fixtures import Fault, tiny_catalog_data
from zimage_desktop.cli import main
from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.models.catalog import parse_catalog
from zimage_desktop.models.hashing import HashCache
from zimage_desktop.models.store import (
    comfyui_snippet, import_folder, read_comfyui_config, recognise, scan, write_comfyui_config,
)

TR = "files/diffusion_models/tiny_zimage_bf16.safetensors"


def _comfyui_install(tiny_models, root):
    """A ComfyUI-like tree with the tiny Z-Image files under its own folder names, plus noise."""
    models = root / "ComfyUI" / "models"
    for sub in ("unet", "clip", "vae", "checkpoints"):
        (models / sub).mkdir(parents=True)
    shutil.copy(next((tiny_models.comfy / "diffusion_models").iterdir()), models / "unet" / "my_zimage.safetensors")
    shutil.copy(next((tiny_models.comfy / "text_encoders").iterdir()), models / "clip" / "qwen.safetensors")
    shutil.copy(next((tiny_models.comfy / "vae").iterdir()), models / "vae" / "flux_ae.safetensors")
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(2, 2),
               "model.diffusion_model.label_emb.0.0.weight": torch.zeros(2, 2)}, models / "checkpoints" / "sdxl.safetensors")
    (models / "checkpoints" / "old.ckpt").write_bytes(b"\x80")
    return models


def _with_configs(tiny_models, models_dir):
    shutil.copytree(tiny_models.comfy / "configs", models_dir / "configs")


def test_recognise_by_tensors_not_names(tiny_models, tmp_path, monkeypatch):
    from zimage_desktop.engine import model_files as mf

    tr = tmp_path / "ae.safetensors"  # named like a VAE, but it is a transformer
    shutil.copy(next((tiny_models.comfy / "diffusion_models").iterdir()), tr)
    # Against the real (full-size) config the tiny transformer is a Z-Image of another size: not ours.
    assert recognise(tr) is None
    monkeypatch.setattr(mf, "shipped_config_dir", lambda model="z-image-turbo": tiny_models.comfy / "configs" / "z-image-turbo")
    assert recognise(tr) == "transformer"
    assert recognise(next((tiny_models.comfy / "vae").iterdir())) == "vae"
    assert recognise(next((tiny_models.comfy / "text_encoders").iterdir())) == "text_encoder"


@pytest.mark.parametrize("mode", ["hardlink", "symlink", "reference"])
def test_import_comfyui_folder_then_the_engine_loads_it(tiny_models, tmp_path, monkeypatch, mode):
    from zimage_desktop.engine import model_files as mf
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import GenerationRequest

    # Recognition checks shapes against the shipped full-size config; the tiny model has its own.
    monkeypatch.setattr(mf, "shipped_config_dir", lambda model="z-image-turbo": tiny_models.comfy / "configs" / "z-image-turbo")
    comfy = _comfyui_install(tiny_models, tmp_path)
    ours = tmp_path / "ours"
    report = import_folder(comfy, ours, mode)
    assert len(report.imported) == 3
    assert "pickle" in report.skipped[str(comfy / "checkpoints" / "old.ckpt")]
    assert "not a Z-Image" in report.skipped[str(comfy / "checkpoints" / "sdxl.safetensors")]
    assert any("configs" in n for n in report.notes)
    if mode == "hardlink":
        linked = ours / "diffusion_models" / "my_zimage.safetensors"
        assert linked.stat().st_ino == (comfy / "unet" / "my_zimage.safetensors").stat().st_ino
    elif mode == "symlink":
        assert (ours / "vae" / "flux_ae.safetensors").is_symlink()
    else:
        assert not (ours / "diffusion_models").exists()
    _with_configs(tiny_models, ours)
    ms = resolve_model_set(ours)
    assert ms.transformer.name == "my_zimage.safetensors"
    image = Generator(ours, device="cpu", plan=reference_plan()).run(
        GenerationRequest(prompt="imported", seed=1, width=256, height=256)).images[0]
    assert image.image.size == (256, 256)
    # importing again changes nothing
    again = import_folder(comfy, ours, mode)
    assert mode == "reference" or not again.imported


def test_comfyui_extra_model_paths_round_trip(tmp_path):
    comfy_root = tmp_path / "ComfyUI"
    comfy_root.mkdir()
    (comfy_root / "extra_model_paths.yaml").write_text("a111:\n    base_path: /sd/\n    checkpoints: models/Stable-diffusion\n")
    write_comfyui_config(comfy_root, tmp_path / "ours")
    folders = read_comfyui_config(comfy_root / "extra_model_paths.yaml")
    assert (tmp_path / "ours").resolve() / "diffusion_models" in folders["diffusion_models"]
    assert [p.as_posix() for p in folders["checkpoints"]] == ["/sd/models/Stable-diffusion"]
    assert "zimage_desktop:" in comfyui_snippet(tmp_path / "ours")


def test_scan_and_verify_use_the_hash_cache(hub, tiny_models, tmp_path):
    from zimage_desktop.models.download import Downloader
    from zimage_desktop.models.sources import SourceConfig

    cat = parse_catalog(tiny_catalog_data(tiny_models.comfy, hub))
    models = tmp_path / "m"
    cache = HashCache(tmp_path / "hashes.json")
    Downloader(models, SourceConfig(hf_endpoint=hub.url, modelscope_endpoint=hub.url), disk_margin=0,
               hash_cache=cache).download([f for c in cat.components.values() for f in c.files])
    assert all(s.state == "verified" for s in scan(models, cat, HashCache(tmp_path / "hashes.json"), verify=True))
    # A damaged file is found (its size and mtime changed, so the cache is not trusted).
    path = models / "diffusion_models" / "tiny_zimage_bf16.safetensors"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    states = {s.component.id: s.state for s in scan(models, cat, cache, verify=True)}
    assert states["transformer"] == "corrupt" and states["vae"] == "verified"


def test_cli_models_download_list_verify(hub, tiny_models, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZIMAGE_DESKTOP_DATA", str(tmp_path / "data"))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(tiny_catalog_data(tiny_models.comfy, hub)))
    common = ["--catalog", str(catalog), "--models", str(tmp_path / "m")]
    assert main(["models", "download", "tiny", *common, "--endpoint", hub.url, "--modelscope-endpoint", hub.url]) == 0
    out = capsys.readouterr()
    assert "downloaded, 0 already present, 0 failed" in out.out
    assert main(["models", "list", *common]) == 0
    assert "tiny   transformer + text-encoder + vae + configs   (installed)" in capsys.readouterr().out
    assert main(["models", "verify", *common]) == 0
    (tmp_path / "m" / "vae" / "tiny_ae.safetensors").write_bytes(b"x" * 10)
    assert main(["models", "verify", *common]) == 1
    assert "WRONG SIZE vae/tiny_ae.safetensors" in capsys.readouterr().err


def test_download_resumes_across_a_killed_process(hub, tiny_models, tmp_path):
    """kill -9 the downloading process mid-file; the next run continues from the part file."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(tiny_catalog_data(tiny_models.comfy, hub)))
    hub.faults[TR] = Fault(rate=400_000)
    part = tmp_path / "m" / "diffusion_models" / "tiny_zimage_bf16.safetensors.part"
    args = [sys.executable, "-m", "zimage_desktop", "models", "download", "transformer", "--catalog", str(catalog),
            "--models", str(tmp_path / "m"), "--endpoint", hub.url, "--modelscope-endpoint", hub.url]
    env = dict(os.environ, ZIMAGE_DESKTOP_DATA=str(tmp_path / "data"))
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while (not part.exists() or part.stat().st_size < 500_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = part.stat().st_size
    assert kept >= 500_000
    hub.faults[TR] = Fault()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    gets = [r for r in hub.requests_for(TR) if r.method == "GET"]
    assert gets[-1].range_start == kept
    final = tmp_path / "m" / "diffusion_models" / "tiny_zimage_bf16.safetensors"
    assert final.read_bytes() == next((tiny_models.comfy / "diffusion_models").iterdir()).read_bytes()
