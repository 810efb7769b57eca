"""JSON text parsed fast: the graphs a ComfyUI PNG carries run to a million characters, and the
standard library's parser was half of a big graph's read (bench/graph_walk.py).

orjson (Rust) parses the same documents into the same Python values about twice as fast. Where it
refuses a text the standard library accepts (``NaN``/``Infinity`` literals, which Python's
``json.dumps`` writes; lone surrogate escapes; nesting past its depth), the standard library reads
it, so every document reads as before. One difference stays, on values that are no valid input
anyway: an integer beyond 64 bits (below -2**63 or above 2**64 - 1, past ComfyUI's largest seed)
comes out as the nearest float instead of an exact int — the recall then refuses it as before, naming
the float. Without orjson installed (it is a dependency; a source checkout may lack it) the standard
library reads everything.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; only a bare source checkout lacks it
    orjson = None  # type: ignore[assignment]


def loads(text: str) -> Any:
    """The document in ``text``; raises ValueError (or RecursionError) as ``json.loads`` does."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # NaN, Infinity, a lone surrogate …: the standard library's answer, value or error
    return json.loads(text)
