"""Edits in the history, the PNG metadata, ComfyUI's graph and the CLI: sources and masks kept by
content address and released with their last entry, lineage, A1111 fields, a graph that ComfyUI's
own node definitions accept and that runs our steps, recall of other tools' img2img, bad input."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zimage_desktop.cli import main
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GenerationRequest, GeneratedImage
from zimage_desktop.engine.sampling import simple_sigmas
from zimage_desktop.history.comfy_export import api_prompt, comfy_input_image, ksampler_steps, workflow
from zimage_desktop.history.edit_inputs import keep_edit_inputs
from zimage_desktop.history.input_store import inputs_folder
from zimage_desktop.history.metadata import a1111_parameters, parse_text_chunks
from zimage_desktop.history.operations import restore, trash
from zimage_desktop.history.saving import save_generated
from zimage_desktop.history.store import HistoryStore

COMFY_NODES = Path("/work/shared/peers/comfyui/ComfyUI/nodes.py")
MODEL = {"name": "tiny", "hash": "abc", "roles": {"transformer": "t.gguf", "text_encoder": "te.safetensors",
                                                  "vae": "ae.safetensors"}}


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(tmp_path / "src.png")
    mask = Image.new("L", (256, 256), 0)
    mask.paste(255, (64, 64, 128, 128))
    mask.save(tmp_path / "mask.png")
    return tmp_path


def _inpaint(p, **more):
    fields = dict(prompt="a door", width=256, height=256, seed=3, mode="inpaint", source=str(p / "src.png"),
                  mask=str(p / "mask.png"), strength=0.75)
    return GenerationRequest(**{**fields, **more})


def test_inputs_are_kept_once_by_content_and_leave_with_their_last_entry(pictures, tmp_path):
    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    request = keep_edit_inputs(_inpaint(pictures), paths.data)
    again = keep_edit_inputs(_inpaint(pictures, seed=4), paths.data)
    kept = sorted(inputs_folder(paths.data).iterdir())
    assert len(kept) == 2 and request.source == again.source  # shared between entries
    assert Path(request.source).read_bytes() == (pictures / "src.png").read_bytes()
    picture = Image.open(pictures / "src.png")
    first = save_generated(GeneratedImage(request, picture, {}, MODEL), paths, store)
    second = save_generated(GeneratedImage(again, picture, {}, MODEL), paths, store)
    record = store.get(first.history_id)
    assert record.request.source == request.source and record.request.mask_sha256 == request.mask_sha256
    trashed = trash(store, [record], paths.data / "trash")
    assert len(list(inputs_folder(paths.data).iterdir())) == 2  # still used by the second entry
    trashed += trash(store, [store.get(second.history_id)], paths.data / "trash")
    assert list(inputs_folder(paths.data).iterdir()) == []  # gone with the last entry that used them
    new_id = restore(store, trashed[0])  # undo brings them back
    assert Path(store.get(new_id).request.source).exists()
    store.close()


def test_an_edit_links_to_its_source_entry(pictures, tmp_path):
    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    picture = Image.open(pictures / "src.png")
    parent = save_generated(GeneratedImage(GenerationRequest(prompt="x", seed=1), picture, {}, MODEL), paths, store)
    edit = keep_edit_inputs(_inpaint(pictures, source_entry=parent.history_id), paths.data)
    child = save_generated(GeneratedImage(edit, picture, {}, MODEL), paths, store)
    assert [r.id for r in store.lineage(child.history_id)] == [parent.history_id, child.history_id]
    orphan = keep_edit_inputs(_inpaint(pictures, source_entry=999), paths.data)  # its source entry was deleted
    assert store.get(save_generated(GeneratedImage(orphan, picture, {}, MODEL), paths, store).history_id).parent_id is None
    store.close()


def test_a1111_text_carries_denoising_strength_and_mask_blur(pictures):
    text = a1111_parameters(_inpaint(pictures, mask_blur=12), MODEL)
    assert "Denoising strength: 0.75" in text and "Mask blur: 12" in text
    recalled = parse_text_chunks({"parameters": text})
    assert recalled.edit_mode == "inpaint" and recalled.request.strength == 0.75
    assert any("open that image" in note for note in recalled.notes)
    plain = parse_text_chunks({"parameters": "a cat\nSteps: 8, Sampler: Euler, Seed: 1, Size: 512x512, "
                                             "Denoising strength: 0.4"})
    assert plain.edit_mode == "img2img" and plain.request.strength == 0.4 and plain.request.mode == "txt2img"


def _type_name(node) -> str:
    """"LATENT" or IO.LATENT → "LATENT"; a list of choices (a combo) → "COMBO"."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "IO":
        return node.attr
    return "COMBO"


def _comfy_definitions() -> dict[str, tuple[dict[str, str], tuple[str, ...]]]:
    """{class: ({required input: type}, return types)} read from ComfyUI's own nodes.py."""
    if not COMFY_NODES.exists():
        pytest.skip("ComfyUI's source is not here")
    tree = ast.parse(COMFY_NODES.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        inputs, returns = {}, ()
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "INPUT_TYPES":
                ret = next(n for n in ast.walk(item) if isinstance(n, ast.Return)).value
                for key, value in zip(ret.keys, ret.values):
                    if isinstance(key, ast.Constant) and key.value == "required" and isinstance(value, ast.Dict):
                        for k, v in zip(value.keys, value.values):
                            first = v.elts[0] if isinstance(v, ast.Tuple) else None
                            inputs[k.value] = _type_name(first)
            if isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == "RETURN_TYPES":
                returns = tuple(_type_name(e) for e in item.value.elts)
        found[node.name] = (inputs, returns)
    return found


@pytest.mark.parametrize("mode", ["img2img", "inpaint", "outpaint", "upscale"])
def test_the_comfy_graph_of_an_edit_fits_comfyuis_node_definitions(pictures, mode):
    defs = _comfy_definitions()
    extra = {"inpaint": {}, "img2img": dict(mask=None), "outpaint": dict(mask=None, outpaint=(64, 0, 0, 0), width=320),
             "upscale": dict(mask=None, upscale=2.0, width=512, height=512)}[mode]
    request = keep_edit_inputs(_inpaint(pictures, mode=mode, **extra), pictures / "data")
    graph = api_prompt(request, MODEL)
    for node_id, node in graph.items():
        if node["class_type"] in ("UnetLoaderGGUF", "CLIPLoaderGGUF"):
            continue  # ComfyUI-GGUF's nodes, checked by test_comfy_export
        if node["class_type"] not in defs:
            continue  # comfy_extras' schema nodes (masks, crops, upscale models): tests/test_comfy_edit_graph.py
        required, _ = defs[node["class_type"]]
        assert set(required) <= set(node["inputs"]), (node["class_type"], required, node["inputs"])
        for name, value in node["inputs"].items():
            if isinstance(value, list):  # a link: the source's output type is the input's type
                source = graph[value[0]]["class_type"]
                out_type = defs[source][1][value[1]] if source in defs and defs[source][1] else None
                assert out_type in (None, required[name]), (node["class_type"], name, out_type)
    classes = [n["class_type"] for n in graph.values()]
    assert "LoadImage" in classes and "VAEEncode" in classes and "EmptySD3LatentImage" not in classes
    assert ("SetLatentNoiseMask" in classes) == (mode in ("inpaint", "outpaint"))
    assert len(workflow(request, MODEL)["nodes"]) == len(graph)


@pytest.mark.parametrize("steps", [4, 8, 9, 20])
@pytest.mark.parametrize("strength", [0.2, 0.3, 0.45, 0.5, 0.6, 0.75, 0.99, 1.0])
def test_ksampler_steps_and_denoise_run_our_sigmas(steps, strength):
    """KSampler with denoise d < 1 schedules ⌊steps/d⌋ steps and runs the last ``steps`` of them
    (comfy/samplers.py set_steps); that must be the tail of our schedule that strength runs."""
    from zimage_desktop.engine.edit_run import steps_run

    request = GenerationRequest(prompt="p", steps=steps, strength=strength, mode="img2img", source="s.png")
    run, denoise = ksampler_steps(request)
    comfy_total = steps if denoise > 0.9999 else int(run / denoise)
    ours = simple_sigmas(steps, 3.0)[steps - steps_run(steps, strength):]
    assert run == steps_run(steps, strength) and simple_sigmas(comfy_total, 3.0)[-run:] == ours


def test_the_mask_travels_as_the_alpha_comfyui_loadimage_reads(pictures):
    image = comfy_input_image(Image.open(pictures / "src.png"), Image.open(pictures / "mask.png"))
    alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255
    comfy_mask = 1.0 - alpha  # LoadImage: mask = 1 - alpha
    assert np.array_equal(comfy_mask > 0.5, np.asarray(Image.open(pictures / "mask.png")) > 127)


@pytest.mark.parametrize("args, words", [
    (["--init-image", "{p}/src.png", "--strength", "1.5"], "strength must be above 0"),
    (["--init-image", "{p}/gone.png"], "does not exist"),
    (["--mask", "{p}/mask.png"], "--mask needs --init-image"),
    (["--init-image", "{p}/src.png", "--mask", "{p}/empty.png"], "mask is empty"),
    (["--init-image", "{p}/src.png", "--outpaint", "0,0,0,0"], "at least one above 0"),
    (["--init-image", "{p}/src.png", "--outpaint", "1,2"], "LEFT,TOP,RIGHT,BOTTOM"),
    (["--init-image", "{p}/src.png", "--mask", "{p}/mask.png", "--outpaint", "8,0,0,0"], "not both"),
])
def test_bad_edit_input_is_one_line_and_exit_2(pictures, tiny_models, tmp_path, capsys, args, words):
    Image.new("L", (256, 256), 0).save(pictures / "empty.png")
    argv = ["--data-dir", str(tmp_path / "d"), "generate", "--prompt", "a cat", "--models", str(tiny_models.gguf),
            "--device", "cpu", "--out", str(tmp_path / "o.png")] + [a.format(p=pictures) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_upscale_cli_refuses_a_bad_scale(pictures, tiny_models, tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "d"), "upscale", str(pictures / "src.png"), "--scale", "9",
                 "--models", str(tiny_models.gguf), "--device", "cpu", "--out", str(tmp_path / "u.png")]) == 2
    assert "between 1 and 4" in capsys.readouterr().err


def test_cli_edit_writes_metadata_history_and_reruns_exactly(pictures, tiny_models, tmp_path, capsys):
    data = tmp_path / "d"
    common = ["--models", str(tiny_models.gguf), "--device", "cpu"]
    assert main(["--data-dir", str(data), "generate", "--prompt", "a door", "--init-image", str(pictures / "src.png"),
                 "--mask", str(pictures / "mask.png"), "--steps", "2", "--seed", "7", *common,
                 "--out", str(tmp_path / "a.png")]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    made = Image.open(tmp_path / "a.png")
    assert "Denoising strength: 1" in made.text["parameters"]
    saved = json.loads(made.text["zimage"])["request"]
    assert saved["mode"] == "inpaint" and "source" not in saved and len(saved["source_sha256"]) == 64
    assert main(["--data-dir", str(data), "history", "rerun", str(line["id"]), *common,
                 "--out", str(tmp_path / "b.png")]) == 0
    assert np.array_equal(np.asarray(made.convert("RGB")), np.asarray(Image.open(tmp_path / "b.png").convert("RGB")))
    # An edit of a picture from the history links to it.
    assert main(["--data-dir", str(data), "upscale", str(tmp_path / "a.png"), "--scale", "1", "--steps", "1",
                 *common, "--out", str(tmp_path / "c.png")]) == 0
    child = json.loads(capsys.readouterr().out.splitlines()[-1])["id"]
    store = HistoryStore(Paths(data).history_db)
    assert store.get(child).parent_id == line["id"]
    store.close()
