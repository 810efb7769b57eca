"""Soak: several processes save images with the same seed into one data folder while some are
killed with SIGKILL at random moments; afterwards the history must hold together.

Each worker makes images with seed 7 (real generations with a tiny random Z-Image pipeline, or
with --synthetic plain images, which exercise the same saving code much faster) and saves them with
``history.saving.save_generated`` — the code the CLI and the window use. A killed worker is started
again for the images it still owes. At the end: ``PRAGMA integrity_check`` is ok, ``history check``
reports no row without its file, no file shared by two rows and no damaged row, every row's image
opens, and images without a row (a kill between writing the PNG and committing its row) or
leftover temporary files number at most the kills.

Imports: torch + diffusers (without --synthetic), PIL, the project.
Usage: python bench/soak_history.py [--workers 4] [--images 25] [--kills 10] [--synthetic] [--work DIR]
       [--limit SECONDS]
Prints "soak: clean" and exits 0 when every check holds.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED = 7


def worker(data: Path, count: int, models: str | None) -> None:
    from PIL import Image

    from zimage_desktop.config import Paths
    from zimage_desktop.engine.request import GeneratedImage, GenerationRequest
    from zimage_desktop.history.repair import open_history
    from zimage_desktop.history.saving import save_generated

    paths = Paths.resolve(data)
    store, _ = open_history(paths)
    generator = None
    if models:
        from zimage_desktop.engine.generator import Generator
        from zimage_desktop.engine.planner import reference_plan

        generator = Generator(Path(models), device="cpu", plan=reference_plan("cpu"))
    request = GenerationRequest(prompt="soak 同一种子", seed=SEED, width=256, height=256)
    for i in range(count):
        if generator is not None:
            image = generator.run(request).images[0]
        else:
            image = GeneratedImage(request, Image.new("RGB", (256, 256), (os.getpid() % 256, i % 256, 0)),
                                   {"total_s": 0.0}, {"name": "synthetic"})
        saved = save_generated(image, paths, store)
        if saved.problem:
            print(f"problem: {saved.problem}", file=sys.stderr, flush=True)
        print("saved", flush=True)


def _start(data: Path, count: int, models: str | None) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--worker", str(data), "--images", str(count)]
    if models:
        cmd += ["--models", models]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)


def soak(data: Path, workers: int, images: int, kills: int, models: str | None, rng: random.Random,
         limit_s: float = 1800) -> int:
    import selectors

    # loading torch takes seconds: space the kills so that most land during generation and saving
    gap = (3.0, 12.0) if models else (0.05, 0.3)

    owed = {w: images for w in range(workers)}
    procs = {w: _start(data, images, models) for w in range(workers)}
    sel = selectors.DefaultSelector()
    for w, p in procs.items():
        sel.register(p.stdout, selectors.EVENT_READ, w)
    killed = 0
    next_kill = time.monotonic() + rng.uniform(*gap)
    deadline = time.monotonic() + limit_s
    while procs and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.05):
            w = key.data
            line = key.fileobj.readline()
            if line.startswith("saved"):
                owed[w] -= 1
            elif not line:  # the worker ended (finished, or killed below)
                sel.unregister(key.fileobj)
                procs.pop(w).wait()
                if owed[w] > 0:
                    procs[w] = _start(data, owed[w], models)
                    sel.register(procs[w].stdout, selectors.EVENT_READ, w)
        if killed < kills and time.monotonic() >= next_kill and procs:
            victim = rng.choice(sorted(procs))
            procs[victim].send_signal(signal.SIGKILL)
            killed += 1
            next_kill = time.monotonic() + rng.uniform(*gap)
    for p in procs.values():
        p.kill()
    return killed


def verify(data: Path, killed: int) -> list[str]:
    from PIL import Image

    from zimage_desktop.config import Paths
    from zimage_desktop.history.check import check_history
    from zimage_desktop.history.store import HistoryStore

    paths = Paths.resolve(data)
    failures = []
    conn = sqlite3.connect(paths.history_db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    if integrity != "ok":
        failures.append(f"integrity_check: {integrity}")
    store = HistoryStore(paths.history_db)
    report = check_history(store, paths.images, paths.thumbnails)
    records = store.page(0, 100_000)
    store.close()
    if report.missing or report.shared or report.damaged:
        failures += report.lines()
    if len(report.orphans) + len(report.leftovers) > killed:
        failures.append(f"{len(report.orphans)} images without a row and {len(report.leftovers)} temporary files "
                        f"after {killed} kills")
    if len({r.path for r in records}) != len(records):
        failures.append("two rows share a file")
    for r in records:
        try:
            with Image.open(r.path) as img:
                img.load()
        except OSError as exc:
            failures.append(f"image {r.id} does not open: {exc}")
    proc = subprocess.run([sys.executable, "-m", "zimage_desktop", "history", "check", "--data-dir", str(data)],
                          capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")))
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr)
    print(f"{len(records)} rows, {len(report.orphans)} images without a row, {len(report.leftovers)} temporary "
          f"files, {killed} kills")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--images", type=int, default=25)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--synthetic", action="store_true", help="plain images instead of tiny-model generations")
    parser.add_argument("--work", help="keep the data folder here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=float, default=1800, help="seconds before the workers are stopped")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker), args.images, args.models)
        return 0
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="zimage-soak-"))
    models = None
    if not args.synthetic:
        from zimage_desktop.devkit.tiny import build_tiny_models

        models = str(build_tiny_models(work / "tiny").comfy)
    started = time.monotonic()
    killed = soak(work / "data", args.workers, args.images, args.kills, models, random.Random(args.seed), args.limit)
    failures = verify(work / "data", killed)
    print(f"{args.workers} processes × {args.images} images with seed {SEED} in {time.monotonic() - started:.0f} s")
    for failure in failures:
        print(f"FAIL {failure}")
    print("soak: clean" if not failures else "soak: FAILED")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
