"""Issue 27: the windowed app keeps a rotating log in the data folder, reachable from Help."""

import logging
import sys
import threading
from logging.handlers import RotatingFileHandler

import pytest

from zimage_desktop.app_log import BACKUPS, MAX_BYTES, install_app_log
from zimage_desktop.config import Paths


@pytest.fixture
def app_log(tmp_path):
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    path = install_app_log(Paths.resolve(tmp_path).logs)
    yield path
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks
    logging.captureWarnings(False)


def test_warnings_and_unexpected_errors_reach_the_log_file(app_log, tmp_path):
    assert app_log == tmp_path / "logs" / "zimage-desktop.log"
    logging.getLogger("zimage_desktop.engine.generator").warning("non-finite latents at step %d", 3)
    logging.getLogger("zimage_desktop.engine.generator").info("loaded in 1 s")  # not a warning: stays out

    def crash():
        raise ValueError("a bug in a worker thread")

    thread = threading.Thread(target=crash, name="crasher")
    thread.start()
    thread.join()
    from zimage_desktop.ui.worker import failure

    try:
        raise KeyError("unexpected in a job")
    except KeyError as exc:
        failed = failure(exc, 7)
    text = app_log.read_text(encoding="utf-8")
    assert "non-finite latents at step 3" in text and "loaded in 1 s" not in text
    assert "unexpected error in thread crasher" in text and "ValueError: a bug in a worker thread" in text
    assert "unexpected error in job 7" in text and "Traceback" in text and failed.details


def test_the_log_rotates_and_is_installed_once(app_log):
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]
    assert install_app_log(app_log.parent) == app_log
    assert [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)] == handlers
    handler = handlers[-1]
    assert (handler.maxBytes, handler.backupCount) == (MAX_BYTES, BACKUPS)
    for _ in range(MAX_BYTES // 500 + 10):
        logging.getLogger("zimage_desktop").warning("x" * 500)
    assert (app_log.parent / "zimage-desktop.log.1").exists()


def test_help_menu_opens_the_log_folder(qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from zimage_desktop.app import run_app

    opened = []
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_app chains its own: restored after
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window = run_app(str(tmp_path / "data"), exec_loop=False)
    qtbot.addWidget(window)
    try:
        action = window.findChild(type(window.menus.open_log), "openLogAction")
        assert action is not None and action in window.menus.help.actions()
        action.trigger()
        assert opened == [str(tmp_path / "data" / "logs")]
    finally:
        window.worker.stop(2000)
        window.close()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, RotatingFileHandler)]:
            root.removeHandler(handler)
            handler.close()
