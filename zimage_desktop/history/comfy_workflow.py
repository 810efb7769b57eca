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

import json
import re
from typing import Any

from ..messages import msg

Graph = dict[str, dict[str, Any]]
Origin = list[Any]  # [node id, output slot]

SUBGRAPH_INPUT, SUBGRAPH_OUTPUT = -10, -20
VIRTUAL = ("Note", "MarkdownNote", "Reroute")
MUTED = 2
MAX_NESTING = 16
# Widgets ComfyUI declares with dynamicPrompts (nodes.py, comfy_extras/*): comments are stripped.
DYNAMIC_TEXT = ("text", "clip_l", "clip_g", "t5xxl", "prompt", "user_prompt", "llama", "bert", "mt5xl")
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
    return isinstance(value, (int, str)) and not isinstance(value, bool)


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


class _Flattener:
    def __init__(self, definitions: dict[str, dict[str, Any]]) -> None:
        self.definitions = definitions
        self.graph: Graph = {}
        self.open: set[str] = set()  # definitions being expanded: one inside itself is left out
        self.tables: dict[int, tuple[dict[Any, Any], dict[str, Any], Any]] = {}  # (the links kept alive)
        self.widget_cache: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.node_lists: dict[str, list[dict[str, Any]]] = {}

    def scope(self, nodes: list[dict[str, Any]], links: Any, prefix: str, outer: dict[int, Origin | None],
              depth: int) -> dict[int, Origin | None]:
        """Add one level's nodes; returns what feeds each of its output-node slots (-20)."""
        # a definition's links and nodes are read once, however many instances it has
        key = id(links)
        if key not in self.tables:
            self.tables[key] = (_link_table(links), {str(n["id"]): n for n in nodes}, links)
        table, by_id, _ = self.tables[key]
        expanded: dict[str, dict[int, Origin | None]] = {}
        busy: set[str] = set()

        def origin_of(link_id: Any) -> Origin | None:
            entry = table.get(link_id) if _is_id(link_id) else None
            if entry is None:
                return None
            return resolve(entry[0], entry[1])

        def resolve(node_id: Any, slot: Any) -> Origin | None:
            if node_id == SUBGRAPH_INPUT or str(node_id) == str(SUBGRAPH_INPUT):
                return outer.get(slot) if isinstance(slot, int) else None
            node = by_id.get(str(node_id))
            hops = 0
            while node is not None and node["type"] == "Reroute" and hops <= len(by_id):  # a chain, walked
                slots = _list(node.get("inputs"))
                entry = table.get(slots[0].get("link")) if slots and isinstance(slots[0], dict) \
                    and _is_id(slots[0].get("link")) else None
                if entry is None:
                    return None
                node_id, slot, hops = entry[0], entry[1], hops + 1
                if str(node_id) == str(SUBGRAPH_INPUT):
                    return outer.get(slot) if isinstance(slot, int) else None
                node = by_id.get(str(node_id))
            if node is None or node.get("mode") == MUTED or node["type"] == "Reroute":
                return None
            definition = self._definition(node["type"])
            if definition is not None:
                key = str(node["id"])
                if key not in expanded and key not in busy and depth < MAX_NESTING:
                    busy.add(key)
                    expanded[key] = self.instance(node, definition, prefix, origin_of, depth)
                return expanded.get(key, {}).get(slot) if isinstance(slot, int) else None
            return [prefix + str(node["id"]), slot]

        for node in nodes:
            if node["type"] in VIRTUAL or node.get("mode") == MUTED:
                continue
            definition = self._definition(node["type"])
            if definition is not None:
                resolve(node["id"], 0)  # expands it (its inner nodes may be the only sampler)
                continue
            inputs = dict(self._widgets(node))
            for slot in _list(node.get("inputs")):
                if isinstance(slot, dict) and isinstance(slot.get("name"), str) and _is_id(slot.get("link")):
                    found = origin_of(slot["link"])
                    if found is not None:  # else the widget value stays in place
                        inputs[slot["name"]] = found
            self.graph[prefix + str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
        outputs: dict[int, Origin | None] = {}
        for origin_id, origin_slot, target_id, target_slot in table.values():
            if str(target_id) == str(SUBGRAPH_OUTPUT) and isinstance(target_slot, int):
                outputs[target_slot] = resolve(origin_id, origin_slot)
        return outputs

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
        for name in DYNAMIC_TEXT:
            if isinstance(inputs.get(name), str):
                inputs[name] = strip_comments(inputs[name])
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
        data = json.loads(text)
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
    legacy = sorted({n["type"].split(">", 1)[-1].split("/", 1)[-1] for n in _nodes(nodes)
                     if n["type"].startswith(("workflow>", "workflow/"))})
    if legacy and notes is not None:  # as comfy-cli does: said, not guessed
        notes.append(msg("comfy_workflow.group_node", "The workflow uses the old group node {names}, whose inside "
                         "was not read; in ComfyUI, convert it to a subgraph and save the image again.",
                         names=", ".join(legacy)[:200]))
    flattener = _Flattener(definitions)
    flattener.scope(_nodes(nodes), links, "", {}, 0)
    return flattener.graph or None
