"""How long recall takes on big ComfyUI graphs (issue 25: 4,000 outputs took 21 s and a chain of
11,000 samplers 35 s, so one such file stalled a whole folder's import).

Builds API-format graphs of several shapes, ``--nodes`` nodes each (default 5,000), runs the
reader's full recall (``parse_comfy_prompt`` on the JSON text, as an import does) and prints the
median of ``--repeat`` runs per shape. Exit 1 when a shape is over ``--limit-ms`` (default 50).

Imports: the project only (no torch). Usage: python bench/graph_walk.py [--nodes 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _base() -> dict:
    return {"ckpt": {"class_type": "UNETLoader", "inputs": {"unet_name": "z.safetensors"}},
            "text": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk", "clip": ["clip", 0]}},
            "clip": {"class_type": "CLIPLoader", "inputs": {"clip_name": "q.safetensors"}},
            "latent": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768}}}


def _sampler(latent: str) -> dict:
    return {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 8, "cfg": 1, "sampler_name": "euler",
                                                 "scheduler": "simple", "model": ["ckpt", 0],
                                                 "positive": ["text", 0], "latent_image": [latent, 0]}}


def many_outputs(n: int) -> dict:
    """Thousands of save nodes behind one long shared chain of image nodes with no sampler, then the
    save node of the sampled image."""
    graph = _base()
    graph["img0"] = {"class_type": "LoadImage", "inputs": {"image": "x.png"}}
    chain = n // 2
    for i in range(1, chain):
        graph[f"img{i}"] = {"class_type": "ImageScale", "inputs": {"image": [f"img{i - 1}", 0]}}
    for i in range(n - chain - 6):  # savers with numeric ids: looked at before "out", each fruitless
        graph[str(i + 10)] = {"class_type": "SaveImage", "inputs": {"images": [f"img{chain - 1}", 0]}}
    graph["s"] = _sampler("latent")
    graph["d"] = {"class_type": "VAEDecode", "inputs": {"samples": ["s", 0]}}
    graph["out"] = {"class_type": "SaveImage", "inputs": {"images": ["d", 0]}}
    return graph


def sampler_chain(n: int) -> dict:
    """A refining chain of n samplers, each starting from the one before."""
    graph = _base()
    previous = "latent"
    for i in range(n - 6):
        graph[f"s{i}"] = _sampler(previous)
        previous = f"s{i}"
    graph["d"] = {"class_type": "VAEDecode", "inputs": {"samples": [previous, 0]}}
    graph["out"] = {"class_type": "SaveImage", "inputs": {"images": ["d", 0]}}
    return graph


def wide(n: int) -> dict:
    """One sampler whose prompt is a join of n text nodes (a big fan-in)."""
    graph = _base()
    for i in range(n - 7):
        graph[f"t{i}"] = {"class_type": "PrimitiveString", "inputs": {"value": f"word{i}"}}
    graph["s"] = _sampler("latent")
    graph["d"] = {"class_type": "VAEDecode", "inputs": {"samples": ["s", 0]}}
    graph["out"] = {"class_type": "SaveImage", "inputs": {"images": ["d", 0]}}
    return graph


SHAPES = {"many outputs": many_outputs, "sampler chain": sampler_chain, "wide": wide}


def main() -> int:
    from zimage_desktop.history.comfy_graph import parse_comfy_prompt

    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit-ms", type=float, default=50.0)
    args = parser.parse_args()
    slow = False
    for name, build in SHAPES.items():
        text = json.dumps(build(args.nodes))
        times, parse = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            json.loads(text)
            parse.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            found = parse_comfy_prompt(text)
            times.append((time.perf_counter() - started) * 1000)
        assert found is not None and found.seed == 7, name
        median = statistics.median(times)
        slow |= median > args.limit_ms
        print(f"{name:14s} {args.nodes} nodes: {median:7.1f} ms (median of {args.repeat}; "
              f"of which json.loads {statistics.median(parse):.1f} ms)")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
