"""Issue 25's corpus comparison, reproduced: 190 PNGs in the shapes real tools write
(tests/fixtures/recall_corpus.py); at least 98 % must come back fully right (prompt, seed, steps
and size), and every miss is listed."""

from tests.fixtures.recall_corpus import BUILDERS, cases, write_png
from zimage_desktop.history.metadata import read_png_metadata


def test_the_corpus_is_read_fully_right(tmp_path):
    corpus = cases(190)
    assert len({name for name, _, _ in corpus}) == len(BUILDERS)
    misses = []
    for n, (name, texts, expected) in enumerate(corpus):
        found = read_png_metadata(write_png(tmp_path / f"{n:03d}.png", texts))
        r = found.request
        got = None if r is None else (r.prompt, r.seed, r.steps, r.width, r.height)
        if got != expected:
            misses.append((name, expected, got, found.notes))
    right = 1 - len(misses) / len(corpus)
    assert right >= 0.98, misses
    assert not misses, misses  # today every shape reads right; a new miss is named here
