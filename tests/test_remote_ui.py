"""Settings ▸ Engines and the queue's side of remote engines (no kit needed: a loopback stand-in
answers like ComfyUI where the test needs answers)."""

from __future__ import annotations

import json
import threading

import pytest

from tests.test_remote_faults import broken  # noqa: F401  (the loopback stand-in fixture)
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.remote import engines
from zimage_desktop.remote.engine import RemoteEngine
from zimage_desktop.remote.http import ServerConfig
from zimage_desktop.ui.controller import LOCAL_ENGINE, GenerationController


def test_engines_page_adds_orders_and_saves_servers_with_their_tokens(qtbot, tmp_path):
    from zimage_desktop.ui.settings_dialog import SettingsDialog
    from zimage_desktop.config import Settings

    paths = Paths(tmp_path / "data")
    dialog = SettingsDialog(paths, Settings())
    qtbot.addWidget(dialog)
    page = dialog.engines
    assert [page.list.item(i).text() for i in range(page.list.count())] == ["This computer"]
    page.add.click()
    page.name.setText("render-box")
    page.url.setText("http://192.168.1.20:8188")
    page.name.editingFinished.emit()
    page.token.setText("s3cret")
    page.token.textEdited.emit("s3cret")
    page.insecure.setChecked(True)
    page.up.click()  # the server first: jobs go to it before this computer
    assert page.save()
    stored = engines.load(paths)
    assert stored.ordered() == ["render-box", "local"]
    server = stored.server("render-box")
    assert server is not None and server.url == "http://192.168.1.20:8188" and server.has_token
    assert server.insecure_hosts == ("192.168.1.20",)
    config = engines.server_config(server)
    assert config.token == "s3cret" and config.token_allowed
    text = (paths.data / "engines.json").read_text()
    # no keyring on this machine (the fixture below): the page says so, and the file holds it
    assert "plain text" in page.storage.text() and json.loads(text)["servers"][0]["token"] == "s3cret"


def test_test_button_shows_version_device_queue_and_files(qtbot, tmp_path, broken):  # noqa: F811
    from zimage_desktop.ui.engines_page import EnginesPage

    server, handler = broken
    handler.mode = "comfy"
    paths = Paths(tmp_path / "data")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    engines.save(paths, engines.EngineList((engines.ServerEntry("gpu", url),), ("local", "gpu")))
    page = EnginesPage(paths)
    qtbot.addWidget(page)
    page.list.setCurrentRow(1)
    page.test.click()
    qtbot.waitUntil(lambda: "ComfyUI 0.12.1" in page.result.text(), timeout=10_000)
    assert "cuda:0 RTX" in page.result.text() and "queue 0" in page.result.text()
    assert "z_image_turbo_bf16.safetensors" in page.result.text()


def test_jobs_go_to_the_first_free_engine_in_the_users_order():
    controller = GenerationController()
    controller.set_engine_order({"gpu": 0, LOCAL_ENGINE: 1})
    got: list[str] = []

    def serve(name: str) -> None:
        taken = controller.next_job_for(name)
        if taken is not None:
            got.append(name)

    waiter = threading.Thread(target=serve, args=("gpu",))
    waiter.start()
    import time

    while "gpu" not in controller._waiting:
        time.sleep(0.01)
    controller.submit(GenerationRequest(prompt="x", width=256, height=256, seed=1))
    waiter.join(timeout=5)
    assert got == ["gpu"]
    # the server is busy now: the next job goes to this computer
    controller.submit(GenerationRequest(prompt="y", width=256, height=256, seed=2))
    job = controller.next_work()
    assert job is not None and getattr(job, "request").prompt == "y"
    controller.stop()


def test_a_job_a_server_cannot_finish_goes_back_to_the_queue_with_its_seeds(qtbot, tmp_path, broken):  # noqa: F811
    from zimage_desktop.ui.remote_worker import RemoteWorker
    from zimage_desktop.ui.worker import Failed

    server, handler = broken
    handler.mode = "comfy"  # answers, but has no WebSocket: the job cannot run there
    controller = GenerationController()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    worker = RemoteWorker(Paths(tmp_path / "data"), RemoteEngine(ServerConfig("gpu", url, timeout_s=2)), controller,
                          "gpu#1")
    controller.set_engine_order({"gpu#1": 0})
    events: list[object] = []
    worker.worker_event.connect(events.append)
    request = GenerationRequest(prompt="x", width=256, height=256, seed=500, count=3)
    controller.submit(request)
    worker.start()
    qtbot.waitUntil(lambda: any(isinstance(e, Failed) for e in events), timeout=20_000)
    worker.retire()
    controller.set_engine_order({LOCAL_ENGINE: 0})
    assert worker.wait(20_000)
    failed = next(e for e in events if isinstance(e, Failed))
    assert "gpu" in failed.message and "goes back to the queue" in failed.message
    queued = controller.queued()
    assert len(queued) == 1 and queued[0].request.seeds == [500, 501, 502]
    controller.stop()


@pytest.fixture(autouse=True)
def _no_keyring_surprises(monkeypatch):
    """The tests read what was stored: a keyring of the machine running them must not get tokens."""
    monkeypatch.setattr(engines, "_keyring", lambda: None)
