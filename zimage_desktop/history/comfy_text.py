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


def link_target(value: Any, graph: Graph) -> str | None:
    """The node a link input comes from, or None for a literal value. (JSON gives exact ``list``,
    ``str`` and ``int``; a bool is never a node id.)"""
    if type(value) is list and len(value) == 2:
        source = value[0]
        if type(source) is not str:
            if type(source) is int:
                source = str(source)
            elif isinstance(source, (str, int)) and not isinstance(source, bool):
                source = str(source)  # a subclass, from a graph built in code
            else:
                return None
        return source if source in graph else None
    return None


def is_link(value: Any, graph: Graph) -> bool:
    return link_target(value, graph) is not None


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
    ``depth`` is kept for callers; the walk has no depth limit.

    This loop runs once per string node (5,000 in a big graph: bench/graph_walk.py), so it is
    written flat: a node's input names map to a cached ``_Layout``, and no lists are built per node."""
    if isinstance(value, str):
        return value
    if not is_link(value, graph):
        return None
    memo = {} if memo is None else memo
    root = str(value[0])
    if root in memo:
        return memo[root]
    pending: dict[str, _Layout] = {}  # read, waiting for the texts of the nodes it links to
    stack = [root]
    layouts = _LAYOUTS
    while stack:
        node_id = stack[-1]
        layout = pending.get(node_id)
        if layout is None:
            node = graph[node_id]
            inputs = node["inputs"]
            key = (node["class_type"], *inputs)
            layout = layouts.get(key) or _new_layout(key)
            pending[node_id] = layout
            waiting = False
            for name in layout[3]:
                link = inputs[name]
                if type(link) is list and len(link) == 2:  # a link: [node id, output]
                    source = link[0]
                    if type(source) is int:
                        source = str(source)
                    if type(source) is str and source not in memo and source not in pending and source in graph \
                            and not (waiting and stack[-1] == source):  # a join reading one node twice: once
                        stack.append(source)
                        waiting = True
            if waiting:
                continue
        stack.pop()
        if node_id in memo:  # a node two joins named may be on the stack twice
            continue
        # The node's text, from literals and the texts made for the nodes it links to (inlined:
        # this runs once per string node).
        inputs = graph[node_id]["inputs"]
        part_names, delimiter_names, text_names, _ = layout
        made: str | None = None
        if part_names:
            delimiter = ""
            for name in delimiter_names:
                if isinstance(inputs[name], str):
                    delimiter = inputs[name]
                    break
            found: list[str] = []
            length = 0
            text: str | None
            for name in part_names:
                part = inputs[name]
                if isinstance(part, str):
                    text = part
                elif type(part) is list and len(part) == 2:
                    source = part[0]
                    text = memo.get(source) if type(source) is str else \
                        memo.get(str(source)) if type(source) is int else None
                else:
                    text = None
                if text and length < MAX_JOINED:  # what is past the cut is not copied
                    found.append(text if len(text) <= MAX_JOINED else text[:MAX_JOINED])
                    length += len(text) + len(delimiter)
            if found:
                made = found[0] if len(found) == 1 else delimiter.join(found)
                if len(made) > MAX_JOINED:
                    made = made[:MAX_JOINED]
        if made is None:
            for name in text_names:
                part = inputs[name]
                if isinstance(part, str):
                    made = part
                    break
                if type(part) is list and len(part) == 2:
                    source = part[0]
                    text = memo.get(source) if type(source) is str else \
                        memo.get(str(source)) if type(source) is int else None
                    if text is not None:
                        made = text
                        break
        memo[node_id] = made
    return memo.get(root)


_TEXT_RANK = {key: rank for rank, key in enumerate(TEXT_KEYS)}

# Per node layout (class and input names; graphs repeat a few): the joined parts (None unless the
# class joins), the delimiters (best first), the text inputs (best first), and all those names.
_Layout = tuple[tuple[str, ...] | None, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_LAYOUTS: dict[tuple[Any, ...], _Layout] = {}


def _new_layout(key: tuple[Any, ...]) -> _Layout:
    """Which of these input names (any case, the first of a case-folded pair kept) are the joined
    parts (sorted), the delimiters and the text inputs; cached in ``_LAYOUTS``."""
    cls, names = key[0], key[1:]
    lowered: dict[str, Any] = {}
    for name in names:
        lowered.setdefault(str(name).lower(), name)
    texts = tuple(lowered[k] for k in sorted(lowered.keys() & _TEXT_RANK, key=_TEXT_RANK.__getitem__))
    layout: _Layout = (None, (), texts, texts)
    if isinstance(cls, str) and any(word in cls.lower() for word in JOIN_WORDS):
        delimiters = tuple(lowered[k] for k in DELIMITER_KEYS if k in lowered)
        parts = tuple(lowered[k] for k in sorted(lowered)
                      if k.startswith(("string", "text")) and k not in DELIMITER_KEYS)
        layout = (parts, delimiters, texts, parts + texts)
    if len(_LAYOUTS) > 4096:
        _LAYOUTS.clear()
    _LAYOUTS[key] = layout
    return layout


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
