"""Recall from ComfyUI's UI-format ``workflow`` chunk (no ``prompt`` graph), as the frontend saves
it: notes, reroutes, comments in prompt widgets, visual groups, subgraphs in
``definitions.subgraphs`` (links inside as objects, the subgraph's input node -10, output node -20)."""

import json

from PIL import Image, PngImagePlugin

from zimage_desktop.history.comfy_workflow import workflow_to_graph
from zimage_desktop.history.metadata import read_png_metadata


def node(id_, type_, widgets=None, inputs=(), outputs=(), mode=0):
    return {"id": id_, "type": type_, "pos": [0, 0], "size": [300, 100], "flags": {}, "order": id_, "mode": mode,
            "inputs": [{"name": n, "type": t, "link": link} for n, t, link in inputs],
            "outputs": [{"name": n, "type": t, "links": links} for n, t, links in outputs],
            "properties": {"Node name for S&R": type_}, "widgets_values": list(widgets or [])}


def link(id_, origin, oslot, target, tslot, type_):
    return [id_, origin, oslot, target, tslot, type_]


def _recall(tmp_path, workflow):
    info = PngImagePlugin.PngInfo()
    info.add_text("workflow", json.dumps(workflow))
    path = tmp_path / "workflow.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    found = read_png_metadata(path)
    assert found.request is not None, found.notes
    r = found.request
    return found, (r.prompt, r.seed, r.steps, r.width, r.height)


def _flat_workflow(text, extra_nodes=(), via_reroute=False):
    nodes = [
        node(16, "UNETLoader", ["z.safetensors", "default"], outputs=[("MODEL", "MODEL", [1])]),
        node(18, "CLIPLoader", ["q.safetensors", "lumina2", "default"], outputs=[("CLIP", "CLIP", [2, 3])]),
        node(6, "CLIPTextEncode", [text], inputs=[("clip", "CLIP", 2)], outputs=[("CONDITIONING", "CONDITIONING", [4])]),
        node(7, "CLIPTextEncode", ["blurry"], inputs=[("clip", "CLIP", 3)],
             outputs=[("CONDITIONING", "CONDITIONING", [5])]),
        node(13, "EmptySD3LatentImage", [832, 1216, 1], outputs=[("LATENT", "LATENT", [6])]),
        node(3, "KSampler", [77, "fixed", 9, 1, "euler", "simple", 1],
             inputs=[("model", "MODEL", 1), ("positive", "CONDITIONING", 40 if via_reroute else 4),
                     ("negative", "CONDITIONING", 5), ("latent_image", "LATENT", 6)],
             outputs=[("LATENT", "LATENT", [7])]),
        node(8, "VAEDecode", [], inputs=[("samples", "LATENT", 7)], outputs=[("IMAGE", "IMAGE", [8])]),
        node(9, "SaveImage", ["ComfyUI"], inputs=[("images", "IMAGE", 8)]),
        *extra_nodes,
    ]
    links = [link(1, 16, 0, 3, 0, "MODEL"), link(2, 18, 0, 6, 0, "CLIP"), link(3, 18, 0, 7, 0, "CLIP"),
             link(4, 6, 0, 30 if via_reroute else 3, 0, "CONDITIONING"), link(5, 7, 0, 3, 2, "CONDITIONING"),
             link(6, 13, 0, 3, 3, "LATENT"), link(7, 3, 0, 8, 0, "LATENT"), link(8, 8, 0, 9, 0, "IMAGE")]
    if via_reroute:
        nodes.append(node(30, "Reroute", [], inputs=[("", "*", 4)], outputs=[("", "CONDITIONING", [40])]))
        links.append(link(40, 30, 0, 3, 1, "CONDITIONING"))
    return {"last_node_id": 40, "last_link_id": 40, "nodes": nodes, "links": links,
            "groups": [{"id": 1, "title": "Prompt", "bounding": [0, 0, 500, 400], "color": "#3f789e",
                        "font_size": 24, "flags": {}}],
            "config": {}, "extra": {"ds": {"scale": 1, "offset": [0, 0]}}, "version": 0.4}


def test_comments_are_stripped_as_comfyui_strips_them(tmp_path):
    text = "a red fox /* try: a wolf */ in the snow // old: in the rain\n, soft light"
    found, values = _recall(tmp_path, _flat_workflow(text))
    assert values == ("a red fox  in the snow \n, soft light", 77, 9, 832, 1216)


def test_a_note_is_not_the_output_and_a_reroute_passes_its_input(tmp_path):
    note = node(50, "Note", ["Use 9 steps! prompt: not this text"])
    markdown = node(51, "MarkdownNote", ["# Read me"])
    found, values = _recall(tmp_path, _flat_workflow("a lantern", [note, markdown], via_reroute=True))
    assert values == ("a lantern", 77, 9, 832, 1216)


def test_a_muted_save_node_does_not_count(tmp_path):
    workflow = _flat_workflow("a kite")
    workflow["nodes"].append(node(60, "SaveImage", ["muted"], inputs=[("images", "IMAGE", None)], mode=2))
    graph = workflow_to_graph(json.dumps(workflow))
    assert "60" not in graph and "9" in graph


SUB_ID = "a1b2c3d4-0000-4000-8000-000000000001"


def _subgraph_workflow(text, nested=False):
    """The prompt encoder and the sampler live in a subgraph; model, clip and latent come in from
    outside, the latent goes out to the VAE decode."""
    inner_nodes = [
        node(1, "CLIPTextEncode", [text], inputs=[("clip", "CLIP", 101)],
             outputs=[("CONDITIONING", "CONDITIONING", [103])]),
        node(2, "CLIPTextEncode", ["blurry"], inputs=[("clip", "CLIP", 102)],
             outputs=[("CONDITIONING", "CONDITIONING", [104])]),
        node(3, "KSampler", [4242, "fixed", 8, 1, "res_multistep", "simple", 1],
             inputs=[("model", "MODEL", 105), ("positive", "CONDITIONING", 103), ("negative", "CONDITIONING", 104),
                     ("latent_image", "LATENT", 106)], outputs=[("LATENT", "LATENT", [107])]),
    ]
    inner_links = [
        {"id": 101, "origin_id": -10, "origin_slot": 1, "target_id": 1, "target_slot": 0, "type": "CLIP"},
        {"id": 102, "origin_id": -10, "origin_slot": 1, "target_id": 2, "target_slot": 0, "type": "CLIP"},
        {"id": 103, "origin_id": 1, "origin_slot": 0, "target_id": 3, "target_slot": 1, "type": "CONDITIONING"},
        {"id": 104, "origin_id": 2, "origin_slot": 0, "target_id": 3, "target_slot": 2, "type": "CONDITIONING"},
        {"id": 105, "origin_id": -10, "origin_slot": 0, "target_id": 3, "target_slot": 0, "type": "MODEL"},
        {"id": 106, "origin_id": -10, "origin_slot": 2, "target_id": 3, "target_slot": 3, "type": "LATENT"},
        {"id": 107, "origin_id": 3, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "LATENT"},
    ]
    definition = {
        "id": SUB_ID, "version": 1, "revision": 0, "name": "Sample",
        "inputNode": {"id": -10, "bounding": [0, 0, 120, 100]}, "outputNode": {"id": -20, "bounding": [0, 0, 120, 60]},
        "inputs": [{"id": "i0", "name": "model", "type": "MODEL", "linkIds": [105]},
                   {"id": "i1", "name": "clip", "type": "CLIP", "linkIds": [101, 102]},
                   {"id": "i2", "name": "latent_image", "type": "LATENT", "linkIds": [106]}],
        "outputs": [{"id": "o0", "name": "LATENT", "type": "LATENT", "linkIds": [107]}],
        "widgets": [], "nodes": inner_nodes, "links": inner_links, "groups": [], "config": {}, "extra": {},
    }
    instance_inputs = [("model", "MODEL", 1), ("clip", "CLIP", 2), ("latent_image", "LATENT", 6)]
    subgraphs = [definition]
    outer_type = SUB_ID
    if nested:  # the subgraph above, wrapped once more
        outer_id = "a1b2c3d4-0000-4000-8000-000000000002"
        wrapper = {
            "id": outer_id, "name": "Wrapper", "inputs": definition["inputs"], "outputs": definition["outputs"],
            "nodes": [node(1, SUB_ID, [], inputs=instance_inputs[:0] + [
                ("model", "MODEL", 201), ("clip", "CLIP", 202), ("latent_image", "LATENT", 203)],
                outputs=[("LATENT", "LATENT", [204])])],
            "links": [{"id": 201, "origin_id": -10, "origin_slot": 0, "target_id": 1, "target_slot": 0},
                      {"id": 202, "origin_id": -10, "origin_slot": 1, "target_id": 1, "target_slot": 1},
                      {"id": 203, "origin_id": -10, "origin_slot": 2, "target_id": 1, "target_slot": 2},
                      {"id": 204, "origin_id": 1, "origin_slot": 0, "target_id": -20, "target_slot": 0}],
        }
        subgraphs.append(wrapper)
        outer_type = outer_id
    nodes = [
        node(16, "UNETLoader", ["z.safetensors", "default"], outputs=[("MODEL", "MODEL", [1])]),
        node(18, "CLIPLoader", ["q.safetensors", "lumina2", "default"], outputs=[("CLIP", "CLIP", [2])]),
        node(13, "EmptySD3LatentImage", [1280, 720, 1], outputs=[("LATENT", "LATENT", [6])]),
        node(20, outer_type, [], inputs=instance_inputs, outputs=[("LATENT", "LATENT", [7])]),
        node(8, "VAEDecode", [], inputs=[("samples", "LATENT", 7)], outputs=[("IMAGE", "IMAGE", [8])]),
        node(9, "SaveImage", ["ComfyUI"], inputs=[("images", "IMAGE", 8)]),
    ]
    links = [link(1, 16, 0, 20, 0, "MODEL"), link(2, 18, 0, 20, 1, "CLIP"), link(6, 13, 0, 20, 2, "LATENT"),
             link(7, 20, 0, 8, 0, "LATENT"), link(8, 8, 0, 9, 0, "IMAGE")]
    return {"nodes": nodes, "links": links, "groups": [], "definitions": {"subgraphs": subgraphs},
            "config": {}, "extra": {}, "version": 0.4}


def test_a_subgraph_holding_prompt_and_sampler_is_expanded(tmp_path):
    found, values = _recall(tmp_path, _subgraph_workflow("海边的灯塔 a lighthouse by the sea"))
    assert values == ("海边的灯塔 a lighthouse by the sea", 4242, 8, 1280, 720)
    assert found.request.sampler == "res_multistep"
    graph = workflow_to_graph(json.dumps(_subgraph_workflow("x")))
    assert graph["20:3"]["inputs"]["latent_image"] == ["13", 0]  # fed from outside, through input -10
    assert graph["8"]["inputs"]["samples"] == ["20:3", 0]  # the output node -20 names the inner sampler


def test_a_nested_subgraph(tmp_path):
    found, values = _recall(tmp_path, _subgraph_workflow("a quiet harbour", nested=True))
    assert values == ("a quiet harbour", 4242, 8, 1280, 720)


def test_a_subgraph_that_names_itself_does_not_loop(tmp_path):
    workflow = _subgraph_workflow("a loop")
    definition = workflow["definitions"]["subgraphs"][0]
    definition["nodes"].append(node(9, SUB_ID, [], inputs=[("model", "MODEL", None)]))
    graph = workflow_to_graph(json.dumps(workflow))
    assert "20:3" in graph


def test_subgraphs_naming_each_other_stay_small():
    """Two definitions, each holding two instances of the other: expanded once each, not 2^depth."""
    a, b = "a1b2c3d4-0000-4000-8000-00000000000a", "a1b2c3d4-0000-4000-8000-00000000000b"
    defs = [{"id": x, "inputs": [], "outputs": [], "links": [],
             "nodes": [node(1, y, []), node(2, y, []), node(3, "CLIPTextEncode", ["t"])]} for x, y in ((a, b), (b, a))]
    workflow = {"nodes": [node(1, a, [])], "links": [], "definitions": {"subgraphs": defs}}
    graph = workflow_to_graph(json.dumps(workflow))
    assert len(graph) <= 8


def test_a_legacy_group_node_is_named_not_guessed(tmp_path):
    """ComfyUI's old group nodes (type ``workflow>NAME``, defined in ``extra.groupNodes``): the prompt
    outside them is read, and a note says the group's inside was not."""
    workflow = _flat_workflow("a paper crane")
    workflow["nodes"].append(node(70, "workflow>Upscale", [2, "nearest-exact"], inputs=[("image", "IMAGE", None)]))
    workflow["extra"]["groupNodes"] = {"Upscale": {"nodes": [{"type": "ImageScaleBy", "index": 0,
                                                               "widgets_values": ["nearest-exact", 2]}],
                                                    "links": [], "external": []}}
    found, values = _recall(tmp_path, workflow)
    assert values == ("a paper crane", 77, 9, 832, 1216)
    assert any("old group node Upscale" in n for n in found.notes), found.notes
