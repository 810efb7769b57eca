"""How long recall takes on big ComfyUI graphs (issue 25: 4,000 outputs took 21 s and a chain of
11,000 samplers 35 s, so one such file stalled a whole folder's import).

Builds API-format graphs (and UI workflows) of several shapes, ``--nodes`` nodes each (default
5,000), and measures in CPU time the reader's full recall from the JSON text (``parse_comfy_prompt``
/ ``parse_comfy_workflow``) and an import's whole read of a PNG carrying it (``read_png_metadata``:
the chunk found and decoded, the JSON parsed once, the graph walked, the request checked). Exit 1
when a shape's read from the PNG is over ``--limit-ms`` (default 50) — the median of ``--repeat``
runs, or with ``--on min`` the least disturbed run (a loaded machine's neighbours slow every run;
a shape over the limit is measured again, up to twice, and the best of the sets counts).

Imports: the project only (no torch). Usage: python bench/graph_walk.py [--nodes 5000] [--repeat 5] [--on min]
"""

from __future__ import annotations

import argparse
import json
import os
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


def _ui(id_: object, type_: str, widgets: list, inputs: list) -> dict:
    return {"id": id_, "type": type_, "mode": 0, "widgets_values": widgets,
            "inputs": [{"name": name, "type": "*", "link": link} for name, link in inputs], "outputs": []}


def workflow_reroutes(n: int) -> dict:
    """A UI workflow (no API graph) whose prompt reaches the sampler through a chain of n reroutes."""
    nodes = [_ui(1, "CLIPTextEncode", ["a lighthouse at dusk"], []), _ui(2, "EmptySD3LatentImage", [1024, 768, 1], []),
             _ui(3, "KSampler", [7, "fixed", 8, 1, "euler", "simple", 1], [("positive", n + 10), ("latent_image", 2)]),
             _ui(4, "SaveImage", ["x"], [("images", 3)])]
    links = [[2, 2, 0, 3, 3, "LATENT"], [3, 3, 0, 4, 0, "LATENT"], [10, 1, 0, 10, 0, "CONDITIONING"]]
    for i in range(n - 4):
        nodes.append(_ui(10 + i, "Reroute", [], [("", 10 + i)]))
        links.append([11 + i, 10 + i, 0, 11 + i, 0, "*"])
    links[-1][0] = n + 10 - 4 + 4  # the last reroute feeds the sampler
    links[-1][3] = 3
    nodes[2]["inputs"][0]["link"] = links[-1][0]
    return {"nodes": nodes, "links": links}


def workflow_subgraphs(n: int) -> dict:
    """A UI workflow with n/5 instances of a 4-node subgraph (each a prompt, latent and sampler),
    each saved; the first save node's image is recalled."""
    sub = "00000000-0000-4000-8000-0000000000aa"
    inner = [_ui(1, "CLIPTextEncode", ["a lighthouse at dusk"], []), _ui(2, "EmptySD3LatentImage", [1024, 768, 1], []),
             _ui(3, "KSampler", [7, "fixed", 8, 1, "euler", "simple", 1], [("positive", 1), ("latent_image", 2)]),
             _ui(4, "VAEDecode", [], [("samples", 3)])]
    inner_links = [{"id": 1, "origin_id": 1, "origin_slot": 0, "target_id": 3, "target_slot": 0},
                   {"id": 2, "origin_id": 2, "origin_slot": 0, "target_id": 3, "target_slot": 1},
                   {"id": 3, "origin_id": 3, "origin_slot": 0, "target_id": 4, "target_slot": 0},
                   {"id": 4, "origin_id": 4, "origin_slot": 0, "target_id": -20, "target_slot": 0}]
    nodes, links = [], []
    for i in range(n // 5):
        nodes += [_ui(2 * i + 1, sub, [], []), _ui(2 * i + 2, "SaveImage", ["x"], [("images", i + 1)])]
        links.append([i + 1, 2 * i + 1, 0, 2 * i + 2, 0, "IMAGE"])
    return {"nodes": nodes, "links": links, "definitions": {"subgraphs": [
        {"id": sub, "nodes": inner, "links": inner_links, "inputs": [], "outputs": [{"name": "IMAGE"}]}]}}


def string_joins(n: int) -> dict:
    """The prompt behind a tree of joining nodes (StringConcatenate) in which each join reads the
    one before twice: a walk that re-reads shared nodes doubles its work per level."""
    graph = _base()
    graph["j0"] = {"class_type": "StringConcatenate", "inputs": {"string_a": "a lighthouse", "string_b": "at dusk",
                                                                  "delimiter": " "}}
    for i in range(1, n - 7):
        graph[f"j{i}"] = {"class_type": "StringConcatenate",
                          "inputs": {"string_a": [f"j{i - 1}", 0], "string_b": [f"j{i - 1}", 0], "delimiter": ", "}}
    graph["text"]["inputs"]["text"] = [f"j{n - 8}", 0]
    graph["s"] = _sampler("latent")
    graph["d"] = {"class_type": "VAEDecode", "inputs": {"samples": ["s", 0]}}
    graph["out"] = {"class_type": "SaveImage", "inputs": {"images": ["d", 0]}}
    return graph


def workflow_nesting(n: int) -> dict:
    """Subgraphs nested as deep as the reader follows (16 levels), each definition holding two
    instances of the next and ~n/32 plain nodes, the sampler innermost: 2^16 instances of a file of
    n nodes, so a reader that expands every instance has no end."""
    from zimage_desktop.history.comfy_workflow import MAX_NESTING

    levels = MAX_NESTING
    filler = max(1, n // (2 * levels))
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(levels)]
    definitions = []
    for level, sub in enumerate(ids):
        nodes = [_ui(100 + k, "Note", [f"note {k}"], []) for k in range(filler)]
        nodes += [_ui(200 + k, "PrimitiveString", [f"w{k}"], []) for k in range(filler)]
        if level + 1 < levels:  # two instances of the next level; the second one's picture leaves
            nodes += [_ui(1, ids[level + 1], [], []), _ui(2, ids[level + 1], [], [])]
            links = [{"id": 1, "origin_id": 2, "origin_slot": 0, "target_id": -20, "target_slot": 0}]
        else:
            nodes += [_ui(1, "CLIPTextEncode", ["a lighthouse at dusk"], []),
                      _ui(2, "EmptySD3LatentImage", [1024, 768, 1], []),
                      _ui(3, "KSampler", [7, "fixed", 8, 1, "euler", "simple", 1],
                          [("positive", 1), ("latent_image", 2)]),
                      _ui(4, "VAEDecode", [], [("samples", 3)])]
            links = [{"id": 1, "origin_id": 1, "origin_slot": 0, "target_id": 3, "target_slot": 0},
                     {"id": 2, "origin_id": 2, "origin_slot": 0, "target_id": 3, "target_slot": 1},
                     {"id": 3, "origin_id": 3, "origin_slot": 0, "target_id": 4, "target_slot": 0},
                     {"id": 4, "origin_id": 4, "origin_slot": 0, "target_id": -20, "target_slot": 0}]
        definitions.append({"id": sub, "nodes": nodes, "links": links, "inputs": [], "outputs": [{"name": "IMAGE"}]})
    nodes = [_ui(1, ids[0], [], []), _ui(2, "SaveImage", ["x"], [("images", 1)])]
    return {"nodes": nodes, "links": [[1, 1, 0, 2, 0, "IMAGE"]], "definitions": {"subgraphs": definitions}}


SHAPES = {"many outputs": many_outputs, "sampler chain": sampler_chain, "wide": wide,
          "string joins": string_joins, "workflow reroutes": workflow_reroutes,
          "workflow subgraphs": workflow_subgraphs, "workflow nesting": workflow_nesting}


def _png(name: str, text: str, folder: Path) -> Path:
    """A PNG carrying the graph as ComfyUI's SaveImage writes it: ``prompt`` (API) or ``workflow`` (UI)."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("workflow" if name.startswith("workflow") else "prompt", text)
    path = folder / f"{name.replace(' ', '-')}.png"
    Image.new("RGB", (64, 48)).save(path, pnginfo=info)
    return path


def measure(name: str, nodes: int, repeat: int, folder: Path) -> dict[str, float]:
    """CPU milliseconds (``process_time``: what the reader itself costs; on a loaded machine the
    wall time adds whatever the other processes took) of the full recall from the JSON text and of
    an import's whole read of the PNG (chunks found and decoded, JSON parsed, graph walked, request
    checked), medians and minima of ``repeat`` runs; and json.loads alone."""
    from zimage_desktop.history.comfy_graph import parse_comfy_prompt, parse_comfy_workflow
    from zimage_desktop.history.metadata import MAX_CHUNK_CHARS, read_png_metadata

    text = json.dumps(SHAPES[name](nodes))
    png = _png(name, text, folder)
    read = parse_comfy_workflow if name.startswith("workflow") else parse_comfy_prompt
    cpus, pngs, parse = [], [], []
    for _ in range(repeat):
        cpu = time.process_time()
        json.loads(text)
        parse.append((time.process_time() - cpu) * 1000)
        cpu = time.process_time()
        found = read(text)
        cpus.append((time.process_time() - cpu) * 1000)
        assert found is not None and found.seed == 7 and found.prompt and found.width == 1024, name
        cpu = time.process_time()
        recalled = read_png_metadata(png)
        pngs.append((time.process_time() - cpu) * 1000)
        if len(text) > MAX_CHUNK_CHARS:  # refused unread, with a note (what an import does with it)
            assert recalled.request is None and "too large" in recalled.notes[0], (name, recalled.notes)
        else:
            assert recalled.request is not None and recalled.request.seed == 7, (name, recalled.notes)
    return {"text": statistics.median(cpus), "text_min": min(cpus), "png": statistics.median(pngs),
            "png_min": min(pngs), "json": statistics.median(parse), "chars": len(text)}


def main() -> int:
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit-ms", type=float, default=50.0, help="on the CPU time of the read from the PNG")
    parser.add_argument("--on", choices=("median", "min"), default="median",
                        help="which of the runs the limit applies to (min: the run least disturbed by other processes)")
    args = parser.parse_args()
    slow = []
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU ms (process_time), "
          f"median / min of {args.repeat}")
    with tempfile.TemporaryDirectory() as folder:
        for name in SHAPES:
            found = measure(name, args.nodes, args.repeat, Path(folder))
            for _ in range(2 if args.on == "min" else 0):
                if found["png_min"] <= args.limit_ms:
                    break
                # Another set of runs a few seconds later: on a shared virtual machine a burst of the
                # neighbours' work can slow every run of one set (the host's CPU time is not ours).
                time.sleep(3)
                again = measure(name, args.nodes, args.repeat, Path(folder))
                print(f"{name}: {found['png_min']:.1f} ms at best, measured again: {again['png_min']:.1f} ms")
                found = {key: min(found[key], again[key]) for key in found}
            if found["png" if args.on == "median" else "png_min"] > args.limit_ms:
                slow.append(name)
            print(f"{name:18s} {args.nodes} nodes: from the PNG {found['png']:6.1f} / {found['png_min']:5.1f} ms, "
                  f"from the JSON text {found['text']:6.1f} / {found['text_min']:5.1f} ms "
                  f"(json.loads alone {found['json']:.1f} ms; {found['chars']:,} characters)")
    if slow:
        print(f"over {args.limit_ms:g} ms ({args.on}): {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
