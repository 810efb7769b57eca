"""A broken ComfyUI server (a loopback stand-in: garbage, huge, slow, wrong answers) gives one
sentence naming it, never a traceback or a hang; a job it cannot run goes to the next engine (here
this computer, the tiny kit) and makes the local picture; tokens go only where they may."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import BadInputError
from zimage_desktop.remote.client import ComfyClient
from zimage_desktop.remote.engine import RemoteEngine, choose_files
from zimage_desktop.remote.farm import Farm, FarmEvents, LocalEngine
from zimage_desktop.remote.http import BadAnswer, RemoteError, RemoteJobFailed, ServerConfig, ServerUnavailable

STATS = {"system": {"comfyui_version": "0.12.1"}, "devices": [{"name": "cuda:0 RTX", "vram_total": 8, "vram_free": 4}]}


class Broken(BaseHTTPRequestHandler):
    mode = "garbage"
    seen_headers: list[dict[str, str]] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.seen_headers.append(dict(self.headers))
        mode = self.mode
        if mode == "slow":
            self.server.release.wait(10)  # type: ignore[attr-defined]
            return
        if mode == "garbage":
            self._send(200, b"<html>not comfy</html>")
        elif mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()  # no Content-Length: the size shows only while reading
            chunk = b" " * (1 << 20)
            try:
                for _ in range(40):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif mode == "error500":
            self._send(500, b"{}")
        elif mode == "wrongshape":
            self._send(200, json.dumps({"system": "x", "exec_info": {"queue_remaining": "many"}}).encode())
        elif mode == "comfy":  # answers like ComfyUI, but has no WebSocket
            body = STATS if self.path.startswith("/system_stats") else {"exec_info": {"queue_remaining": 0}}
            if self.path.startswith("/object_info/UNETLoader"):
                body = {"UNETLoader": {"input": {"required": {"unet_name": [["z_image_turbo_bf16.safetensors"]]}}}}
            elif self.path.startswith("/object_info/CLIPLoader"):
                body = {"CLIPLoader": {"input": {"required": {"clip_name": [["qwen_3_4b.safetensors"]]}}}}
            elif self.path.startswith("/object_info/VAELoader"):
                body = {"VAELoader": {"input": {"required": {"vae_name": [["ae.safetensors"]]}}}}
            elif self.path.startswith("/object_info"):
                body = {}
            self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except ConnectionError:  # the client gave up first (its timeout): nothing to report, no banner
            pass


@pytest.fixture
def broken():
    handler = type("Handler", (Broken,), {"seen_headers": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def config(server, **kwargs) -> ServerConfig:
    return ServerConfig("studio-1", f"http://127.0.0.1:{server.server_address[1]}", **kwargs)


def one_sentence(exc: RemoteError) -> str:
    text = exc.message
    assert "studio-1" in text and "\n" not in text and "Traceback" not in text and len(text) < 400
    return text


@pytest.mark.parametrize("mode, kind, words", [
    ("garbage", BadAnswer, "not ComfyUI's JSON"),
    ("huge", BadAnswer, "at most"),
    ("slow", ServerUnavailable, "did not answer within"),
    ("error500", BadAnswer, "HTTP 500"),
    ("wrongshape", BadAnswer, "did not say how long its queue is"),
])
def test_broken_answers_each_give_one_sentence(broken, mode, kind, words):
    server, handler = broken
    handler.mode = mode
    client = ComfyClient(config(server, timeout_s=1.0))
    with pytest.raises(kind) as caught:
        client.queue_length()
    assert words in one_sentence(caught.value)
    report = client.report()  # "Test" never raises: the sentence is in the report
    assert report.error and "studio-1" in report.error


def test_a_server_without_websocket_gives_one_sentence(broken):
    server, handler = broken
    handler.mode = "comfy"
    eng = RemoteEngine(config(server, timeout_s=2.0))
    with pytest.raises(ServerUnavailable) as caught:
        eng.run(GenerationRequest(prompt="x", width=256, height=256, steps=1, seed=1))
    one_sentence(caught.value)


def test_job_a_broken_server_cannot_run_is_made_locally_with_the_same_seed(broken, generators):
    server, handler = broken
    handler.mode = "comfy"
    images, requeued, failed, finished = [], [], [], []
    events = FarmEvents(image=lambda job, eng, image: images.append((eng, image)),
                        requeued=lambda job, eng, why: requeued.append((eng, why)),
                        failed=lambda job, eng, why: failed.append(why),
                        finished=lambda job, eng, cancelled: finished.append((eng, cancelled)))
    remote = RemoteEngine(config(server, timeout_s=2.0))
    here = LocalEngine(lambda: generators["comfy"], name="this computer")
    req = GenerationRequest(prompt="a lighthouse", width=256, height=256, steps=2, seed=77, count=2)
    farm = Farm([remote, here], events, backoff_s=60)
    try:
        assert farm.wait_ready()
        farm.submit(req)
        assert farm.join(timeout=120)
    finally:
        farm.stop()
    assert not failed and [eng for eng, _ in requeued] == ["studio-1"]
    assert sorted(image.seed for _, image in images) == [77, 78]  # each seed once
    assert {eng for eng, _ in images} == {"this computer"} and finished == [("this computer", False)]
    reference = generators["comfy"].run(req.for_seed(77)).images[0].image
    made = next(image for _, image in images if image.seed == 77).image
    assert np.array_equal(np.asarray(made), np.asarray(reference))


def test_tokens_go_only_over_https_loopback_or_allowed_hosts(broken, monkeypatch):
    with pytest.raises(BadInputError, match="only over HTTPS"):
        ServerConfig("lan", "http://192.168.1.20:8188", token="s3cret")
    ServerConfig("lan", "http://192.168.1.20:8188", token="s3cret", insecure_hosts=("192.168.1.20",))
    ServerConfig("cloud", "https://gpu.example.com/comfy", token="s3cret")
    ServerConfig("lan", "http://192.168.1.20:8188")  # no token: plain HTTP is fine
    with pytest.raises(BadInputError):
        ServerConfig("bad", "ftp://example.com")
    server, handler = broken
    handler.mode = "comfy"
    monkeypatch.setenv("HF_TOKEN", "hf_never_to_comfyui")
    ComfyClient(config(server, token="s3cret", header="X-Proxy-Key")).report()
    ComfyClient(config(server, token="t0k")).report()
    sent = handler.seen_headers
    assert any(h.get("X-Proxy-Key") == "s3cret" for h in sent)
    assert any(h.get("Authorization") == "Bearer t0k" for h in sent)
    assert not any("hf_never_to_comfyui" in value for h in sent for value in h.values())


def test_model_files_are_chosen_from_what_the_server_offers():
    offered = {"UNETLoader": ("sdxl.safetensors", "z_image_turbo_bf16.safetensors"),
               "CLIPLoader": ("t5.safetensors", "qwen_3_4b.safetensors"), "VAELoader": ("ae.safetensors",)}
    assert choose_files("s", offered, {}) == {"transformer": "z_image_turbo_bf16.safetensors",
                                              "text_encoder": "qwen_3_4b.safetensors", "vae": "ae.safetensors"}
    with pytest.raises(RemoteJobFailed, match="s has no transformer file"):
        choose_files("s", {"UNETLoader": ("sdxl.safetensors",)}, {})
    gguf_only = dict(offered, UNETLoader=(), UnetLoaderGGUF=("z_image_turbo-Q4_K_M.gguf",))
    assert choose_files("s", gguf_only, {})["transformer"].endswith(".gguf")


def test_cli_unknown_engine_and_dead_server_are_one_line(tmp_path, capsys):
    from zimage_desktop.cli import main
    from zimage_desktop.devkit.comfy_kit import free_port

    data = str(tmp_path / "data")
    assert main(["generate", "--prompt", "x", "--engine", "nope", "--data-dir", data]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no engine named nope" in err
    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["generate", "--prompt", "x", "--width", "256", "--height", "256", "--engine", dead,
                 "--data-dir", data]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be reached" in err


def test_info_engines_reports_each_server_in_one_line(broken, tmp_path, capsys):
    from zimage_desktop.cli import main
    from zimage_desktop.config import Paths
    from zimage_desktop.remote import engines

    server, handler = broken
    handler.mode = "comfy"
    url = f"http://127.0.0.1:{server.server_address[1]}"
    data = tmp_path / "data"
    engines.save(Paths(data), engines.EngineList((engines.ServerEntry("gpu-box", url),
                                                  engines.ServerEntry("gone", "http://127.0.0.1:9")), ()),
                 tokens={"gpu-box": "abc"})
    assert main(["info", "--engines", "--data-dir", str(data)]) == 1  # one server failed
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("local: this computer")
    assert out[1].startswith(f"gpu-box  {url}: ComfyUI 0.12.1, cuda:0 RTX")
    assert "transformer z_image_turbo_bf16.safetensors" in out[2]
    assert any(line.startswith("gone  http://127.0.0.1:9: gone cannot be reached") for line in out)
    stored = (data / "engines.json").read_text()
    if engines.token_storage() == "plain":
        assert '"token": "abc"' in stored and any("plain text" in line for line in out)
    else:
        assert "abc" not in stored
