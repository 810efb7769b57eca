"""Screenshots of the real window (run under Xvfb): main window in English and Chinese after a
generation with the tiny random test model, and the first-run model manager.

    xvfb-run -s "-screen 0 1400x900x24" python docs/screenshots/make_screenshots.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).resolve().parent


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from zimage_desktop.app import run_app
    from zimage_desktop.devkit.tiny import build_tiny_models

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_models(Path(tmp) / "tiny")
        for language in ("en", "zh_CN"):
            data = Path(tmp) / f"data-{language}"
            data.mkdir()
            shutil.copytree(tiny.gguf, data / "models")
            (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": language}))
            win = run_app(str(data), exec_loop=False)
            win.resize(1280, 800)
            done = []
            win.worker.worker_event.connect(lambda e, d=done: d.append(e.kind))
            while "loaded" not in done:
                wait(100)
            win.prompt.setPlainText("海报，标题文字“新春特惠”，金色粗体，居中；背景是红色灯笼和梅花，柔和的晨光"
                                    if language == "zh_CN" else
                                    'A poster with the headline "SPRING SALE" in bold gold letters, centred; '
                                    "red lanterns and plum blossoms, soft morning light")
            win.seed_random.setChecked(False)
            win.seed_spin.setValue(7)
            win.generate()
            while "finished" not in done:
                wait(100)
            wait(300)
            win.grab().save(str(OUT / f"main-{language}.png"))
            win.close()
        for language in ("en", "zh_CN"):
            data = Path(tmp) / f"data-first-run-{language}"
            data.mkdir()
            (data / "settings.json").write_text(json.dumps({"language": language}))
            win = run_app(str(data), exec_loop=False)
            while getattr(win, "_model_dialog", None) is None or win._model_dialog.plan is None:
                wait(100)
            dialog = win._model_dialog
            dialog.resize(900, 520)
            wait(300)
            dialog.grab().save(str(OUT / f"model-manager-{language}.png"))
            win.close()
    QApplication.instance().quit()
    print("saved", sorted(p.name for p in OUT.glob("*.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
