"""A restart shows the last prompt and the last image (issue 29 item 15). Two real app starts on the
same data folder with the tiny model, offscreen."""

from PySide6.QtGui import QImage

from zimage_desktop.app import run_app
from zimage_desktop.ui.last_session import load_prompt, save_prompt


def start(qtbot, data):
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    win.events = events
    return win


def test_restart_restores_the_prompt_and_the_newest_image(qtbot, data_with_models):
    win = start(qtbot, data_with_models)
    qtbot.waitUntil(lambda: any(e.kind == "loaded" for e in win.events), timeout=30000)
    win.size_combo.select_custom()
    win.width_spin.setValue(256)
    win.height_spin.setValue(256)
    win.steps_spin.setValue(2)
    win.prompt.setPlainText("a red kite over the sea")
    win.generate()
    qtbot.waitUntil(lambda: any(e.kind == "finished" for e in win.events), timeout=60000)
    made = next(e for e in win.events if e.kind == "image")
    win.prompt.setPlainText("an idea typed but not generated, 还没生成")
    win.close()

    again = start(qtbot, data_with_models)
    assert again.prompt.toPlainText() == "an idea typed but not generated, 还没生成"
    qtbot.waitUntil(lambda: again.canvas.current is not None, timeout=10000)
    saved = QImage(made.path).convertToFormat(QImage.Format.Format_RGB888)
    assert again.canvas.current.convertToFormat(QImage.Format.Format_RGB888) == saved  # the picture itself
    assert again.history.last_path == made.path  # Save as / Copy / Open folder act on it
    assert again.form.last_seed == made.seed  # "Reuse last" works after the restart
    again.close()


def test_a_damaged_session_file_costs_only_the_prompt(tmp_path):
    path = tmp_path / "session.json"
    path.write_text("{not json", encoding="utf-8")
    assert load_prompt(path) == ""
    path.write_text('{"prompt": 42}', encoding="utf-8")
    assert load_prompt(path) == ""
    save_prompt(path, "标题文字“新春特惠”")
    assert load_prompt(path) == "标题文字“新春特惠”"
    save_prompt(tmp_path / "missing" / "dir" / "session.json", "x")  # unwritable: no error
