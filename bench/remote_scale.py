"""Remote engines at scale: real ComfyUI servers from the kit on this machine, jobs spread by
``remote.farm.Farm``.

Three runs of ``--jobs`` single-image jobs (distinct seeds, so no server answers from its cache):
1. one server alone (the baseline);
2. ``--servers`` servers;
3. the same servers again, one killed with SIGKILL when half the jobs are done: every job must
   still finish, each seed exactly once (nothing lost, nothing twice).
Prints throughput (jobs/min), the ratio to one server, where the jobs ran and the fault run's
counts. Needs ZIMAGE_COMFY_VENV (the kit's venv; see shared/peers/comfyui/README.md).

    python bench/remote_scale.py --servers 3 --jobs 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zimage_desktop.devkit import comfy_kit  # noqa: E402
from zimage_desktop.engine import request as request_module  # noqa: E402
from zimage_desktop.engine.request import GenerationRequest  # noqa: E402
from zimage_desktop.remote.engine import RemoteEngine  # noqa: E402
from zimage_desktop.remote.farm import Farm, FarmEvents  # noqa: E402
from zimage_desktop.remote.http import ServerConfig  # noqa: E402


def run(servers: list[comfy_kit.KitServer], jobs: int, steps: int, size: int, seed0: int,
        kill: comfy_kit.KitServer | None = None) -> dict:
    lock = threading.Lock()
    seeds: list[int] = []
    where: Counter[str] = Counter()
    failed: list[str] = []
    requeued: list[str] = []
    killed = threading.Event()

    def image(job, engine, made):
        with lock:
            seeds.append(made.seed)
            where[engine] += 1

    def started(job, engine):
        # about halfway, the victim dies while it holds a job (killed right after the job starts: on an
        # idle machine a tiny job takes well under a second): that job must run elsewhere, once
        with lock:
            if kill is not None and engine == victim and len(seeds) >= halfway and not killed.is_set():
                killed.set()
                threading.Timer(0.05, kill.kill9).start()

    victim = f"server-{len(servers)}"
    # the victim's next job after this many images; early enough that it still gets one with few jobs
    halfway = max(1, jobs // 2 - len(servers))
    events = FarmEvents(image=image, started=started, failed=lambda job, e, why: failed.append(str(why)),
                        requeued=lambda job, e, why: (requeued.append(e), print(f"  {e} gave a job back: {why}",
                                                                               file=sys.stderr)))
    engines = [RemoteEngine(ServerConfig(f"server-{i + 1}", s.url, timeout_s=30), previews=False)
               for i, s in enumerate(servers)]
    # a server that failed sits out 5 s, then is asked again (a dead one keeps failing that question)
    farm = Farm(engines, events, backoff_s=5)
    farm.wait_ready()
    started = time.monotonic()
    for i in range(jobs):
        farm.submit(GenerationRequest(prompt=f"benchmark job {i}", width=size, height=size, steps=steps,
                                      seed=seed0 + i))
    finished = farm.join(timeout=1800)
    seconds = time.monotonic() - started
    farm.stop()
    counts = Counter(seeds)
    return {"seconds": seconds, "done": len(counts), "duplicates": sum(c - 1 for c in counts.values()),
            "lost": jobs - len(counts), "where": dict(where), "failed": failed, "requeued": len(requeued),
            "finished": finished, "per_min": 60 * len(counts) / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--size", type=int, default=64, help="image side (the kit's VAE has the real size)")
    parser.add_argument("--work", help="folder for weights and servers (default: a temp folder)")
    args = parser.parse_args()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # servers are stopped in the finally below
    python = comfy_kit.kit_python()
    if python is None:
        print(f"skipped: {comfy_kit.why_missing()}", file=sys.stderr)
        return 2
    request_module.MIN_SIDE = min(request_module.MIN_SIDE, args.size)  # tiny images: the kit's CPU servers
    work = Path(args.work or tempfile.mkdtemp(prefix="remote-scale-"))
    models = comfy_kit.build_weights(python, work / "models")
    servers = [comfy_kit.KitServer(python, models, work / f"server-{i + 1}", preview="none")
               for i in range(args.servers)]
    try:
        for server in servers:
            server.start()
        t0 = time.monotonic()
        for server in servers:
            server.wait_ready()
        print(f"{args.servers} servers ready in {time.monotonic() - t0:.0f} s")
        # warm-up: every server loads its models once (not part of any measured run)
        run(servers, args.servers, args.steps, args.size, 10_000)
        one = run(servers[:1], args.jobs, args.steps, args.size, 20_000)
        many = run(servers, args.jobs, args.steps, args.size, 30_000)
        fault = run(servers, args.jobs, args.steps, args.size, 40_000, kill=servers[-1])
    finally:
        for server in servers:
            server.stop()
    print("| run | jobs done | lost | twice | seconds | jobs/min | vs one server | where |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, r in (("1 server", one), (f"{args.servers} servers", many),
                    (f"{args.servers} servers, one killed halfway", fault)):
        print(f"| {name} | {r['done']}/{args.jobs} | {r['lost']} | {r['duplicates']} | {r['seconds']:.1f} | "
              f"{r['per_min']:.1f} | {r['per_min'] / one['per_min']:.2f} | "
              + ", ".join(f"{k} {v}" for k, v in sorted(r["where"].items())) + " |")
    print(f"fault run: {fault['requeued']} job(s) given back by the killed server, failures: {fault['failed'] or 0}")
    ok = fault["requeued"] >= 1 and all(r["finished"] and r["lost"] == 0 and r["duplicates"] == 0 and not r["failed"]
                                        for r in (one, many, fault))
    print("all jobs done once:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
