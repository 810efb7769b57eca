"""The text behind a ComfyUI input: literals, string and text-box nodes (input names in any case),
joining nodes (StringConcatenate and the like), and the positive prompt along conditioning links.
Walked without recursion and each node once, so thousands of string nodes read in linear time."""

from __future__ import annotations

from typing import Any

from ..engine.request import MAX_PROMPT_CHARS

Graph = dict[str, dict[str, Any]]

# Inputs that hold a prompt, best first: a wildcard encoder's result before its template, FLUX's
# T5 text before its CLIP-L text, Lumina 2's user prompt before its system prompt.
TEXT_KEYS = ("populated_text", "text", "text_g", "t5xxl", "user_prompt", "prompt", "clip_l", "string", "text_l",
             "value", "wildcard_text", "positive")  # last: loaders that take the prompt as text (Efficiency)
# Conditioning inputs on the positive path, best first (never "negative", "cond2", "uncond").
POSITIVE_KEYS = ("positive", "guider", "conditioning", "conditioning_to", "conditioning_1", "cond1", "cond",
                 "conditioning_from", "conditioning_2", "base_positive")
NUMBER_KEYS = ("value", "int", "seed", "noise_seed", "number", "steps", "Number")
MAX_DEPTH = 64


def is_link(value: Any, graph: Graph) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))
            and not isinstance(value[0], bool) and str(value[0]) in graph)


def link_target(value: Any, graph: Graph) -> str | None:
    """The node a link input comes from, or None for a literal value."""
    return str(value[0]) if is_link(value, graph) else None


def _class(graph: Graph, node_id: str) -> str:
    return graph[node_id]["class_type"]


def _inputs(graph: Graph, node_id: str) -> dict[str, Any]:
    return graph[node_id]["inputs"]


JOIN_WORDS = ("concat", "join", "combine")  # StringConcatenate, Text Concatenate, JoinStrings …
DELIMITER_KEYS = ("delimiter", "separator", "delim", "sep")


def _lowered(inputs: dict[str, Any]) -> dict[str, Any]:
    """Input names as keys in lower case (custom nodes write ``Text``, ``STRING``), first one kept."""
    if all(isinstance(key, str) and key == key.lower() for key in inputs):
        return inputs  # the usual case: nothing to copy
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        out.setdefault(str(key).lower(), value)
    return out


MAX_JOINED = 2 * MAX_PROMPT_CHARS  # a join beyond this is cut (recall then says the prompt was cut)


def text_value(graph: Graph, value: Any, depth: int = 0, memo: dict[str, str | None] | None = None) -> str | None:
    """The text behind an input: a literal, or followed through string nodes — primitives and
    text boxes by their text input (any case), joining nodes by joining their parts with their
    delimiter, as ComfyUI's StringConcatenate does (``delimiter.join((string_a, string_b))``).

    Walked without recursion, each node read once (``memo``, which a caller may share between
    calls), and a join cut at ``MAX_JOINED`` characters: a chain of thousands of string nodes, or
    joins that read one node twice (a → b+b → c+c …), stay linear in the graph's size. A node met
    again while its own text is being made (a cycle, which ComfyUI refuses to run) reads as no text.
    ``depth`` is kept for callers; the walk has no depth limit."""
    if isinstance(value, str):
        return value
    if not is_link(value, graph):
        return None
    memo = {} if memo is None else memo
    root = str(value[0])
    pending: dict[str, _Parts] = {}
    stack = [root]
    while stack:
        node_id = stack.pop()
        if node_id in memo:
            continue
        parts = pending.pop(node_id, None)
        if parts is not None:  # its inputs are done: make its text
            memo[node_id] = _node_text(parts, memo)
            continue
        pending[node_id] = parts = _text_parts(graph, node_id)
        stack.append(node_id)  # again, after its inputs
        for v in (parts[0] or []) + parts[2]:
            source = _source(v)
            if source is not None and source in graph and source not in memo and source not in pending:
                stack.append(source)
    return memo.get(root)


_TEXT_RANK = {key: rank for rank, key in enumerate(TEXT_KEYS)}
_Parts = tuple[list[Any] | None, str, list[Any]]


def _is_join(cls: str, known: dict[str, bool] = {}) -> bool:  # noqa: B006  (a cache across calls)
    found = known.get(cls)
    if found is None:
        found = known[cls] = any(word in cls.lower() for word in JOIN_WORDS)
    return found


_Layout = tuple[tuple[str, ...] | None, tuple[str, ...], tuple[str, ...]]
_LAYOUTS: dict[tuple[Any, ...], _Layout] = {}  # per (input names, joins?): graphs repeat a few layouts


def _layout(names: tuple[Any, ...], join: bool) -> _Layout:
    """Which of these input names (any case, the first of a case-folded pair kept) are the joined
    parts (sorted), the delimiters (best first) and the text inputs (best first)."""
    lowered: dict[str, Any] = {}
    for name in names:
        lowered.setdefault(str(name).lower(), name)
    texts = tuple(lowered[k] for k in sorted(lowered.keys() & _TEXT_RANK, key=_TEXT_RANK.__getitem__))
    if not join:
        return None, (), texts
    delimiters = tuple(lowered[k] for k in DELIMITER_KEYS if k in lowered)
    parts = tuple(lowered[k] for k in sorted(lowered) if k.startswith(("string", "text")) and k not in DELIMITER_KEYS)
    return parts, delimiters, texts


def _text_parts(graph: Graph, node_id: str) -> _Parts:
    """A node's joined parts (None unless it joins), its delimiter and its text inputs, best first."""
    node = graph[node_id]
    inputs = node["inputs"]
    key = (*inputs, _is_join(node["class_type"]))
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) > 4096:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = _layout(key[:-1], key[-1])
    part_names, delimiter_names, text_names = layout
    texts = [inputs[k] for k in text_names]
    if part_names is None:
        return None, "", texts
    delimiter = next((inputs[k] for k in delimiter_names if isinstance(inputs[k], str)), "")
    return [inputs[k] for k in part_names], delimiter, texts


def _source(value: Any) -> str | None:
    """The node id a link names (not checked against the graph), or None for a literal."""
    if type(value) is list and len(value) == 2:
        first = value[0]
        if type(first) is str:
            return first
        if type(first) is int:
            return str(first)
    return None


def _node_text(node_parts: _Parts, memo: dict[str, str | None]) -> str | None:
    parts, delimiter, texts = node_parts

    def read(value: Any) -> str | None:
        if isinstance(value, str):
            return value
        source = _source(value)
        return None if source is None else memo.get(source)

    found: list[str] = []
    length = 0
    for text in map(read, parts or []):
        if text and length < MAX_JOINED:  # what is past the cut is not copied
            found.append(text[:MAX_JOINED])
            length += len(text) + len(delimiter)
    if found:
        return delimiter.join(found)[:MAX_JOINED]
    return next((text for text in map(read, texts) if text is not None), None)


def positive_text(graph: Graph, start: Any) -> str | None:
    """Depth-first along positive conditioning links until a node with a text input."""
    seen: set[str] = set()
    memo: dict[str, str | None] = {}
    stack = [str(start[0])] if is_link(start, graph) else []
    while stack and len(seen) < 4 * MAX_DEPTH:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        inputs = _lowered(_inputs(graph, node_id))
        for key in TEXT_KEYS:
            text = text_value(graph, inputs.get(key), 0, memo)
            if isinstance(text, str) and text.strip():
                return text
        nxt = [str(inputs[k][0]) for k in POSITIVE_KEYS if is_link(inputs.get(k), graph)]
        stack.extend(reversed(nxt))  # the best key is looked at first
    return None
