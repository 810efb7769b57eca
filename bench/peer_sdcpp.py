"""This app against stable-diffusion.cpp on the same GGUF files on the CPU (issue 28).

Both engines run the same full-size random files in the real shapes (bench/recipe_ram.py builds
them once: a Q4_K_M-mix GGUF transformer, a Q6_K Qwen3-4B GGUF encoder, the FLUX VAE), the same
prompt, size, steps (euler, cfg 1) and threads, each image in a fresh process, the two engines
alternating (peer, ours, ours, peer, …) so that a machine shared with other work slows both alike;
the ratio is the median over the pairs. Printed per run and as a summary: load, encode, one step,
decode, whole process (wall clock of the child) and peak RSS (ru_maxrss of the child), and
ours/peer ratios (below 1.0: we are faster / smaller).

stable-diffusion.cpp comes from PyPI (``stable-diffusion-cpp-python``, an sdist that builds with
cmake) into its own venv (``--venv``), installed when absent — under ``flock --lock`` on a shared
machine. Its stage times are read from its own log lines.

Usage: python bench/peer_sdcpp.py [--work /work/bigweights] [--venv /work/sdcpp-venv] [--sizes 256,512]
       [--steps 1,4] [--pairs 3] [--threads 2] [--lock /work/heavy.lock] [--only ours|peer]
       [--ours-args=--cpu-int8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROMPT = "a lighthouse on a cliff at dusk, warm light, 35 mm photo"
PEER_PACKAGE = "stable-diffusion-cpp-python==0.4.7"

# The peer runs in its own interpreter; it prints one JSON line with its wall-clock stages.
PEER_SCRIPT = r"""
import json, sys, time
from stable_diffusion_cpp import StableDiffusion
a = json.loads(sys.argv[1])
t0 = time.perf_counter()
sd = StableDiffusion(diffusion_model_path=a["transformer"], llm_path=a["encoder"], vae_path=a["vae"],
                     n_threads=a["threads"], verbose=True)
t1 = time.perf_counter()
images = sd.generate_image(prompt=a["prompt"], width=a["size"], height=a["size"], sample_steps=a["steps"],
                           cfg_scale=1.0, sample_method="euler", seed=1)
t2 = time.perf_counter()
images[0].save(a["out"])
print("PEER " + json.dumps({"load_s": t1 - t0, "generate_s": t2 - t1}), flush=True)
"""
# stable-diffusion.cpp's own stage lines ("… completed, taking 862 ms" / "… taking 25.01s").
PEER_STAGES = {"encode_s": r"get_learned_condition completed, taking ([\d.]+) ?(ms|s)",
               "denoise_s": r"sampling completed, taking ([\d.]+) ?(ms|s)",
               "decode_s": r"decode_first_stage completed, taking ([\d.]+) ?(ms|s)"}


def files(models: Path) -> dict[str, str]:
    def one(sub: str, pattern: str) -> str:
        found = sorted((models / sub).glob(pattern))
        if not found:
            raise SystemExit(f"no {pattern} in {models / sub}: build the files with bench/recipe_ram.py")
        return str(found[0])

    return {"transformer": one("diffusion_models", "*.gguf"), "encoder": one("text_encoders", "*.gguf"),
            "vae": one("vae", "*.safetensors")}


def ensure_peer(venv: Path, lock: str | None) -> Path:
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import stable_diffusion_cpp"]).returncode == 0:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = [str(python), "-m", "pip", "install", "-q", PEER_PACKAGE]
    subprocess.run((["flock", lock] if lock else []) + command, check=True)
    return python


def run_child(command: list[str], env: dict[str, str], lock: str | None) -> tuple[str, float]:
    """(stdout + stderr, wall seconds) of one child process (wrapped in bench/peak_rss.py)."""
    start = time.perf_counter()
    proc = subprocess.run((["flock", lock] if lock else []) + command, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{command[2]} failed ({proc.returncode}): {proc.stdout[-2000:]}")
    return proc.stdout, wall


def ours(f: dict[str, str], models: Path, size: int, steps: int, env: dict[str, str], lock: str | None,
         extra: tuple[str, ...] = (), data: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "bench/peak_rss.py", sys.executable, "-m", "zimage_desktop", "generate",
                   "--prompt", PROMPT, "--models", str(models), "--transformer", f["transformer"],
                   "--device", "cpu", "--width", str(size), "--height", str(size), "--steps", str(steps),
                   "--seed", "1", "--out", str(Path(tmp) / "ours.png"), "--no-history",
                   "--data-dir", str(data or tmp), *extra]
        out, wall = run_child(command, env, lock)
    line = next(json.loads(x) for x in out.splitlines() if x.startswith("{") and '"timings"' in x)
    t = line["timings"]
    rss = float(re.findall(r"PEAK_RSS_GIB ([\d.]+)", out)[-1])
    return {"engine": "ours", "encode_s": t["encode_s"], "step_s": t["denoise_s"] / steps, "decode_s": t["decode_s"],
            "load_s": wall - t["total_s"], "whole_s": wall, "peak_rss_gib": rss,
            "predicted_ram_gib": (line.get("predicted_peak_gib") or {}).get("ram")}


def peer(python: Path, f: dict[str, str], size: int, steps: int, threads: int, env: dict[str, str],
         lock: str | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = {**f, "prompt": PROMPT, "size": size, "steps": steps, "threads": threads,
                "out": str(Path(tmp) / "peer.png")}
        command = [sys.executable, "bench/peak_rss.py", str(python), "-c", PEER_SCRIPT, json.dumps(args)]
        out, wall = run_child(command, env, lock)
    line = json.loads(next(x for x in out.splitlines() if x.startswith("PEER "))[5:])
    stages: dict[str, float] = {}
    for name, pattern in PEER_STAGES.items():
        found = re.findall(pattern, out)
        if found:
            value, unit = found[-1]
            stages[name] = float(value) / (1000 if unit == "ms" else 1)
    rss = float(re.findall(r"PEAK_RSS_GIB ([\d.]+)", out)[-1])
    return {"engine": "peer", "encode_s": stages.get("encode_s"),
            "step_s": stages["denoise_s"] / steps if "denoise_s" in stages else None,
            "decode_s": stages.get("decode_s"), "load_s": line["load_s"], "whole_s": wall, "peak_rss_gib": rss}


def median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/work/bigweights"))
    parser.add_argument("--venv", type=Path, default=Path("/work/sdcpp-venv"))
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--steps", default="1,4")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lock", default=None, help="run each child under flock FILE (shared machine)")
    parser.add_argument("--only", choices=("ours", "peer"), default=None)
    parser.add_argument("--ours-args", default="", help="more `generate` flags for our runs, e.g. --cpu-int8")
    parser.add_argument("--warm-hashes", type=Path, default=None, metavar="DIR",
                        help="our runs use the data folder DIR, its hash cache filled once before the runs (as the "
                             "model manager leaves it after verifying a download); default: a fresh folder per run, "
                             "so each run hashes the model files on a background thread while it generates")
    args = parser.parse_args()
    extra = tuple(args.ours_args.split())
    from bench.recipe_ram import build

    models = build(args.work, tiny=False, bf16_encoder=False)
    f = files(models)
    if args.warm_hashes is not None:
        from zimage_desktop.config import Paths
        from zimage_desktop.models.hashing import HashCache

        cache = HashCache(Paths.resolve(args.warm_hashes).hash_cache)
        for path in f.values():
            cache.sha256(Path(path))
    python = ensure_peer(args.venv, args.lock) if args.only != "ours" else Path()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads),
           "PYTHONPATH": str(ROOT)}
    for size in map(int, args.sizes.split(",")):
        for steps in map(int, args.steps.split(",")):
            runs: list[dict] = []
            for pair in range(args.pairs):
                order = ("peer", "ours") if pair % 2 == 0 else ("ours", "peer")
                for engine in order:
                    if args.only and engine != args.only:
                        continue
                    run = (ours(f, models, size, steps, env, args.lock, extra, args.warm_hashes) if engine == "ours"
                           else peer(python, f, size, steps, args.threads, env, args.lock))
                    run.update(size=size, steps=steps, pair=pair)
                    runs.append(run)
                    print(json.dumps(run), flush=True)
            summary: dict = {"size": size, "steps": steps, "threads": args.threads, "pairs": args.pairs,
                             "ours_args": args.ours_args}
            for engine in ("ours", "peer"):
                mine = [r for r in runs if r["engine"] == engine]
                summary[engine] = {k: median(mine, k) for k in ("load_s", "encode_s", "step_s", "decode_s", "whole_s",
                                                                "peak_rss_gib")}
            pairs = [(a, b) for a in runs for b in runs if a["engine"] == "ours" and b["engine"] == "peer"
                     and a["pair"] == b["pair"]]
            for key in ("step_s", "whole_s", "peak_rss_gib"):
                ratios = [a[key] / b[key] for a, b in pairs if a.get(key) and b.get(key)]
                summary[f"ratio_{key}"] = round(statistics.median(ratios), 2) if ratios else None
            print("SUMMARY " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
