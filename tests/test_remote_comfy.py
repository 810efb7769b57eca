"""Remote engines against two real ComfyUI servers from the kit (loopback, small random weights, CPU).

Jobs run on both; previews arrive; a job made remotely equals the local engine's picture within one
grey level; cancel works for a running and a waiting job; a server's execution error is one sentence
naming it; a server killed with SIGKILL mid-job gives its job to the other, which makes the same
picture, saved once. Skipped with the reason when the kit's venv is not there (.ci/run makes it).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.engine import request as request_module
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.remote.client import ComfyClient
from zimage_desktop.remote.engine import RemoteEngine
from zimage_desktop.remote.farm import Farm, FarmEvents
from zimage_desktop.remote.http import RemoteJobFailed, ServerConfig

pytestmark = [pytest.mark.comfy, pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing())]


@pytest.fixture(autouse=True)
def small_images(monkeypatch):
    """64×64 images: the kit's VAE has the real model's size, and 256² takes a minute on a shared CPU."""
    monkeypatch.setattr(request_module, "MIN_SIDE", 64)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    python = comfy_kit.kit_python()
    assert python is not None
    root = tmp_path_factory.mktemp("comfy-kit")
    models = comfy_kit.build_weights(python, root / "models")
    with comfy_kit.kit_servers(python, {"a": models, "b": models}, root) as servers:
        yield {"models": models, "root": root, **servers}


@pytest.fixture(scope="module")
def local(kit):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan

    folder = comfy_kit.local_models(kit["models"], kit["root"] / "local")
    return Generator(folder, device="cpu", plan=reference_plan("cpu"))


def engine(kit, name: str, **kwargs) -> RemoteEngine:
    return RemoteEngine(ServerConfig(f"kit-{name}", kit[name].url, timeout_s=20), **kwargs)


def request(seed: int, steps: int = 2, prompt: str = "a red fox in snow") -> GenerationRequest:
    return GenerationRequest(prompt=prompt, width=64, height=64, steps=steps, seed=seed)


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


class Recorder:
    """FarmEvents that keep what happened (as the window and the history would see it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: list[tuple[int, str]] = []
        self.images: list[tuple[int, str, object]] = []
        self.previews: list[str] = []
        self.steps: list[str] = []
        self.requeued: list[tuple[int, str, str]] = []
        self.finished: list[tuple[int, str, bool]] = []
        self.failed: list[tuple[int, str, str]] = []

    def events(self) -> FarmEvents:
        def step(job, eng, event):
            with self.lock:
                self.steps.append(eng)
                if event.preview is not None:
                    self.previews.append(eng)

        return FarmEvents(
            started=lambda job, eng: self.started.append((job.id, eng)),
            step=step,
            image=lambda job, eng, image: self.images.append((job.id, eng, image)),
            requeued=lambda job, eng, why: self.requeued.append((job.id, eng, why)),
            finished=lambda job, eng, cancelled: self.finished.append((job.id, eng, cancelled)),
            failed=lambda job, eng, why: self.failed.append((job.id, eng, why)))


def test_server_test_reports_version_device_queue_files_and_gguf(kit):
    report = ComfyClient(ServerConfig("kit-a", kit["a"].url)).report()
    assert report.error == ""
    assert report.version == "0.12.1" and report.device == "cpu" and report.vram_total > 0
    assert report.queue == 0 and report.gguf
    assert "zimage_tiny_bf16.safetensors" in report.files["UNETLoader"]
    assert "zimage_tiny-Q8_0.gguf" in report.files["UnetLoaderGGUF"]


def test_jobs_run_on_both_servers_with_previews_and_full_metadata(kit, tmp_path):
    from zimage_desktop.config import Paths
    from zimage_desktop.history.metadata import read_png_metadata
    from zimage_desktop.history.saving import save_generated
    from zimage_desktop.history.store import HistoryStore

    paths = Paths(tmp_path / "data")
    store = HistoryStore(paths.history_db)
    rec = Recorder()
    events = rec.events()
    saved: list[Path] = []

    def save(job, eng, image):
        rec.images.append((job.id, eng, image))
        saved.append(save_generated(image, paths, store).path)

    events.image = save
    farm = Farm([engine(kit, "a"), engine(kit, "b")], events)
    try:
        assert farm.wait_ready()
        jobs = [farm.submit(request(100 + i, steps=3)) for i in range(4)]
        assert farm.join(timeout=600)
    finally:
        farm.stop()
    assert not rec.failed and not rec.requeued
    assert {eng for _, eng in rec.started} == {"kit-a", "kit-b"}  # both servers had work
    assert sorted(job_id for job_id, _, _ in rec.images) == [j.id for j in jobs]  # one image each
    assert set(rec.previews) == {"kit-a", "kit-b"}  # binary preview frames from both
    assert len(store.image_paths()) == 4
    for path in saved:
        found = read_png_metadata(path)
        assert found.request is not None and found.request.width == 64
        from PIL import Image

        with Image.open(path) as png:
            chunks = dict(png.text)
        ours = json.loads(chunks["zimage"])
        assert ours["model"]["engine"]["name"] in ("kit-a", "kit-b")
        assert ours["model"]["engine"]["url"] in (kit["a"].url, kit["b"].url)
        graph = json.loads(chunks["prompt"])
        assert graph["16"]["inputs"]["unet_name"] == "zimage_tiny_bf16.safetensors"  # what ran is what we carry
        assert graph["3"]["inputs"]["seed"] == ours["request"]["seed"]


def test_remote_picture_equals_local_within_one_grey_level(kit, local):
    req = request(4242, steps=2, prompt="庭院里的红灯笼, lanterns")
    remote = engine(kit, "a").run(req).images[0]
    here = local.run(req).images[0]
    diff = np.abs(pixels(remote.image) - pixels(here.image))
    assert diff.max() <= 1, diff.max()
    assert remote.model["engine"]["name"] == "kit-a" and remote.request == here.request


def test_cancel_running_and_waiting_jobs(kit):
    server = ServerConfig("kit-a", kit["a"].url, timeout_s=20)
    eng = RemoteEngine(server)
    long_graph = eng.graph(request(7, steps=100))
    waiting_graph = eng.graph(request(8, steps=100))
    results: dict[str, object] = {}
    flags = {"run": False, "wait": False}
    steps: list[int] = []

    def go(key, graph, on_progress=None):
        results[key] = ComfyClient(server).run(graph, on_progress=on_progress, is_cancelled=lambda: flags[key],
                                               previews=False)

    runner = threading.Thread(target=go, args=("run", long_graph, lambda v, m: steps.append(v)))
    runner.start()
    deadline = time.monotonic() + 300
    while not steps and time.monotonic() < deadline:
        time.sleep(0.1)
    assert steps, "the long job never started"
    waiter = threading.Thread(target=go, args=("wait", waiting_graph))
    waiter.start()
    client = ComfyClient(server)
    while client.queue_length() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    flags["wait"] = True
    waiter.join(timeout=60)
    assert not waiter.is_alive() and results["wait"].cancelled
    queue = client.http.get_json("/queue")
    assert len(queue["queue_pending"]) == 0  # deleted from the server's queue, not just abandoned
    flags["run"] = True
    runner.join(timeout=120)
    assert not runner.is_alive() and results["run"].cancelled
    assert max(steps) < 100  # interrupted, not finished
    history = client.http.get_json(f"/history/{results['run'].prompt_id}")
    assert history[results["run"].prompt_id]["status"]["completed"] is False
    assert client.queue_length() == 0


def test_execution_error_is_one_sentence_naming_the_server(kit):
    eng = engine(kit, "b")
    graph = eng.graph(request(9))
    graph["17"]["inputs"]["vae_name"] = "pixel_space"  # loads, then cannot decode a 16-channel latent
    with pytest.raises(RemoteJobFailed) as caught:
        ComfyClient(eng.server).run(graph, previews=False)
    text = caught.value.message
    assert text.startswith("kit-b could not run the job: ") and "\n" not in text


def test_server_killed_mid_job_the_other_makes_the_same_picture_once(kit, local):
    """It kills server b: the tests after it use server a only."""
    rec = Recorder()
    killed = threading.Event()
    events = rec.events()

    def step(job, eng, event):
        if eng == "kit-b" and not killed.is_set():
            killed.set()
            kit["b"].kill9()

    events.step = step
    farm = Farm([engine(kit, "b"), engine(kit, "a")], events, backoff_s=600)  # b first: it gets the job
    req = request(31337, steps=12)
    try:
        assert farm.wait_ready()
        job = farm.submit(req)
        assert farm.join(timeout=600)
    finally:
        farm.stop()
    assert killed.is_set() and not kit["b"].alive()
    assert rec.started == [(job.id, "kit-b"), (job.id, "kit-a")]
    assert len(rec.requeued) == 1 and rec.requeued[0][1] == "kit-b" and "kit-b" in rec.requeued[0][2]
    assert [(j, eng) for j, eng, _ in rec.images] == [(job.id, "kit-a")]  # one image, saved once
    assert not rec.failed and rec.finished == [(job.id, "kit-a", False)]
    made = rec.images[0][2]
    assert made.seed == 31337
    reference = local.run(req).images[0]
    assert np.abs(pixels(made.image) - pixels(reference.image)).max() <= 1


def test_cli_generate_on_a_named_engine_and_info_engines(kit, tmp_path, capsys):
    from zimage_desktop.cli import main
    from zimage_desktop.config import Paths
    from zimage_desktop.remote import engines

    data = tmp_path / "data"
    engines.save(Paths(data), engines.EngineList((engines.ServerEntry("studio", kit["a"].url),), ("studio", "local")))
    assert main(["info", "--engines", "--json", "--data-dir", str(data)]) == 0
    row = json.loads(capsys.readouterr().out)["engines"][0]
    assert row["name"] == "studio" and row["version"] == "0.12.1" and row["gguf"] is True
    assert row["job_files"]["transformer"] == "zimage_tiny_bf16.safetensors"
    out = tmp_path / "fox.png"
    code = main(["generate", "--prompt", "a fox", "--width", "64", "--height", "64", "--steps", "2", "--seed", "5",
                 "--engine", "studio", "--out", str(out), "--data-dir", str(data)])
    assert code == 0, capsys.readouterr().err
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["engine"]["name"] == "studio" and line["seed"] == 5 and out.exists()
    assert main(["history", "list", "--json", "--data-dir", str(data)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["seed"] for r in rows] == [5]


def test_window_sends_a_job_to_the_first_engine_and_saves_what_the_server_made(kit, tiny_models, tmp_path, qtbot):
    """The window with a server first in Settings ▸ Engines: the job runs there, the queue says where,
    and the history gets the image with the server's name."""
    import shutil

    from zimage_desktop.app import run_app
    from zimage_desktop.config import Paths
    from zimage_desktop.remote import engines
    from zimage_desktop.ui.worker import ImageDone, JobFinished, JobStarted

    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(tiny_models.comfy, data / "models")
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    engines.save(Paths(data), engines.EngineList((engines.ServerEntry("kit-a", kit["a"].url),), ("kit-a", "local")))
    window = run_app(str(data), exec_loop=False)
    try:
        events: list[object] = []
        for worker in window.remote_engines.workers:
            worker.worker_event.connect(events.append)
        qtbot.waitUntil(lambda: "kit-a#1" in window.controller._waiting, timeout=30_000)
        window.controller.submit(request(2024, steps=2))
        qtbot.waitUntil(lambda: any(isinstance(e, JobFinished) for e in events), timeout=300_000)
        started = next(e for e in events if isinstance(e, JobStarted))
        assert started.engine == "kit-a"
        assert "[kit-a]" in window.queue.current_label.toolTip()
        done = next(e for e in events if isinstance(e, ImageDone))
        from PIL import Image

        with Image.open(done.path) as png:
            assert json.loads(png.text["zimage"])["model"]["engine"]["name"] == "kit-a"
    finally:
        window.close()
