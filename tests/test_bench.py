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
