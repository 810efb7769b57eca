"""ComfyUI's UI-format ``workflow`` chunk turned into an API-format graph, for images that carry no
``prompt`` graph — the way ComfyUI's frontend turns it into the prompt it queues (``graphToPrompt``):

- virtual nodes take no part: ``Note``/``MarkdownNote`` are dropped, a ``Reroute`` passes its input
  on, a muted node (mode 2) is left out;
- text widgets with dynamic prompts (CLIPTextEncode's ``text`` and the like) lose their
  ``/* block */`` and ``// line`` comments, as the frontend's ``Comfy.DynamicPrompts`` strips them;
- subgraphs (``definitions.subgraphs``; a node whose ``type`` is a subgraph's id) are expanded
  into their inner nodes, named ``outer:inner`` like ComfyUI's execution ids; inner links from the
  subgraph's input node (id -10) come from what feeds the instance's input, and links out of the
  instance come from the inner node wired to the output node (id -20);
- the ``groups`` list is boxes drawn around nodes (a title, a rectangle): it changes nothing;
- legacy group nodes (``extra.groupNodes``, type ``workflow>NAME``) are not expanded (ComfyUI
  replaced them with subgraphs): a note names them.
"""

from __future__ import annotations

import re
from collections import deque
from functools import partial
from typing import Any, Callable

from ..messages import msg
from . import json_text

Graph = dict[str, dict[str, Any]]
Origin = list[Any]  # [node id, output slot]

SUBGRAPH_INPUT, SUBGRAPH_OUTPUT = -10, -20
_INPUT_ID = str(SUBGRAPH_INPUT)
VIRTUAL = ("Note", "MarkdownNote", "Reroute")
SAMPLER_TYPES = ("SamplerCustom", "SamplerCustomAdvanced")  # and every type named *KSampler*
MUTED = 2
MAX_NESTING = 16
# Nested subgraphs multiply (a definition with two instances of one with two instances …): the
# nodes inside instances stop growing here, with a note, so a small file cannot expand without end.
MAX_EXPANDED = 20_000
# Widgets ComfyUI declares with dynamicPrompts (nodes.py, comfy_extras/*): comments are stripped.
DYNAMIC_TEXT = ("text", "clip_l", "clip_g", "t5xxl", "prompt", "user_prompt", "llama", "bert", "mt5xl")
_DYNAMIC = frozenset(DYNAMIC_TEXT)
_COMMENTS = re.compile(r"/\*[\s\S]*?\*/|//.*")

# The UI-format ``workflow`` keeps widget values as a list in the node's widget order; these are the
# orders of the nodes that matter here (None: the seed's "control after generate" widget).
WIDGETS: dict[str, tuple[str | None, ...]] = {
    "KSampler": ("seed", None, "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed", None, "steps", "cfg", "sampler_name", "scheduler",
                         "start_at_step", "end_at_step", "return_with_leftover_noise"),
    "SamplerCustom": ("add_noise", "noise_seed", None, "cfg"),
    "RandomNoise": ("noise_seed", None),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KSamplerSelect": ("sampler_name",),
    "CFGGuider": ("cfg",),
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "PrimitiveNode": ("value", None),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
}



def _is_id(value: Any) -> bool:
    kind = type(value)  # exact types first: JSON gives no others
    return kind is int or kind is str or (kind is not bool and isinstance(value, (int, str)))


def strip_comments(text: str) -> str:
    """As the frontend's ``stripComments``: C-style block and line comments removed."""
    return _COMMENTS.sub("", text)


def _link_table(links: Any) -> dict[Any, tuple[Any, Any, Any, Any]]:
    """link id → (origin id, origin slot, target id, target slot); a list or dict where an id
    belongs names no link."""
    table: dict[Any, tuple[Any, Any, Any, Any]] = {}
    for link in links if isinstance(links, list) else []:
        if isinstance(link, list) and len(link) >= 5 and _is_id(link[0]):
            table[link[0]] = (link[1], link[2], link[3], link[4])
        elif isinstance(link, dict) and _is_id(link.get("id")):
            table[link["id"]] = (link.get("origin_id"), link.get("origin_slot", 0), link.get("target_id"),
                                 link.get("target_slot", 0))
    return table


# Where a link comes from, read once per definition (reroutes followed): ("input", slot) from the
# subgraph's input node, ("node", id) a plain node, ("instance", node) a subgraph's instance.
_Source = tuple[str, Any, Any]


class _Level:
    """One definition's (or the top level's) nodes and links, read once for all its instances: the
    link table, each link's source past reroutes, and each kept node's widgets and linked inputs."""

    def __init__(self, flattener: _Flattener, nodes: list[dict[str, Any]], links: Any) -> None:
        self.kept = (nodes, links)  # kept alive: the cache is keyed by their ids
        self.table = _link_table(links)
        self.by_id = {str(n["id"]): n for n in nodes}
        self.sources: dict[Any, _Source | None] = {}
        self.rerouted: dict[str, _Source | None] = {}  # per reroute: what it passes on
        self.definition_of = flattener.definitions.get  # not the flattener's method: no cycle back to it
        # Per kept node: its id, whether it is an instance, a sampler, its widgets, and where each
        # linked input comes from (reroutes passed) — the same for every instance of a definition.
        self.plan: list[tuple[dict[str, Any], str, bool, bool, dict[str, Any], list[tuple[str, _Source]]]] = []
        for node in nodes:
            kind = node["type"]
            if kind in VIRTUAL or node.get("mode") == MUTED:
                continue
            if flattener._definition(kind) is not None:
                self.plan.append((node, str(node["id"]), True, False, {}, []))
                continue
            sources = []
            for slot in _list(node.get("inputs")):
                if isinstance(slot, dict) and isinstance(slot.get("name"), str) and _is_id(slot.get("link")):
                    found = self.link_source(slot["link"])
                    if found is not None:  # else the widget value stays in place
                        sources.append((slot["name"], found))
            self.plan.append((node, str(node["id"]), False, kind in SAMPLER_TYPES or "KSampler" in kind,
                              flattener._widgets(node), sources))
        self.outputs = [(o_id, o_slot, t_slot) for o_id, o_slot, t_id, t_slot in self.table.values()
                        if str(t_id) == str(SUBGRAPH_OUTPUT) and isinstance(t_slot, int)]

    def source(self, node_id: Any, slot: Any) -> _Source | None:
        """What feeds (node, slot) once reroutes are passed; None when nothing does. Each reroute's
        answer is kept, so many links through one long chain of reroutes walk it once."""
        path: list[str] = []  # the reroutes passed: each passes on what is found
        found: _Source | None = None
        while True:
            key = str(node_id)
            if key == _INPUT_ID:
                found = ("input", slot, None) if isinstance(slot, int) else None
                break
            if key in self.rerouted:
                found = self.rerouted[key]
                break
            node = self.by_id.get(key)
            if node is None:
                break
            if node["type"] != "Reroute":
                if node.get("mode") != MUTED:
                    found = ("instance", node, slot) if self.definition_of(node["type"]) is not None \
                        else ("node", key, slot)
                break
            path.append(key)
            self.rerouted[key] = None  # until found: a loop of reroutes back here feeds nothing
            slots = node.get("inputs")
            first = slots[0] if type(slots) is list and slots else None
            link = first.get("link") if isinstance(first, dict) else None
            entry = self.table.get(link) if _is_id(link) else None
            if entry is None:
                break
            node_id, slot = entry[0], entry[1]
        for key in path:
            self.rerouted[key] = found
        return found

    def link_source(self, link_id: Any) -> _Source | None:
        if not _is_id(link_id):  # a list, a dict, null: links no node (and cannot be a cache key)
            return None
        if link_id in self.sources:
            return self.sources[link_id]
        entry = self.table.get(link_id)
        found = self.sources[link_id] = None if entry is None else self.source(entry[0], entry[1])
        return found


class _Scope:
    """One level's instance (the top level, or one instance of a definition): where its links come
    from, its subgraph instances expanded once each. An object, not a closure over itself, so that
    nothing here is a reference cycle: a read's objects are freed by reference counts when it ends
    (the deferred expansions that hold a scope are dropped by ``_Flattener.release``)."""

    __slots__ = ("flattener", "level", "prefix", "outer", "depth", "expanded", "busy")

    def __init__(self, flattener: _Flattener, level: _Level, prefix: str, outer: dict[int, Origin | None],
                 depth: int) -> None:
        self.flattener, self.level, self.prefix, self.outer, self.depth = flattener, level, prefix, outer, depth
        self.expanded: dict[str, dict[int, Origin | None]] = {}
        self.busy: set[str] = set()

    def origin(self, found: _Source | None) -> Origin | None:
        if found is None:
            return None
        kind, what, slot = found
        if kind == "node":
            return [self.prefix + what, slot]
        if kind == "input":
            return self.outer.get(what)
        key = str(what["id"])
        expanded = self.expanded
        if key not in expanded and key not in self.busy and self.depth < MAX_NESTING:
            self.busy.add(key)
            flattener = self.flattener
            expanded[key] = flattener.instance(what, flattener._definition(what["type"]) or {}, self.prefix,
                                               self.origin_of_link, self.depth)
        return expanded.get(key, {}).get(slot) if isinstance(slot, int) else None

    def origin_of_link(self, link: Any) -> Origin | None:
        return self.origin(self.level.link_source(link))


class _Flattener:
    def __init__(self, definitions: dict[str, dict[str, Any]]) -> None:
        self.definitions = definitions
        self.graph: Graph = {}
        self.open: set[str] = set()  # definitions being expanded: one inside itself is left out
        self.levels: dict[tuple[int, int], _Level] = {}
        self.widget_cache: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.node_lists: dict[str, list[dict[str, Any]]] = {}
        self.budget = MAX_EXPANDED  # inner nodes still to add: nesting can multiply instances
        # Instances nothing at their level reads from: expanded after everything that feeds an
        # output, and only while no sampler was met (their inner nodes may hold the only one).
        self.deferred: deque[tuple[frozenset[str], Callable[[], Any]]] = deque()  # (the open definitions, …)
        self.has_sampler = False

    def scope(self, nodes: list[dict[str, Any]], links: Any, prefix: str, outer: dict[int, Origin | None],
              depth: int) -> dict[int, Origin | None]:
        """Add one level's nodes; returns what feeds each of its output-node slots (-20)."""
        key = (id(nodes), id(links))
        level = self.levels.get(key)
        if level is None:  # a definition's links and nodes are read once, however many instances it has
            level = self.levels[key] = _Level(self, nodes, links)
        origin = _Scope(self, level, prefix, outer, depth).origin

        graph = self.graph
        for node, node_id, is_instance, is_sampler, widgets, sources in level.plan:
            if is_instance:
                self.deferred.append((frozenset(self.open), partial(origin, ("instance", node, 0))))
                continue
            if prefix:
                if self.budget <= 0:
                    break
                self.budget -= 1
            if is_sampler:
                self.has_sampler = True
            inputs = dict(widgets)
            for name, source in sources:
                found = [prefix + source[1], source[2]] if source[0] == "node" else origin(source)
                if found is not None:  # else the widget value stays in place
                    inputs[name] = found
            graph[prefix + node_id] = {"class_type": node["type"], "inputs": inputs}
        return {t_slot: origin(level.source(o_id, o_slot)) for o_id, o_slot, t_slot in level.outputs}

    def release(self) -> None:
        """Drop what the expansion kept: the deferred expansions' closures refer back to this
        flattener, and through its levels to the whole parsed workflow. Freed now, by reference
        counts, instead of by a cycle collection that walks every one of those objects
        (bench/graph_walk.py: a quarter of a big subgraph workflow's read)."""
        self.deferred.clear()
        self.levels.clear()
        self.widget_cache.clear()
        self.node_lists.clear()

    def _widgets(self, node: dict[str, Any]) -> dict[str, Any]:
        """A node's widget values by name, comments stripped (once per node, not per instance)."""
        cached = self.widget_cache.get(id(node))
        if cached is not None:
            return cached[1]
        inputs: dict[str, Any] = {}
        values = node.get("widgets_values")
        if isinstance(values, dict):
            inputs.update(values)
        elif isinstance(values, list):
            inputs.update((name, v) for name, v in zip(WIDGETS.get(node["type"], ()), values) if name)
        for name, value in inputs.items():
            if name in _DYNAMIC and isinstance(value, str) and "/" in value:
                inputs[name] = strip_comments(value)
        self.widget_cache[id(node)] = (node, inputs)
        return inputs

    def _definition(self, node_type: str) -> dict[str, Any] | None:
        return self.definitions.get(node_type)

    def instance(self, node: dict[str, Any], definition: dict[str, Any], prefix: str, origin_of: Any,
                 depth: int) -> dict[int, Origin | None]:
        """A subgraph's instance: its inner nodes under ``prefix + id + ':'``."""
        if node["type"] in self.open:
            return {}
        feeds: dict[int, Origin | None] = {}
        names = [i.get("name") for i in _list(definition.get("inputs")) if isinstance(i, dict)]
        for index, slot in enumerate(_list(node.get("inputs"))):
            if not isinstance(slot, dict):
                continue
            position = names.index(slot.get("name")) if slot.get("name") in names else index
            feeds[position] = origin_of(slot.get("link"))
        inner = self.node_lists.get(node["type"])
        if inner is None:
            inner = self.node_lists[node["type"]] = _nodes(definition.get("nodes"))
        self.open.add(node["type"])
        try:
            return self.scope(inner, definition.get("links"), f"{prefix}{node['id']}:", feeds, depth + 1)
        finally:
            self.open.discard(node["type"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _nodes(nodes: Any) -> list[dict[str, Any]]:
    return [n for n in nodes if isinstance(n, dict) and isinstance(n.get("type"), str) and _is_id(n.get("id"))] \
        if isinstance(nodes, list) else []


def workflow_to_graph(text: str, notes: list[str] | None = None) -> Graph | None:
    """An API-format graph from a UI-format workflow (links resolved, known widgets named); a
    legacy group node, which is not expanded, is named in ``notes``."""
    try:
        data = json_text.loads(text)
    except (ValueError, RecursionError):
        return None
    nodes, links = (data.get("nodes"), data.get("links")) if isinstance(data, dict) else (None, None)
    if not isinstance(nodes, list) or not isinstance(links, list):
        return None
    definitions: dict[str, dict[str, Any]] = {}
    subgraphs = data.get("definitions", {}).get("subgraphs") if isinstance(data.get("definitions"), dict) else None
    for definition in subgraphs if isinstance(subgraphs, list) else []:
        if isinstance(definition, dict) and isinstance(definition.get("id"), str):
            definitions[definition["id"]] = definition
    top = _nodes(nodes)
    legacy = sorted({n["type"].split(">", 1)[-1].split("/", 1)[-1] for n in top
                     if n["type"].startswith(("workflow>", "workflow/"))})
    if legacy and notes is not None:  # as comfy-cli does: said, not guessed
        notes.append(msg("comfy_workflow.group_node", "The workflow uses the old group node {names}, whose inside "
                         "was not read; in ComfyUI, convert it to a subgraph and save the image again.",
                         names=", ".join(legacy)[:200]))
    flattener = _Flattener(definitions)
    flattener.scope(top, links, "", {}, 0)
    while flattener.deferred and not flattener.has_sampler and flattener.budget > 0:
        inside, expand = flattener.deferred.popleft()
        flattener.open = set(inside)  # as when it was met: a definition inside itself stays out
        expand()
    graph = flattener.graph
    flattener.release()
    if flattener.budget <= 0 and notes is not None:
        notes.append(msg("comfy_workflow.too_many_nodes", "The workflow's subgraphs expand to more than {count} "
                         "nodes; only the first {count} were read.", count=MAX_EXPANDED))
    return graph or None
