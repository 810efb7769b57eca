"""Odd but valid JSON in every reader's chunk (issue 25's hostile cases, for the new readers): each
value of each corpus shape replaced in turn by another JSON type. Nothing may escape as an
exception, and no reader may fail inside (a caught failure is logged as "chunk failed")."""

import json
import logging

import pytest

from tests.fixtures.recall_corpus import BUILDERS, cases
from zimage_desktop.history.metadata import parse_text_chunks

ODD = [None, [], {}, "", "²", -1, 1e308, True, [1, 2, 3], {"a": [None]}, "1024 x", 2**70]


def _paths(value, prefix=()):
    """Every path to a leaf or container inside a JSON value (bounded)."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in list(value.items())[:40]:
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:10]):
            yield from _paths(inner, prefix + (i,))


def _replaced(value, path, new):
    if not path:
        return new
    out = dict(value) if isinstance(value, dict) else list(value)
    out[path[0]] = _replaced(value[path[0]], path[1:], new)
    return out


def _json_chunks(texts):
    for key, text in texts.items():
        try:
            yield key, json.loads(text)
        except ValueError:
            continue


@pytest.mark.parametrize("shape", sorted(BUILDERS))
def test_odd_values_never_break_a_reader(shape, caplog):
    name, texts, _ = next(c for c in cases(len(BUILDERS)) if c[0] == shape)
    caplog.set_level(logging.WARNING, logger="zimage_desktop.history.metadata")
    tried = 0
    for key, data in _json_chunks(texts):
        for path in list(_paths(data))[1:200]:
            for odd in ODD[(tried % 3)::3]:
                tried += 1
                broken = dict(texts)
                broken[key] = json.dumps(_replaced(data, path, odd))
                parse_text_chunks(broken, (64, 64))
    failures = [r.getMessage() for r in caplog.records if "chunk failed" in r.getMessage()]
    assert not failures, failures[:5]


@pytest.mark.parametrize("dream", ['"', '""', '"a" -s', '"a" -S -W 5 -H', '"a" -s 99999999999999999999999 -S -1',
                                   '"a" - -- -Sx -W1e9', "no quote -s 5", '"' + "x" * 5000 + '" -s 8'])
def test_odd_dream_lines(dream, caplog):
    caplog.set_level(logging.WARNING, logger="zimage_desktop.history.metadata")
    found = parse_text_chunks({"Dream": dream}, (64, 64))
    assert not [r for r in caplog.records if "chunk failed" in r.getMessage()]
    assert found.request is None or found.request.steps <= 100


def test_an_empty_a1111_value_is_a_note_not_a_crash():
    found = parse_text_chunks({"parameters": "a cat\nSteps: , Sampler: , Seed: , Size: 512x512"}, (64, 64))
    assert found.request is not None and found.request.seed == 0
    assert any("seed" in n.lower() for n in found.notes)
