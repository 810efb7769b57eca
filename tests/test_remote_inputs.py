"""What an edit, LoRA or control job sends to a ComfyUI server besides its graph (no kit needed):
the images its LoadImage nodes read, named by content; the LoRA/ControlNet names checked against
the server's lists; a token over plain HTTP said in one sentence in Settings ▸ Engines and
``info --engines``, and allowed only for a LAN address. tests/test_remote_jobs.py runs the jobs on
real ComfyUI servers."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.test_remote_faults import broken  # noqa: F401  (the loopback stand-in fixture)
from zimage_desktop.config import Paths
from zimage_desktop.engine.editing import feathered_mask
from zimage_desktop.engine.request import ControlRef, GenerationRequest, LoraRef
from zimage_desktop.history.comfy_export import api_prompt
from zimage_desktop.remote import engines
from zimage_desktop.remote.engine import RemoteEngine
from zimage_desktop.remote.farm import Farm, FarmEvents
from zimage_desktop.remote.http import ServerConfig, is_lan
from zimage_desktop.remote.job_inputs import MissingOnServer, check_files, prepare_inputs

SIZE = 256


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch):
    monkeypatch.setattr(engines, "_keyring", lambda: None)


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8), "RGB").save(tmp_path / "src.png")
    Image.fromarray(rng.integers(0, 256, (200, 300, 3), dtype=np.uint8), "RGB").save(tmp_path / "wide.png")
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[80:160, 96:176] = 255
    Image.fromarray(mask, "L").save(tmp_path / "mask.png")
    return tmp_path


def decoded(upload) -> Image.Image:
    assert upload.name == hashlib.sha256(upload.png).hexdigest() + ".png"  # named by content
    return Image.open(io.BytesIO(upload.png))


def test_inpaint_uploads_the_mask_as_alpha_and_keeps_the_source_outside_it(pictures):
    req = GenerationRequest(prompt="p", width=SIZE, height=SIZE, seed=1, mode="inpaint", strength=0.6, mask_blur=6,
                            source=str(pictures / "src.png"), mask=str(pictures / "mask.png"))
    inputs = prepare_inputs(req)
    (upload,) = inputs.uploads
    image = decoded(upload)
    source = np.asarray(Image.open(pictures / "src.png"))
    reach = np.asarray(feathered_mask(Image.open(pictures / "mask.png"), 6)) > 0
    hard = np.asarray(Image.open(pictures / "mask.png")) > 0
    assert image.mode == "RGBA" and np.array_equal(np.asarray(image)[..., :3], source)
    # ComfyUI's LoadImage: MASK = 1 − alpha; the painted mask, as the PNG's own graph reads it (the graph
    # grows and feathers it itself: history/comfy_edit_graph.py)
    assert np.array_equal(np.asarray(image.getchannel("A")) == 0, hard)
    graph = api_prompt(req, {"edit_input": upload.name})
    assert graph["10"]["inputs"]["image"] == upload.name and graph["13"]["class_type"] == "SetLatentNoiseMask"
    made = Image.fromarray(np.full((SIZE, SIZE, 3), 7, np.uint8))
    finished = np.asarray(inputs.finish(made))
    assert np.array_equal(finished[~reach], source[~reach])  # outside the mask: the source's own pixels
    assert (finished[reach] == 7).all()  # inside: the server's picture as its graph pasted it


def test_uploads_share_a_name_only_when_their_bytes_are_the_same(pictures):
    """Names are the content's sha256: two edits whose inputs differ never overwrite each other's file
    on a server; two that upload the same bytes (the same source, outpainted twice) share one file."""
    common = dict(prompt="p", seed=1, strength=0.6, source=str(pictures / "src.png"))
    outpaints = {prepare_inputs(GenerationRequest(width=SIZE + 64 * i, height=SIZE, mode="outpaint",
                                                  outpaint=(64 * i, 0, 0, 0), **common)).uploads[0] for i in (1, 2)}
    assert len({u.name for u in outpaints}) == 1 and len({u.png for u in outpaints}) == 1
    other_mask = np.zeros((SIZE, SIZE), np.uint8)
    other_mask[0:32, 0:32] = 255
    Image.fromarray(other_mask, "L").save(pictures / "mask2.png")
    uploads = [prepare_inputs(GenerationRequest(width=SIZE, height=SIZE, mode="inpaint", mask=str(pictures / m),
                                                **common)).uploads[0] for m in ("mask.png", "mask2.png")]
    uploads.append(prepare_inputs(GenerationRequest(width=SIZE + 64, height=SIZE, mode="img2img",
                                                    **common)).uploads[0])
    uploads.append(next(iter(outpaints)))
    assert len({u.png for u in uploads}) == 4 and len({u.name for u in uploads}) == 4


def test_img2img_uploads_the_source_at_the_output_size(pictures):
    req = GenerationRequest(prompt="p", width=SIZE, height=SIZE, seed=1, mode="img2img", strength=0.5,
                            source=str(pictures / "wide.png"))
    image = decoded(prepare_inputs(req).uploads[0])
    assert image.mode == "RGB" and image.size == (SIZE, SIZE)


def test_control_image_is_uploaded_under_the_name_the_history_keeps_it_by(pictures, tmp_path):
    from zimage_desktop.history.control_inputs import store_image

    req = GenerationRequest(prompt="p", width=SIZE, height=SIZE, seed=1,
                            controls=(ControlRef("canny", str(pictures / "src.png"), strength=0.8),))
    inputs = prepare_inputs(req)
    (upload,) = inputs.uploads
    assert decoded(upload).size == (SIZE, SIZE)
    sha, _ = store_image(inputs.control_images[0], Paths(tmp_path / "data"))
    assert upload.name == f"{sha}.png" and inputs.model["controls"] == [{"prepared": upload.name}]


def test_lora_and_controlnet_names_are_found_on_the_server_or_named_in_one_sentence():
    req = GenerationRequest(prompt="p <lora:ink:0.5>", width=SIZE, height=SIZE, seed=1, loras=(LoraRef("Fox", 1.0),),
                            controls=(ControlRef("canny", "c.png"),))
    offered = {"lora": ("styles/fox.safetensors", "ink.safetensors"),
               "model_patch": ("Z-Image-Turbo-Fun-Controlnet-Union-2.0.safetensors",)}
    found = check_files("gpu", req, offered)
    assert found["server_loras"] == {"Fox.safetensors": "styles/fox.safetensors", "ink.safetensors": "ink.safetensors"}
    assert found["controls"] == [{"name": "Z-Image-Turbo-Fun-Controlnet-Union-2.0.safetensors"}]
    with pytest.raises(MissingOnServer) as caught:
        check_files("gpu", req, {"lora": ("ink.safetensors",), "model_patch": offered["model_patch"]})
    assert caught.value.message == "gpu does not have the LoRA Fox.safetensors (in its models/loras folder)."
    with pytest.raises(MissingOnServer, match="gpu does not have the Z-Image ControlNet Union file"):
        check_files("gpu", req, {"lora": offered["lora"], "model_patch": ("sdxl_canny.safetensors",)})


def test_a_lora_no_engine_has_fails_once_in_one_sentence(broken):  # noqa: F811
    server, handler = broken
    handler.mode = "comfy"  # answers /object_info like ComfyUI, with no LoRA files
    url = f"http://127.0.0.1:{server.server_address[1]}"
    failed, requeued, started = [], [], []
    events = FarmEvents(started=lambda job, eng: started.append(eng), failed=lambda job, eng, why: failed.append(why),
                        requeued=lambda job, eng, why: requeued.append(eng))
    farm = Farm([RemoteEngine(ServerConfig(n, url, timeout_s=2)) for n in ("gpu-1", "gpu-2")], events, backoff_s=60)
    try:
        assert farm.wait_ready()
        farm.submit(GenerationRequest(prompt="x", width=SIZE, height=SIZE, seed=3, loras=(LoraRef("rare", 1.0),)))
        assert farm.join(timeout=30)
    finally:
        farm.stop()
    assert started == ["gpu-1", "gpu-2"] and requeued == ["gpu-1"]  # tried on the other, no pause, then given up
    assert failed == ["gpu-2 does not have the LoRA rare.safetensors (in its models/loras folder)."]


@pytest.mark.parametrize("host, lan", [("192.168.1.20", True), ("10.0.0.7", True), ("render-box", True),
                                       ("gpu.local", True), ("100.101.102.103", True), ("fe80::1", True),
                                       ("127.0.0.1", True), ("203.0.113.5", False), ("gpu.example.com", False)])
def test_lan_addresses(host, lan):
    assert is_lan(host) == lan


def test_a_public_http_host_is_never_allowed_a_token_even_when_listed():
    with pytest.raises(Exception, match="outside your network: use https://"):
        ServerConfig("cloud", "http://203.0.113.5:8188", token="t", insecure_hosts=("203.0.113.5",))
    assert ServerConfig("lan", "http://10.0.0.7:8188", token="t", insecure_hosts=("10.0.0.7",)).token_allowed


def test_engines_page_says_why_a_server_with_a_token_over_http_is_not_used_and_lets_a_lan_host_be_allowed(
        qtbot, tmp_path):
    from zimage_desktop.ui.engines_page import EnginesPage

    paths = Paths(tmp_path / "data")
    servers = (engines.ServerEntry("box", "http://192.168.1.20:8188"), engines.ServerEntry("cloud", "http://203.0.113.5"))
    engines.save(paths, engines.EngineList(servers, ("box", "cloud", "local")), {"box": "t1", "cloud": "t2"})
    page = EnginesPage(paths)
    qtbot.addWidget(page)
    page.show()
    page.list.setCurrentRow(0)
    assert page.token_note.isVisible()
    assert page.token_note.text() == ("The access token for box is sent only over HTTPS, to this computer, or to a "
                                      "host you allowed; 192.168.1.20 is none of these.")
    assert "not used" in page.list.item(0).text() and page.insecure.isEnabled()
    page.insecure.setChecked(True)  # the user allows this LAN host
    assert not page.token_note.isVisible() and "not used" not in page.list.item(0).text()
    assert page.save()
    assert engines.load(paths).server("box").insecure_hosts == ("192.168.1.20",)
    page.list.setCurrentRow(1)
    assert "outside your network" in page.token_note.text() and not page.insecure.isEnabled()


def test_info_engines_says_it_for_each_such_server(tmp_path, capsys):
    from zimage_desktop.cli import main

    paths = Paths(tmp_path / "data")
    engines.save(paths, engines.EngineList((engines.ServerEntry("box", "http://192.168.1.20:8188"),), ("box", "local")),
                 {"box": "t1"})
    assert main(["info", "--engines", "--data-dir", str(paths.data)]) == 1
    out = capsys.readouterr().out
    assert "box  http://192.168.1.20:8188: The access token for box is sent only over HTTPS" in out
    assert main(["info", "--engines", "--json", "--data-dir", str(paths.data)]) == 1
    row = json.loads(capsys.readouterr().out)["engines"][0]
    assert "192.168.1.20 is none of these" in row["error"]
