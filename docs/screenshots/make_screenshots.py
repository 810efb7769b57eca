"""Screenshots of the real window (run under Xvfb): the main window in English and Chinese, light
and dark, at 1180×760 (the default size) and 1600×1000, after two generations with the tiny random
test model; the poster tab with a template; the image viewer; and the first run (no models: the
main window's "Get models" and the model manager).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_screenshots.py [--only main]

``main-<language>.jpg`` is the default size in the light theme (the README shows it); the others are
``main-<language>-<theme>-<width>x<height>.jpg``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).resolve().parent
SIZES = ((1180, 760), (1600, 1000))
PROMPTS = {"zh_CN": ("海报，标题文字“新春特惠”，金色粗体，居中；背景是红色灯笼和梅花，柔和的晨光",
                     "一只橘猫坐在窗台上，午后的阳光，胶片质感"),
           "en": ('A poster with the headline "SPRING SALE" in bold gold letters, centred; '
                  "red lanterns and plum blossoms, soft morning light",
                  "An orange cat on a window sill, afternoon sun, film grain")}


def shot(widget, name: str) -> None:
    """JPEG, not PNG: the tiny model's images are noise, which PNG cannot compress (1.3 MB a shot)."""
    widget.grab().save(str(OUT / f"{name}.jpg"), "JPG", 85)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("main", "model-manager"))
    only = parser.parse_args().only
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from zimage_desktop.app import run_app
    from zimage_desktop.engine.devices import GpuInfo, MachineInfo
    from zimage_desktop.devkit.tiny import build_tiny_models

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_models(Path(tmp) / "tiny")
        for language in ("en", "zh_CN") if only != "model-manager" else ():
            for theme in ("light", "dark"):
                data = Path(tmp) / f"data-{language}-{theme}"
                data.mkdir()
                shutil.copytree(tiny.gguf, data / "models")
                settings = {"device": "cpu", "language": language, "theme": theme}
                (data / "settings.json").write_text(json.dumps(settings))
                win = run_app(str(data), exec_loop=False)
                done: list[str] = []
                win.worker.worker_event.connect(lambda e, d=done: d.append(e.kind))
                while "loaded" not in done:
                    wait(100)
                win.size_combo.setCurrentIndex(next(i for i in range(win.size_combo.count())
                                                     if win.size_combo.itemData(i) == (1152, 896)))
                win.seed_random.setChecked(False)
                for seed, prompt in enumerate(reversed(PROMPTS[language]), start=7):
                    win.prompt.setPlainText(prompt)
                    win.seed_spin.setValue(seed)
                    win.generate()
                while done.count("finished") < 2:
                    wait(100)
                win.count_spin.setValue(3)  # a running job with its progress, and one waiting
                win.generate()
                win.generate()
                while "step" not in done[done.index("finished", done.index("finished") + 1):]:
                    wait(20)
                for width, height in SIZES:
                    win.resize(width, height)
                    if width > SIZES[0][0]:  # the large shots also show compare: the line splits two images
                        win.canvas.mode.setCurrentIndex(win.canvas.mode.findData("split"))
                    wait(300)
                    shot(win, f"main-{language}" if (theme, width) == ("light", 1180) else
                         f"main-{language}-{theme}-{width}x{height}")
                win.canvas.mode.setCurrentIndex(0)
                win.mode_tabs.setCurrentIndex(1)  # the poster tab, a template applied
                win.poster.apply_template(0)
                for width, height in SIZES:
                    win.resize(width, height)
                    wait(300)
                    shot(win, f"poster-{language}-{theme}-{width}x{height}")
                win.mode_tabs.setCurrentIndex(0)
                win.controller.cancel_all()
                if theme == "light":  # the viewer, over the window
                    win.resize(*SIZES[0])
                    win.gallery.view.setCurrentIndex(win.gallery.model.index(0))
                    win.gallery.open_viewer()
                    wait(300)
                    win.gallery.viewer.resize(980, 640)
                    wait(300)
                    shot(win.gallery.viewer, f"viewer-{language}")
                    win.gallery.viewer.close()
                win.close()
        for language in ("en", "zh_CN") if only != "main" else ():
            data = Path(tmp) / f"data-first-run-{language}"
            data.mkdir()
            (data / "settings.json").write_text(json.dumps({"language": language}))
            win = run_app(str(data), exec_loop=False)
            while getattr(win, "_model_dialog", None) is None or win._model_dialog.plan is None:
                wait(100)
            dialog = win._model_dialog
            wait(300)
            shot(dialog, f"model-manager-{language}")  # the first view: one recommended download, and where
            # The residency table of a GPU plan (a pretend RTX 4080 16 GB, 16 GB RAM): the swap ring.
            machine = dialog.machine
            dialog.set_machine(MachineInfo(gpus=(GpuInfo(0, "RTX 4080", 16 * 1024**3, 16 * 1024**3, (8, 9), True),),
                                           total_ram=16 * 1024**3))
            wait(300)
            shot(dialog, f"model-manager-16gb-{language}")
            dialog.set_machine(machine)
            dialog.recommended.choose.click()  # the detailed list, behind "Choose files…"
            wait(300)
            shot(dialog, f"model-manager-files-{language}")
            dialog.close_button.click()  # what a new user sees behind it: Get models, and why, and the empty history
            win.resize(*SIZES[0])
            win.generate()
            wait(300)
            shot(win, f"first-run-{language}")
            win.close()
    QApplication.instance().quit()
    print("saved", sorted(p.name for p in OUT.glob("*.jpg")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
