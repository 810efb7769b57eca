"""Time from process start to the main window being visible (target ≤ 1.0 s), and proof that
torch/diffusers are not imported before it shows.

Runs `python -m zimage_desktop` in fresh processes with a tiny hook that reports the moment the
window is shown, then quits. Uses the offscreen platform unless DISPLAY is set.
Usage: python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r"""
import sys, time, json
t0 = float(sys.argv[1])
from zimage_desktop import app
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
win = app.run_app(sys.argv[2], exec_loop=False)
shown = time.time() - t0
heavy = [m for m in ("torch", "diffusers", "transformers") if m in sys.modules]
print(json.dumps({"shown_s": shown, "heavy_before_show": heavy}), flush=True)
win.close()
QApplication.instance().quit()
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    times, heavy = [], set()
    with tempfile.TemporaryDirectory() as data:
        for _ in range(args.runs + 1):  # the first run warms the disk cache
            out = subprocess.run([sys.executable, "-c", PROBE, repr(time.time()), data], capture_output=True,
                                 text=True, env=env, timeout=60, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            times.append(r["shown_s"])
            heavy.update(r["heavy_before_show"])
    runs = times[1:]
    print(f"window visible after process start: median {statistics.median(runs):.2f} s, "
          f"max {max(runs):.2f} s over {len(runs)} runs (target <= 1.0 s)")
    print(f"heavy modules imported before the window showed: {sorted(heavy) or 'none'}")
    return 0 if not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
