"""Recall from ComfyUI's API-format ``prompt`` graph by walking it the way the image was made.

Start at the node that saved the image (SaveImage, else PreviewImage, else any sink), follow links
back to the sampler that feeds it, and take everything from that one sampler: the seed (its own,
or its RandomNoise's), the steps (its own, or its scheduler's), the sampler and schedule names,
the positive prompt (following ``positive``/``guider``/``conditioning`` links through any node
until a text input is found) and the latent size. A chain of samplers (a refining second pass) is
traced back to the pass that starts from an empty latent. Negative inputs are never followed.
"""

from __future__ import annotations

from ..messages import msg
from . import json_text

import gc
import re
from collections import deque
from contextlib import contextmanager
from typing import Any, Iterator

from .comfy_sizes import picker_size
from .comfy_text import (  # noqa: F401  (re-exported)
    MAX_DEPTH, NUMBER_KEYS, POSITIVE_KEYS, TEXT_KEYS, Graph, _class, _inputs, is_link, link_target, positive_text,
    text_value)
from .comfy_workflow import WIDGETS, workflow_to_graph  # noqa: F401  (WIDGETS: re-exported)
from .recall import RecallValues

OUTPUT_CLASSES = ("SaveImage", "PreviewImage")
SAMPLER_CLASSES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")


def load_graph(text: str) -> Graph | None:
    try:
        data = json_text.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    graph: Graph = {key: node for key, node in data.items()  # keys are strings: JSON has no other
                    if type(node) is dict and type(node.get("inputs")) is dict
                    and isinstance(node.get("class_type"), str)}
    return graph or None


def _is_sampler_node(node: dict[str, Any]) -> bool:
    inputs = node["inputs"]
    return node["class_type"] in SAMPLER_CLASSES or (
        "latent_image" in inputs and ("positive" in inputs or "guider" in inputs))


def is_sampler(graph: Graph, node_id: str) -> bool:
    return _is_sampler_node(graph[node_id])


def _upstream(graph: Graph, node_id: str) -> list[str]:
    found = []
    for value in graph[node_id]["inputs"].values():
        source = link_target(value, graph)
        if source is not None:
            found.append(source)
    return found


def _nearest_sampler(graph: Graph, start_links: list[str], seen: set[str] | None = None) -> str | None:
    """Breadth-first along links from these nodes: the first sampler met. ``seen`` may be shared by
    several searches: a node an earlier, fruitless search reached leads to no sampler, so it is not
    walked again (the walk over every output stays linear in the graph's size)."""
    seen = set() if seen is None else seen
    queue = deque(start_links)
    while queue:
        node_id = queue.popleft()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = graph[node_id]
        inputs = node["inputs"]
        if node["class_type"] in SAMPLER_CLASSES or (
                "latent_image" in inputs and ("positive" in inputs or "guider" in inputs)):  # _is_sampler_node
            return node_id
        for value in inputs.values():
            source = link_target(value, graph)
            if source is not None and source not in seen:
                queue.append(source)
    return None


def _output_rank(cls: str) -> int:
    """0: saves the image (SaveImage, custom "Image Save" nodes), 1: previews it, 2: anything else."""
    name = cls.lower()
    if cls == OUTPUT_CLASSES[0] or ("save" in name and "image" in name):
        return 0
    return 1 if cls == OUTPUT_CLASSES[1] or ("preview" in name and "image" in name) else 2


def _outputs(graph: Graph) -> list[str]:
    ranks: dict[str, int] = {}  # per class name: a graph has few classes and many nodes
    ranked = []
    for node_id, node in graph.items():
        cls = node["class_type"]
        rank = ranks.get(cls)
        if rank is None:
            rank = ranks[cls] = _output_rank(cls)
        if rank < 2:
            ranked.append((rank, _node_order(node_id), node_id))
    if ranked:
        return [n for _, _, n in sorted(ranked)]
    used = {u for n in graph for u in _upstream(graph, n)}
    return [n for n in sorted(graph, key=_node_order) if n not in used]


def _node_order(node_id: str) -> tuple[int, str]:
    # isdigit() is true for '²', which int() refuses: only plain ASCII numbers sort as numbers
    return (int(node_id), "") if node_id.isascii() and node_id.isdigit() else (1 << 62, node_id)


def find_sampler(graph: Graph, notes: list[str]) -> str | None:
    """The sampler that made the saved image (the first pass of a chain of samplers)."""
    sampler = None
    fruitless: set[str] = set()
    for output in _outputs(graph):
        if output in fruitless:  # an output another output's fruitless search passed through
            continue
        sampler = _nearest_sampler(graph, [output], fruitless)
        if sampler is not None:
            break
    if sampler is None:
        return None
    chain, in_chain = [sampler], {sampler}
    while True:
        latent = link_target(_inputs(graph, chain[-1]).get("latent_image"), graph)
        if latent is not None and _is_sampler_node(graph[latent]):
            before: str | None = latent  # the usual refining pass: no search needed
        else:
            before = _nearest_sampler(graph, [latent]) if latent is not None else None
        if before is None or before in in_chain:
            break
        chain.append(before)
        in_chain.add(before)
    if len(chain) > 1:
        notes.append(msg("comfy_graph.image_was_refined_by", "The image was refined by {passes} more sampler pass(es); the "
                         "first pass (node {node}) was recalled and is re-made without them.",
                         passes=len(chain) - 1, node=chain[-1]))
    classes = SAMPLER_CLASSES  # _is_sampler_node, inlined: this runs over every node of the graph
    others = sum(1 for node in graph.values() if node["class_type"] in classes or (
        "latent_image" in node["inputs"] and ("positive" in node["inputs"] or "guider" in node["inputs"]))) - len(chain)
    if others > 0:
        notes.append(msg("comfy_graph.workflow_other_sampler_s", "The workflow has {others} other sampler(s); the one that "
                         "feeds the saved image was used.", others=others))
    return chain[-1]


def _scalar(graph: Graph, value: Any, keys: tuple[str, ...], depth: int = 0) -> Any:
    """A literal input, following links into value nodes (primitives, seed nodes) for ``keys``."""
    if not is_link(value, graph):
        return value
    if depth > MAX_DEPTH:
        return None
    inputs = _inputs(graph, str(value[0]))
    for key in keys:
        if key in inputs:
            return _scalar(graph, inputs[key], keys, depth + 1)
    return None


def _linked(graph: Graph, node_id: str, key: str) -> str | None:
    return link_target(_inputs(graph, node_id).get(key), graph)


def _side(graph: Graph, value: Any, index: int) -> Any:
    """A width (index 0) or height (1): a number, or followed to a primitive or a size picker."""
    target = link_target(value, graph)
    if target is not None:
        picked = picker_size(_inputs(graph, target))
        if picked is not None:
            return picked[index]
    return _scalar(graph, value, NUMBER_KEYS)


def latent_size(graph: Graph, start: Any, notes: list[str]) -> tuple[Any, Any]:
    node_id = str(start[0]) if is_link(start, graph) else None
    for _ in range(MAX_DEPTH):
        if node_id is None:
            break
        inputs = _inputs(graph, node_id)
        picked = picker_size(inputs)
        if picked is not None:
            return picked
        if "width" in inputs and "height" in inputs:
            return _side(graph, inputs["width"], 0), _side(graph, inputs["height"], 1)
        if "pixels" in inputs:
            notes.append(msg("comfy_graph.image_was_made_from", "The image was made from an input image ({node_class}); it is "
                             "re-made from noise.", node_class=_class(graph, node_id)))
            break
        node_id = next((str(inputs[k][0]) for k in ("samples", "latent", "latent_image", "LATENT")
                        if is_link(inputs.get(k), graph)), None)
    return None, None


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector paused while a graph is parsed and walked: JSON makes no cycles
    (reference counts free it all), but its ~100,000 new containers in a 5,000-node graph set off
    collections that each walk every object alive — 10-20 % of the read (bench/graph_walk.py)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_comfy_prompt(text: str) -> RecallValues | None:
    with cycle_collection_paused():
        graph = load_graph(text)
        found = None if graph is None else recall_from_graph(graph, "comfyui")
        del graph  # freed while paused: alive at the collector's restart, it would be walked once more
    return found


def recall_from_graph(graph: Graph, source: str) -> RecallValues:
    """Prompt, seed, steps, size, sampler and schedule from the saved image's own sampler."""
    found = RecallValues(source)
    sampler = find_sampler(graph, found.notes)
    if sampler is None:
        found.notes.append(msg("comfy_graph.sampler_was_found_comfyui", "No sampler was found in the ComfyUI workflow."))
        return found
    inputs = _inputs(graph, sampler)
    noise = _linked(graph, sampler, "noise")
    sigmas = _linked(graph, sampler, "sigmas")
    chosen_sampler = _linked(graph, sampler, "sampler")
    guider = _linked(graph, sampler, "guider")

    seed = inputs.get("seed", inputs.get("noise_seed"))
    if seed is None and noise is not None:
        seed = _inputs(graph, noise).get("noise_seed", _inputs(graph, noise).get("seed"))
    found.seed = _scalar(graph, seed, NUMBER_KEYS)
    if noise is not None and found.seed is None and _class(graph, noise) == "DisableNoise":
        found.notes.append(msg("comfy_graph.workflow_adds_noise_seed", "The workflow adds no noise; seed 0 was used."))

    steps = inputs.get("steps")
    if steps is None and sigmas is not None:
        steps = _inputs(graph, sigmas).get("steps")
    if steps is None and sigmas is not None and isinstance(_inputs(graph, sigmas).get("sigmas"), str):
        # ManualSigmas: the steps are its values less the final one (its own regular expression)
        steps = max(0, len(re.findall(r"[-+]?(?:\d*\.*\d+)", _inputs(graph, sigmas)["sigmas"])) - 1) or None
    found.steps = _scalar(graph, steps, NUMBER_KEYS)

    name = inputs.get("sampler_name")
    if name is None and chosen_sampler is not None:
        name = _inputs(graph, chosen_sampler).get("sampler_name", _class(graph, chosen_sampler))
    found.sampler = _text_or_none(_scalar(graph, name, ("sampler_name", "value")))
    schedule = inputs.get("scheduler")
    if schedule is None and sigmas is not None:
        schedule = _inputs(graph, sigmas).get("scheduler", _class(graph, sigmas))
    found.scheduler = _text_or_none(_scalar(graph, schedule, ("scheduler", "value")))

    cfg = inputs.get("cfg", _inputs(graph, guider).get("cfg") if guider else None)
    found.cfg = _scalar(graph, cfg, ("cfg", "value"))
    denoise = inputs.get("denoise", _inputs(graph, sigmas).get("denoise") if sigmas else None)
    denoise = _scalar(graph, denoise, ("denoise", "value"))
    if isinstance(denoise, (int, float)) and not isinstance(denoise, bool) and denoise < 1:
        found.notes.append(msg("comfy_graph.denoise_was_used_image", "Denoise {denoise} was not used: the image is re-made "
                               "from noise.", denoise=denoise))
        found.strength = denoise
    latent = _linked(graph, sampler, "latent_image")
    latent_class = _class(graph, latent) if latent is not None else ""
    if latent_class in ("SetLatentNoiseMask", "VAEEncodeForInpaint", "InpaintModelConditioning"):
        found.edit_mode = "inpaint"
    elif latent_class == "VAEEncode" or found.strength is not None:
        found.edit_mode = "img2img"

    model = inputs.get("model")
    if model is None and guider is not None:
        model = _inputs(graph, guider).get("model")
    found.loras = model_loras(graph, model)
    found.model = model_name(graph, model)
    found.width, found.height = latent_size(graph, inputs.get("latent_image"), found.notes)
    found.prompt = positive_text(graph, inputs.get("positive", inputs.get("guider")))
    if found.prompt is None:
        found.notes.append(msg("comfy_graph.positive_prompt_was_found", "No positive prompt was found on the sampler's "
                               "inputs."))
    negative = inputs.get("negative")
    if negative is None and guider is not None:
        negative = _inputs(graph, guider).get("negative")
    found.negative_prompt = negative_text(graph, negative)
    return found


def negative_text(graph: Graph, start: Any) -> str | None:
    """The negative prompt: the positive's string-node walk from the sampler's ``negative`` input,
    except that ConditioningZeroOut (the Turbo template's negative) has none — the text it zeroes
    is the positive prompt's."""
    target = link_target(start, graph)
    if target is None or _class(graph, target) == "ConditioningZeroOut":
        return None
    return positive_text(graph, start)


_OFF = ("off", "false", "no", "disabled")


def _lora_entries(graph: Graph, inputs: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    """The LoRAs one node applies: LoraLoader(ModelOnly) and look-alikes (``lora_name`` +
    ``strength_model``), numbered stacks (Comfyroll's ``lora_name_1``/``model_weight_1``/``switch_1``,
    Efficiency's ``lora_wt_1``/``model_str_1``), and rgthree's Power Lora Loader (``lora_1``:
    {on, lora, strength})."""
    found: list[tuple[str, Any, str | None]] = []

    def add(name: Any, strength: Any, on: Any = True) -> None:
        name = _scalar(graph, name, ("lora_name", "value"))
        strength = _scalar(graph, strength, ("strength_model", "strength", "value"))
        if isinstance(name, str) and name.strip() and name.strip().lower() != "none" \
                and not (isinstance(on, str) and on.lower() in _OFF) and on is not False:
            found.append((name.strip(), 1.0 if strength is None else strength, None))

    if "lora_name" in inputs:
        add(inputs["lora_name"], inputs.get("strength_model", inputs.get("strength", inputs.get("lora_strength"))))
    for key in sorted(inputs):
        value = inputs[key]
        if key.startswith("lora_name_"):
            n = key[len("lora_name_"):]
            add(value, next((inputs[k] for k in (f"model_weight_{n}", f"model_str_{n}", f"lora_wt_{n}",
                                                 f"strength_{n}", f"strength_model_{n}") if k in inputs), None),
                inputs.get(f"switch_{n}", True))
        elif key.startswith("lora_") and isinstance(value, dict) and "lora" in value:
            add(value.get("lora"), value.get("strength", value.get("strengthTwo")), value.get("on", True))
    return found


def model_name(graph: Graph, start: Any) -> str | None:
    """The file the sampler's model was loaded from (UNETLoader, checkpoint and GGUF loaders),
    following ``model`` links back through LoRA and patch nodes."""
    node_id = link_target(start, graph)
    for _ in range(MAX_DEPTH):
        if node_id is None:
            return None
        inputs = _inputs(graph, node_id)
        for key in ("unet_name", "ckpt_name", "model_name"):
            if isinstance(inputs.get(key), str):
                return inputs[key]
        node_id = link_target(inputs.get("model"), graph)
    return None


def model_loras(graph: Graph, start: Any) -> list[tuple[str, Any, str | None]]:
    """The LoRAs on the sampler's model path, loader first: follow ``model`` links back to the
    loader and ``lora_stack`` links into stacker nodes."""
    chain: list[list[tuple[str, Any, str | None]]] = []
    node_id = link_target(start, graph)
    seen: set[str] = set()
    while node_id is not None and node_id not in seen and len(seen) < MAX_DEPTH:
        seen.add(node_id)
        inputs = _inputs(graph, node_id)
        here = _lora_entries(graph, inputs)
        stack = link_target(inputs.get("lora_stack"), graph)
        depth = 0
        while stack is not None and stack not in seen and depth < MAX_DEPTH:
            seen.add(stack)
            depth += 1
            here = _lora_entries(graph, _inputs(graph, stack)) + here
            stack = link_target(_inputs(graph, stack).get("lora_stack"), graph)
        chain.append(here)
        node_id = link_target(inputs.get("model"), graph)
    return [entry for node in reversed(chain) for entry in node]


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_comfy_workflow(text: str) -> RecallValues | None:
    """The same walk over a ``workflow`` chunk, for images that carry no ``prompt`` graph."""
    notes: list[str] = []
    with cycle_collection_paused():
        graph = workflow_to_graph(text, notes)
        if graph is None:
            return None
        found = recall_from_graph(graph, "comfyui-workflow")
        del graph  # freed while paused (see parse_comfy_prompt)
    found.notes[:0] = notes
    return found
