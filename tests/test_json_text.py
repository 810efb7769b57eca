"""The fast JSON reader of big graphs (history/json_text.py): orjson where it reads a text, the
standard library where it does not, and in both cases the same values and the same recall."""

import json
import math
import sys
from pathlib import Path

import pytest

from tests.fixtures.recall_corpus import cases, write_png
from zimage_desktop.history import json_text
from zimage_desktop.history.metadata import read_png_metadata

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import graph_walk  # noqa: E402


def test_orjson_is_the_reader_where_installed():
    pytest.importorskip("orjson")  # a dependency: installed wherever the app is
    assert json_text.orjson is not None


@pytest.mark.parametrize("name", sorted(graph_walk.SHAPES))
def test_big_graphs_read_to_the_same_values(name):
    text = json.dumps(graph_walk.SHAPES[name](2000))
    assert json_text.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", [
    '{"cfg": NaN, "denoise": Infinity, "x": -Infinity}',  # Python's json.dumps writes these
    '{"text": "\\ud800 lone"}',  # a lone surrogate escape
    '[' * 600 + ']' * 600,  # nested deep
    '{"seed": 18446744073709551615, "neg": -9223372036854775808, "a": 1, "a": 2}',  # edges kept exactly
])
def test_texts_orjson_refuses_read_as_the_standard_library_reads_them(text):
    got, want = json_text.loads(text), json.loads(text)
    assert json.dumps(got) == json.dumps(want)  # NaN != NaN: compare the serialised forms
    if isinstance(want, dict) and "seed" in want:
        assert type(got["seed"]) is int and got["seed"] == 2**64 - 1 and got["neg"] == -2**63


def test_nesting_past_both_readers_raises_as_before():
    text = '[' * 5000 + ']' * 5000
    with pytest.raises((ValueError, RecursionError)) as fast:
        json_text.loads(text)
    with pytest.raises((ValueError, RecursionError)) as slow:
        json.loads(text)
    assert fast.type is slow.type  # the callers catch both


def test_broken_text_raises_value_error_as_before():
    for text in ('{"a": 1', '[1] x', '\ufeff[1]', ''):
        with pytest.raises(ValueError):
            json_text.loads(text)


def test_an_integer_past_64_bits_becomes_a_float_and_is_refused_as_a_seed(tmp_path):
    """The one documented difference: past ComfyUI's largest seed, which recall refuses either way."""
    value = json_text.loads('[18446744073709551616]')[0]
    assert value == 2**64 and (json_text.orjson is None or isinstance(value, float)) and not math.isnan(value)


def test_the_corpus_recalls_the_same_without_orjson(tmp_path, monkeypatch):
    """Every corpus PNG gives the same request with and without orjson."""
    corpus = cases(60)
    paths = [write_png(tmp_path / f"{n:03d}.png", texts) for n, (_, texts, _) in enumerate(corpus)]
    fast = [read_png_metadata(p) for p in paths]
    monkeypatch.setattr(json_text, "orjson", None)
    slow = [read_png_metadata(p) for p in paths]
    for (name, _, expected), a, b in zip(corpus, fast, slow):
        assert a.request == b.request and a.notes == b.notes, name
        assert a.request is None or (a.request.prompt, a.request.seed) == expected[:2], name
