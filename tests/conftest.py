import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.fixtures import TinyModels, build_tiny_models  # noqa: E402


def _wait_in_event_loop(ms: int) -> None:
    """QTest.qWait for these tests: PySide6's keeps the GIL while it waits, so the app's worker
    thread (Python + torch) barely ran while a test waited for it — a 2-step tiny generation took
    30 s instead of 0.2 s. The app itself runs QApplication.exec(), which lets it run; waiting in a
    QEventLoop does the same. Deferred deletions are delivered as qWait does."""
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _release_the_gil_while_waiting() -> None:
    from PySide6.QtTest import QTest

    QTest.qWait = staticmethod(_wait_in_event_loop)  # pytest-qt's waitUntil and the tests' own waits


_release_the_gil_while_waiting()


@pytest.fixture(autouse=True)
def _no_app_log_left_behind():
    """A window test's ``run_app`` installs the app's rotating log (app_log.py) on the root logger,
    in that test's temporary folder, with its exception hooks: removed after each test, so no later
    test writes into (or holds open) a folder pytest may already have removed."""
    import logging
    import sys
    import threading

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    yield
    for handler in root.handlers[:]:  # file handlers only: pytest's own capture handlers come and go
        if handler not in before and isinstance(handler, logging.FileHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    if (sys.excepthook, threading.excepthook) != hooks:
        sys.excepthook, threading.excepthook = hooks
        logging.captureWarnings(False)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> TinyModels:
    """Tiny random Z-Image models in all three layouts (read-only: copy before changing)."""
    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture
def comfy_copy(tiny_models, tmp_path) -> Path:
    """A private copy of the ComfyUI-style folder that a test may damage."""
    target = tmp_path / "models"
    shutil.copytree(tiny_models.comfy, target)
    return target


@pytest.fixture(scope="session")
def generators(tiny_models):
    """One loaded Generator per layout, shared across tests (loading is what the app does once)."""
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan

    plan = reference_plan("cpu")
    return {
        "diffusers": Generator(tiny_models.diffusers, device="cpu", plan=plan),
        "comfy": Generator(tiny_models.comfy, device="cpu", plan=plan),
        "gguf": Generator(tiny_models.gguf, device="cpu", plan=plan),
    }


@pytest.fixture
def data_with_models(tmp_path, tiny_models) -> Path:
    """A data folder whose models folder holds the tiny GGUF kit, settings for the CPU in English."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(tiny_models.gguf, data / "models")
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    return data


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("ZIMAGE_DESKTOP_DATA", str(path))
    return path


@pytest.fixture
def hub():
    """A loopback server speaking the Hugging Face / ModelScope download protocols."""
    from tests.fixtures import HubServer

    with HubServer() as server:
        yield server


@pytest.fixture
def catalog(hub, tiny_models):
    """A catalog of the tiny ComfyUI-style folder's files, served by ``hub``."""
    from tests.fixtures import tiny_catalog_data
    from zimage_desktop.models.catalog import parse_catalog

    return parse_catalog(tiny_catalog_data(tiny_models.comfy, hub))


@pytest.fixture
def window(qtbot, data_with_models):
    """The main window on the tiny models, with the worker's model loaded; ``win.events`` collects the
    worker's events. (Test modules that need another window define their own ``window``.)"""
    from zimage_desktop.app import run_app

    win = run_app(str(data_with_models), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    win.events = events
    qtbot.waitUntil(lambda: any(e.kind in ("loaded", "failed") for e in events), timeout=30000)
    assert [e.kind for e in events if e.kind in ("loaded", "failed")] == ["loaded"], [e.message for e in events]
    yield win
    win.close()
