"""A small soak in CI: processes saving the same seed into one data folder, killed with SIGKILL
at random moments; the full run is bench/soak_history.py (issue 13)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_soak_small(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "soak_history.py"), "--synthetic", "--workers", "4",
                           "--images", "12", "--kills", "6", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "soak: clean" in proc.stdout and "48 rows" in proc.stdout
    # Kills land at random moments while the workers run: on a fast (or a busy) machine some of the
    # six may come after a worker finished, so at least one must have hit.
    kills = int(re.search(r"(\d+) kills", proc.stdout).group(1))
    assert 1 <= kills <= 6


def test_concurrent_first_open_of_a_new_history(tmp_path):
    """Found by the soak: two processes creating the database at once both ran the migrations."""
    script = ("import sys; from zimage_desktop.history.store import HistoryStore; "
              "HistoryStore(sys.argv[1]).close()")
    for round_ in range(5):
        db = tmp_path / f"h{round_}.sqlite3"
        procs = [subprocess.Popen([sys.executable, "-c", script, str(db)], stderr=subprocess.PIPE, text=True,
                                  cwd=ROOT) for _ in range(4)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
