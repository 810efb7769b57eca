"""Recall from huge ComfyUI graphs is linear in their size (issue 25): thousands of save nodes with
no sampler behind them took 21 s, a chain of 11,000 samplers 35 s. bench/graph_walk.py measures."""

import json
import sys
import time
from pathlib import Path

import pytest

from zimage_desktop.history.comfy_graph import parse_comfy_prompt, parse_comfy_workflow
from zimage_desktop.history.comfy_workflow import MAX_EXPANDED

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import graph_walk  # noqa: E402


@pytest.mark.parametrize("shape, nodes", [("many outputs", 5000), ("sampler chain", 11000), ("wide", 5000)])
def test_big_graphs_are_read_in_linear_time(shape, nodes):
    text = json.dumps(graph_walk.SHAPES[shape](nodes))
    started = time.perf_counter()
    found = parse_comfy_prompt(text)
    elapsed = time.perf_counter() - started
    assert found is not None and (found.seed, found.steps, found.width, found.height) == (7, 8, 1024, 768)
    assert found.prompt == "a lighthouse at dusk"
    assert elapsed < 3.0, f"{shape}: {elapsed:.1f} s (a quadratic walk takes tens of seconds here)"


def test_joins_that_read_one_node_twice_stay_linear_and_are_cut():
    """Each join reads the one before twice: 21 levels took 21 s and made an 8 MB prompt before
    each node was read once and a join was cut."""
    text = json.dumps(graph_walk.SHAPES["string joins"](5000))
    started = time.perf_counter()
    found = parse_comfy_prompt(text)
    elapsed = time.perf_counter() - started
    assert found is not None and found.seed == 7
    assert found.prompt is not None and found.prompt.startswith("a lighthouse at dusk, a lighthouse at dusk")
    assert elapsed < 3.0


def test_a_short_join_chain_reads_exactly():
    text = json.dumps(graph_walk.SHAPES["string joins"](10))  # j0, j1, j2: three levels of doubling
    found = parse_comfy_prompt(text)
    assert found is not None and found.prompt == ", ".join(["a lighthouse at dusk"] * 4)


def test_nested_subgraphs_follow_the_saved_picture_not_every_instance():
    """2^16 instances of a 5,000-node file: the path to the saved image is expanded, the instances
    nothing reads from are not (a sampler was already met)."""
    text = json.dumps(graph_walk.SHAPES["workflow nesting"](5000))
    started = time.perf_counter()
    found = parse_comfy_workflow(text)
    elapsed = time.perf_counter() - started
    assert found is not None and (found.seed, found.steps, found.width, found.height) == (7, 8, 1024, 768)
    assert found.prompt == "a lighthouse at dusk"
    assert elapsed < 3.0


def test_nesting_without_a_sampler_stops_at_the_limit_with_a_note():
    data = graph_walk.SHAPES["workflow nesting"](5000)
    innermost = data["definitions"]["subgraphs"][-1]
    innermost["nodes"] = [n for n in innermost["nodes"] if n["type"] != "KSampler"]
    started = time.perf_counter()
    found = parse_comfy_workflow(json.dumps(data))
    assert time.perf_counter() - started < 3.0
    assert found is not None and found.seed is None
    assert any(str(MAX_EXPANDED) in note for note in found.notes), found.notes


def test_many_links_out_of_one_long_chain_of_reroutes_walk_it_once():
    """3,000 nodes each read the end of a chain of 3,000 reroutes: each link walked the whole chain
    again (9 million hops) before each reroute's source was kept."""
    n = 3000
    ui = graph_walk._ui
    nodes = [ui(1, "CLIPTextEncode", ["a lighthouse at dusk"], []), ui(2, "EmptySD3LatentImage", [1024, 768, 1], []),
             ui(3, "KSampler", [7, "fixed", 8, 1, "euler", "simple", 1], [("positive", 1), ("latent_image", 2)]),
             ui(4, "SaveImage", ["x"], [("images", 3)])]
    links = [[1, 1, 0, 3, 0, "CONDITIONING"], [2, 2, 0, 3, 1, "LATENT"], [3, 3, 0, 4, 0, "LATENT"]]
    for i in range(n):  # reroute 10 + i reads the one before (the first reads the prompt)
        nodes.append(ui(10 + i, "Reroute", [], [("", 100 + i)]))
        links.append([100 + i, 1 if i == 0 else 9 + i, 0, 10 + i, 0, "*"])
    for i in range(n):  # each reader's input is its own link out of the chain's last reroute
        nodes.append(ui(10 + n + i, "ConditioningZeroOut", [], [("conditioning", 100 + n + i)]))
        links.append([100 + n + i, 9 + n, 0, 10 + n + i, 0, "CONDITIONING"])
    text = json.dumps({"nodes": nodes, "links": links})
    started = time.perf_counter()
    found = parse_comfy_workflow(text)
    elapsed = time.perf_counter() - started
    assert found is not None and (found.seed, found.prompt) == (7, "a lighthouse at dusk")
    assert elapsed < 3.0, f"{elapsed:.1f} s"
