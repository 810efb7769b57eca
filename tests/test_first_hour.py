"""A new user's first hour in the window (issue 29): shortcuts from anywhere, honest progress,
feedback on cancel and quit. On the tiny model, offscreen."""

import time

import pytest
from PySide6.QtCore import Qt

from zimage_desktop.app import run_app
from zimage_desktop.engine.progress import RunClock


def kinds(win):
    return [e.kind for e in win.events]


def custom_size(win, width, height):
    win.size_combo.select_custom()  # custom
    win.width_spin.setValue(width)
    win.height_spin.setValue(height)


def test_ctrl_enter_queues_from_any_field_and_from_the_poster_tab(qtbot, window):
    window.prompt.setPlainText("from the seed field")
    submitted = []
    window.controller.queue_changed.connect(lambda jobs: submitted.append(len(jobs)))
    window.worker.controller.stop()  # nothing runs: the jobs stay in the queue where the test sees them
    window.worker.wait(5000)
    for field in (window.steps_spin, window.seed_spin):
        field.setFocus()
        qtbot.keyClick(field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    queued = window.controller.queued()
    assert [job.request.prompt for job in queued] == ["from the seed field"] * 2  # once per press, not twice
    window.mode_tabs.setCurrentIndex(1)
    window.poster.headline.setText("Grand opening")
    window.poster.headline.setFocus()
    qtbot.keyClick(window.poster.headline, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.poster.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    queued = window.controller.queued()
    assert len(queued) == 4
    assert all("Grand opening" in job.request.prompt and "poster" in job.request.extra for job in queued[2:])


def test_progress_names_every_stage_and_counts_the_decode_in_the_time_left(qtbot, window):
    custom_size(window, 256, 256)
    window.count_spin.setValue(2)
    window.prompt.setPlainText("stages")
    statuses: list[str] = []
    window.worker.worker_event.connect(lambda e: statuses.append(window.status.text()))
    window.generate()
    qtbot.waitUntil(lambda: "finished" in kinds(window), timeout=60000)
    stages = [(e.stage, e.image_index) for e in window.events if e.kind == "stage"]
    assert stages == [("encoding", 0), ("decoding", 0), ("saving", 0), ("encoding", 1), ("decoding", 1), ("saving", 1)]
    # the last step of the first image still has a whole image, its decode and save to come
    last_step_first = [e for e in window.events if e.kind == "step" and e.image_index == 0][-1]
    decoding_second = [e for e in window.events if e.kind == "stage" and e.stage == "decoding"][1]
    assert last_step_first.eta_s > decoding_second.eta_s > 0
    assert any("decoding the image" in text for text in statuses)
    assert any("Image 2/2 · step" in text for text in statuses)


def test_a_new_job_in_the_queue_never_shows_the_last_jobs_final_step(qtbot, window):
    window.prompt.setPlainText("first")
    custom_size(window, 256, 256)
    window.generate()
    qtbot.waitUntil(lambda: "finished" in kinds(window), timeout=60000)
    assert window.queue.current_progress.format() == "Image 1/1 · saving"  # the last stage of the last job
    formats = []
    window.worker.worker_event.connect(
        lambda e: formats.append(window.queue.current_progress.format()) if e.kind == "started" else None)
    window.prompt.setPlainText("second")
    window.generate()
    qtbot.waitUntil(lambda: kinds(window).count("finished") == 2, timeout=60000)
    assert formats == ["Image 1/1 · starting"]


def test_cancel_says_cancelling_at_once_and_quitting_hides_the_window_first(qtbot, window):
    window.prompt.setPlainText("a long one")
    custom_size(window, 1024, 1024)
    window.count_spin.setValue(4)
    window.generate()
    qtbot.waitUntil(lambda: "step" in kinds(window), timeout=30000)
    window.queue.cancel_all.click()
    assert window.status.text() == "Cancelling…"
    assert window.queue.current_progress.format() == "Cancelling…"
    qtbot.waitUntil(lambda: "cancelled" in kinds(window), timeout=30000)
    assert window.status.text() == "Cancelled."
    window.prompt.setPlainText("quit during this one")
    window.generate()
    qtbot.waitUntil(lambda: kinds(window).count("step") > 3, timeout=30000)
    seen = []
    window.controller.stopping.connect(lambda: seen.append(window.isVisible()))
    started = time.perf_counter()
    window.close()
    assert seen == [False]  # off the screen before the worker is asked to wind down
    assert window.worker.wait(5000) and time.perf_counter() - started < 5


def test_the_run_clock_counts_every_stage_of_every_image():
    now = [0.0]
    clock = RunClock(count=3, steps=8, pixels=1024 * 1024, clock=lambda: now[0])
    clock.begin("encoding", 0)
    now[0] = 1.0
    clock.begin("step", 0)
    for step in range(1, 9):
        now[0] += 0.5
        clock.step_done(step, step * 0.5)
    at_last_step = clock.eta_s()
    # before any decode was measured it is assumed to cost some steps, never nothing
    assert at_last_step > 2 * (1.0 + 8 * 0.5)
    clock.begin("decoding", 0)
    now[0] += 10.0  # a slow VAE
    clock.begin("saving", 0)
    now[0] += 0.1
    clock.finish()
    clock.begin("encoding", 1)
    # two images left, each 1 s encode + 4 s steps + 10 s decode + 0.1 s save
    assert clock.eta_s() == pytest.approx(2 * 15.1, rel=0.01)


def test_the_prompt_limit_comes_from_the_loaded_model_and_its_refusal_is_one_sentence(qtbot, data_with_models):
    import json

    config = data_with_models / "models" / "configs" / "z-image-turbo" / "text_encoder" / "config.json"
    values = json.loads(config.read_text())
    values["max_position_embeddings"] = 64  # an encoder that reads fewer positions than Z-Image's 512
    config.write_text(json.dumps(values))
    win = run_app(str(data_with_models), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    try:
        qtbot.waitUntil(lambda: any(e.kind == "loaded" for e in events), timeout=30000)
        qtbot.waitUntil(lambda: win.form.tokens.counter is not None and win.form.tokens.limit == 64, timeout=10000)
        win.prompt.setPlainText("a red lantern over a quiet street at night, " * 8)
        typed, room, exact = win.form.tokens.typed(win.prompt.toPlainText())
        assert exact and typed > room and f"{typed} / {room} tokens" in win.form.count_label.text()
        assert "c0392b" in win.form.count_label.styleSheet()
        win.generate()
        qtbot.waitUntil(lambda: any(e.kind == "failed" for e in events), timeout=30000)
        failed = next(e for e in events if e.kind == "failed")
        assert "64" in str(failed.message) and failed.details == ""
        assert win.status.text() == str(failed.message) and "\n" not in win.status.text()
    finally:
        win.close()


def test_an_unexpected_error_reaches_the_user_as_one_sentence_with_the_details_behind_it():
    from zimage_desktop.ui.worker import failure

    try:
        [][481]
    except IndexError as exc:
        event = failure(exc, job_id=3)
    assert "IndexError" not in str(event.message) and str(event.message).count(".") == 1
    assert "IndexError" in event.details and "Traceback" in event.details and event.ends_job


def test_the_poster_tab_keeps_a_plain_generate_in_view_and_describes_in_the_ui_language(qtbot, window):
    window.resize(1180, 760)
    window.mode_tabs.setCurrentIndex(1)
    poster = window.poster
    qtbot.waitUntil(lambda: poster.generate_one.isVisible())
    assert poster.describe_in.currentData() == "en"  # the English UI describes in English
    box = poster.template
    qtbot.waitUntil(lambda: box.width() > box.fontMetrics().horizontalAdvance(box.itemText(0)))  # not clipped
    for button in (poster.generate_one, poster.generate):
        bottom_right = button.mapTo(window, button.rect().bottomRight())
        assert window.rect().contains(bottom_right) and button.width() >= button.minimumSizeHint().width()
    poster.apply_template(0)
    window.worker.controller.stop()  # keep what is queued in the queue
    window.worker.wait(5000)
    poster.generate_one.click()
    assert [job.request.count for job in window.controller.queued()] == [1]
    poster.describe_in.setCurrentIndex(poster.describe_in.findData("zh"))
    poster.describe_in.activated.emit(poster.describe_in.currentIndex())  # as a user's pick
    poster.set_language("en")
    assert poster.describe_in.currentData() == "zh"  # a choice the user made stays


def test_the_history_says_what_is_there_when_empty_and_when_a_search_finds_nothing(qtbot, window):
    gallery = window.gallery
    assert gallery.model.rowCount() == 0
    assert gallery.empty.isVisibleTo(window) and not gallery.view.isVisibleTo(window)
    assert "No images yet" in gallery.empty.text() and "Ctrl+Enter" in gallery.empty.text()
    window.prompt.setPlainText("a lighthouse")
    custom_size(window, 256, 256)
    window.generate()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 1, timeout=60000)
    assert gallery.view.isVisibleTo(window) and not gallery.empty.isVisibleTo(window)
    gallery.search.setText("zebra")
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 0 and gallery.empty.isVisibleTo(window))
    assert "“zebra”" in gallery.empty.text() and "clear the search" in gallery.empty.text()
    gallery.search.clear()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 1 and gallery.view.isVisibleTo(window))


def test_a_live_switch_leaves_no_english_behind(qtbot, window):
    import re

    from PySide6.QtWidgets import QApplication

    from zimage_desktop.ui.translations import Translations

    panel = window.enhance_panel
    panel.start("idea")
    panel.finish("a rewritten idea", cancelled=True, restored=())
    window.mode_tabs.setCurrentIndex(1)
    window.poster.headline.setText("A very long headline that goes on and on for many many words indeed")
    assert "Stopped early" in panel.note.text() and "headline" in window.poster.warnings.text()
    schedule = window.form.sampling.schedule
    cjk = re.compile(r"[\u4e00-\u9fff]")
    window.language_requested.emit("zh_CN")
    try:
        qtbot.waitUntil(lambda: cjk.search(panel.note.text()) is not None)
        assert not re.search(r"[A-Za-z]{4,}", panel.note.text())
        assert cjk.search(window.poster.warnings.text()) and "headline" not in window.poster.warnings.text()
        for i in range(schedule.count()):  # one language per entry: no "Simple 调度"
            assert not re.search(r"^[A-Za-z]+ [\u4e00-\u9fff]", schedule.itemText(i)), schedule.itemText(i)
        assert window.gallery.empty.text() and cjk.search(window.gallery.empty.text())
    finally:
        Translations.for_app(QApplication.instance()).apply("en")


def test_a_half_filled_models_folder_names_what_is_missing(qtbot, data_with_models):
    import shutil

    shutil.rmtree(data_with_models / "models" / "text_encoders")  # everything but the text encoder
    win = run_app(str(data_with_models), exec_loop=False)
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: "text encoder" in win.status.text(), timeout=20000)
        assert "No model files yet" not in win.status.text()
        assert "transformer" not in win.status.text() and "VAE" not in win.status.text()
        assert win.generate_button.text() == "Get models…"
    finally:
        win.close()


def test_the_model_manager_leads_with_one_recommended_download_and_says_where(qtbot, tmp_path):
    import json

    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: getattr(win, "_model_dialog", None) is not None and win._model_dialog.isVisible(),
                        timeout=20000)
        dialog = win._model_dialog
        first = dialog.recommended
        if dialog.plan is None:  # while the computer is detected nothing can be started
            assert not first.download.isEnabled() and not dialog.download_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
        assert not dialog.table.isVisible() and not dialog.download_button.isVisible()  # the list waits behind a button
        expected = sum(st.missing_bytes for cid, st in dialog.statuses.items() if cid in dialog.plan.needs)
        assert first.download.isEnabled() and f"({expected / 1e9:.1f} GB)" in first.download.text()
        assert first.download.text().startswith("Download the recommended set")
        assert str(win.store.models_path()) in first.destination.text()
        first.choose.click()
        assert dialog.table.isVisible() and dialog.download_button.isVisible() and dialog.table.rowCount() > 3
        first.choose.click()
        assert not dialog.table.isVisible()
    finally:
        win.close()


def test_one_ram_figure_for_one_plan_in_settings_the_model_manager_and_the_cli(qtbot, window, capsys):
    import re

    from zimage_desktop.cli import main
    from zimage_desktop.ui.settings_dialog import SettingsDialog

    qtbot.waitUntil(lambda: window.machine is not None, timeout=20000)
    models = window.store.models_path()
    settings = SettingsDialog(window.paths, window.settings, window.machine, window)
    window.open_model_manager()
    figures = {
        "settings": settings.plan_label.text(),
        "model manager": window._model_dialog.explanation.text(),
    }
    assert main(["--data-dir", str(window.paths.data), "models", "plan", "--models", str(models)]) == 0
    figures["cli"] = capsys.readouterr().out
    ram = {where: re.findall(r"(\d+\.\d) GiB RAM", text) for where, text in figures.items()}
    assert all(ram.values()) and len({found[-1] for found in ram.values()}) == 1, ram
    settings.close()


def test_models_without_a_subcommand_lists_instead_of_failing(tmp_path, capsys):
    from zimage_desktop.cli import main

    assert main(["--data-dir", str(tmp_path), "models"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Models folder:") and "Sets:" in out
