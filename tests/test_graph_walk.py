"""Recall from huge ComfyUI graphs is linear in their size (issue 25): thousands of save nodes with
no sampler behind them took 21 s, a chain of 11,000 samplers 35 s. bench/graph_walk.py measures."""

import json
import sys
import time
from pathlib import Path

import pytest

from zimage_desktop.history.comfy_graph import parse_comfy_prompt

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
