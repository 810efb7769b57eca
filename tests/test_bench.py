"""The benchmarks run (briefly) in CI so they cannot rot; their numbers live in docs/PERFORMANCE.md."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_engine_overhead_bench_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "engine_overhead.py"), "--pairs", "1", "--size", "256"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "engine/plain median ratio:" in proc.stdout and "speed-up" in proc.stdout


@pytest.mark.slow
def test_gpu_profiles_bench_runs_tiny_on_cpu(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_profiles.py"), "--tiny", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    names = [r.split("|")[1].strip() for r in rows[1:]]
    assert names == ["diffusers bf16 (baseline)", "24gb", "16gb", "12gb", "8gb", "6gb", "4gb"]
    assert not any("Error" in r for r in rows)


@pytest.mark.slow
def test_load_memory_bench_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "load_memory.py"), "--dim", "512", "--layers", "2"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "worst peak anonymous memory / file size" in proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(not __import__("shutil").which("curl"), reason="needs curl")
def test_download_throughput_bench_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "download_throughput.py"), "--mb", "16", "--rounds", "1"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ours / curl") == 2


@pytest.mark.slow
def test_window_shows_before_torch_is_imported():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "startup.py"), "--runs", "1"],
                          capture_output=True, text=True, timeout=120,
                          env=dict(__import__("os").environ, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "heavy modules imported before the window showed: none" in proc.stdout


@pytest.mark.slow
def test_recipe_ram_bench_runs_tiny(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "recipe_ram.py"), "--tiny", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "GGUF encoder load:" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| GGUF Q4_K_M transformer"))
    assert "failed" not in row
