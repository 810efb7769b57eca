"""First run with no models (issue 15): the window offers to get them, says what is missing,
the model manager shows totals and closes, and offline is told at once with a way to retry."""

import json
import shutil
import socket
import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from zimage_desktop.app import run_app
from zimage_desktop.models.readiness import check_models


def closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_window(qtbot, data):
    data.mkdir(parents=True, exist_ok=True)
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: getattr(win, "_model_dialog", None) is not None and win._model_dialog.isVisible(),
                    timeout=20000)
    return win


def test_readiness_names_each_missing_part(tmp_path, comfy_copy):
    empty = check_models(tmp_path / "nothing-here")
    assert empty.missing == ("transformer", "text_encoder", "vae", "configs") and not empty.usable
    assert check_models(comfy_copy).usable
    shutil.rmtree(comfy_copy / "vae")
    assert check_models(comfy_copy).missing == ("vae",)
    (comfy_copy / "vae").mkdir()
    (comfy_copy / "vae" / "broken.safetensors").write_bytes(b"not a safetensors file")
    broken = check_models(comfy_copy)
    assert broken.missing == () and broken.problem and not broken.usable
    from zimage_desktop.messages import render

    assert render(broken.problem, "zh_CN") != broken.problem  # the loader's reason, said in Chinese in a Chinese UI


def test_empty_models_folder_makes_the_main_button_get_models(qtbot, tmp_path, tiny_models):
    win = fresh_window(qtbot, tmp_path / "data")
    dialog = win._model_dialog
    assert win.generate_button.text().startswith("Get models")
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)  # the worker probes the hardware
    totals = dialog.totals.text()
    assert "GB to download" in totals and "free on its drive" in totals
    assert not totals.startswith("Selected: 0.0 GB")  # the recommendation is selected and counted

    dialog.close_button.click()
    assert not dialog.isVisible()
    win.prompt.setPlainText("a cat")
    win.generate()  # Ctrl+Enter: nothing is queued, the status says what to get
    status = win.status.text()
    for part in ("transformer", "text encoder", "VAE", "configuration files"):
        assert part in status
    assert "does not exist" not in status and win.controller.queued() == ()
    win.status.clear()
    win.poster.generate_requested.emit(win.requests().new("poster", width=1024, height=1024))  # the poster tab too
    assert "transformer" in win.status.text() and win.controller.queued() == ()
    win.generate_button.click()
    assert dialog.isVisible()

    models = tmp_path / "models-elsewhere"
    shutil.copytree(tiny_models.gguf, models)
    win.store.update(models_dir=str(models))  # the settings dialog's OK: no restart needed
    assert win.generate_button.text().startswith("Generate")
    win.close()


def test_model_manager_totals_follow_the_selection(qtbot, tmp_path):
    win = fresh_window(qtbot, tmp_path / "data")
    dialog = win._model_dialog
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    select_only(dialog)
    assert dialog.totals.text().startswith("Selected: 0.0 GB")
    select_only(dialog, "vae")
    assert dialog.totals.text().startswith("Selected: 0.2 GB")
    win.close()


def select_only(dialog, *ids):
    for item in (dialog.table.item(r, 0) for r in range(dialog.table.rowCount())):
        wanted = item.data(Qt.ItemDataRole.UserRole) in ids
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
    assert sorted(dialog.selected_components()) == sorted(ids)


def test_offline_download_says_so_within_seconds_and_offers_retry(qtbot, tmp_path, monkeypatch):
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", dead)
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", dead)
    win = fresh_window(qtbot, tmp_path / "data")
    dialog = win._model_dialog
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    select_only(dialog, "vae")  # small: the disk space check passes on any machine
    started = time.monotonic()
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible(), timeout=10000)
    assert time.monotonic() - started < 10
    assert "No download source can be reached" in dialog.status.text()
    assert "refused" in dialog.status.toolTip()
    assert dialog.download_thread is None and dialog.download_button.isEnabled()
    models = win.store.models_path()
    assert not models.exists() or not list(models.rglob("*.part"))

    # Retry tries what the user chose again, not the whole recommended set: that would first need the
    # whole set's free disk space, and end with "not enough disk space" on a fuller disk (CI saw it as a
    # retry that never offered Retry again)
    assert dialog.selected_components() == ["vae"]
    dialog.retry_button.click()  # the same check again, still one message
    assert not dialog.retry_button.isVisible()
    started = time.monotonic()
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible(), timeout=10000)
    assert time.monotonic() - started < 10
    assert "No download source can be reached" in dialog.status.text()
    assert dialog.selected_components() == ["vae"]
    win.close()


def test_the_users_ticks_stay_until_the_recommendation_changes(qtbot, tmp_path):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    win = fresh_window(qtbot, tmp_path / "data")
    dialog = win._model_dialog
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    recommended = sorted(dialog.plan.needs)
    select_only(dialog, "vae", "configs")
    QApplication.sendEvent(dialog, QEvent(QEvent.Type.LanguageChange))  # what a language switch sends
    dialog.refresh()  # what the end of a download does
    assert sorted(dialog.selected_components()) == ["configs", "vae"]
    win.store.update(profile="4gb")  # a new recommendation: its files are ticked
    assert dialog.plan.profile == "4gb" and sorted(dialog.plan.needs) != recommended
    assert sorted(dialog.selected_components()) == sorted(dialog.plan.needs)
    win.close()


def test_preview_placeholder_survives_resizes_until_an_image_is_shown(qtbot):
    from zimage_desktop.ui.preview_view import PreviewView

    view = PreviewView()
    qtbot.addWidget(view)
    view.set_placeholder("Your image appears here")
    view.show()
    for size in ((400, 400), (900, 600), (350, 700)):
        view.resize(*size)
        qtbot.waitUntil(lambda: view.viewport().size().width() > 0)
        assert view.label.text() == "Your image appears here"
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    image.fill(0xFF3366)
    view.show_image(image)
    view.resize(500, 500)
    # the canvas paints the image (no pixmap since zooming came): what is seen is the image, not the text
    seen = view.label.grab().toImage()
    assert seen.pixelColor(seen.width() // 2, seen.height() // 2).name() == "#ff3366"


def test_closing_the_manager_keeps_the_download_and_its_end_switches_to_generate(qtbot, tmp_path, monkeypatch, hub,
                                                                                  tiny_models):
    from tests.fixtures import Fault, tiny_catalog_data

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(tiny_catalog_data(tiny_models.comfy, hub)))
    hub.faults["files/vae/tiny_ae.safetensors"] = Fault(rate=100_000)  # ~3 s: slow enough to close the dialog first
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", hub.url)
    win = fresh_window(qtbot, tmp_path / "data")
    dialog = win._model_dialog
    dialog.catalog_path = catalog
    dialog.refresh()
    select_only(dialog, "transformer", "text-encoder", "vae", "configs")
    changed = []
    dialog.models_changed.connect(lambda: changed.append(True))
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.total.maximum() == 1000 and dialog.total.value() > 0, timeout=10000)
    dialog.close_button.click()
    assert not dialog.isVisible() and dialog.download_thread is not None  # still downloading
    qtbot.waitUntil(lambda: "Downloading models" in win.status.text(), timeout=10000)
    qtbot.waitUntil(lambda: bool(changed), timeout=60000)
    assert dialog.status.text() == "Download complete."
    assert win.generate_button.text().startswith("Generate")
    win.close()


def test_model_manager_warns_when_the_drive_is_too_small(qtbot, tmp_path, hub, tiny_models):
    from tests.fixtures import tiny_catalog_data

    data = tiny_catalog_data(tiny_models.comfy, hub)
    data["components"]["transformer"]["files"][0]["size"] = 10**16  # 10 PB: more than any test machine has
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(data))
    win = fresh_window(qtbot, tmp_path / "data")
    dialog = win._model_dialog
    dialog.catalog_path = catalog
    dialog.refresh()
    select_only(dialog, "vae")
    assert "Not enough free space" not in dialog.totals.text()
    select_only(dialog, "vae", "transformer")
    assert dialog.totals.text().startswith("Selected: 10000000.0 GB")
    assert "Not enough free space" in dialog.totals.text()
    win.close()


def test_closing_while_the_worker_cannot_stop_yet_waits_for_it(qtbot, tmp_path, monkeypatch):
    """A hardware probe or a model load cannot be interrupted; closing then must wait for the
    worker (with the window off the screen), not leave a running QThread to be destroyed, which
    aborts the whole process."""
    import threading
    import time

    from zimage_desktop.engine import devices

    entered = threading.Event()
    real_probe = devices.probe

    def slow_probe():
        entered.set()
        time.sleep(3)  # longer than the 2 s the window used to wait
        return real_probe()

    monkeypatch.setattr(devices, "probe", slow_probe)
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    win = run_app(str(data), exec_loop=False)
    try:
        qtbot.waitUntil(entered.is_set, timeout=20000)
        win.close()
        assert not win.isVisible() and not win.worker.isRunning()
    finally:
        win.worker.wait()  # keep the next tests alive whatever the outcome
