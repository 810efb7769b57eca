"""Screenshots of the edit tools (issue 21) in English and Chinese: inpaint with a painted mask, outpaint to
16:9 with the frame's handles, and "Fix the text" on a poster with the title selected. The pictures come
from the tiny random test model (noise) and a drawn sample; the window, the tools and the texts are real.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_edit_screenshots.py   (or under xvfb-run -a)
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
SIZE = (1280, 800)
POSTER = {"zh_CN": dict(headline="新春特惠", subtitle="全场五折起", language="zh"),
          "en": dict(headline="SPRING SALE", subtitle="Everything half price", language="en")}


def shot(widget, name: str) -> None:
    widget.grab().save(str(OUT / f"{name}.jpg"), "JPG", 85)


def sample(path: Path) -> None:
    """A drawn picture to edit: sky, hills, a sun (what a user might drop on the canvas)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPolygonF

    image = QImage(768, 1024, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    sky = QLinearGradient(0, 0, 0, 1024)
    sky.setColorAt(0, QColor(90, 150, 230))
    sky.setColorAt(1, QColor(250, 210, 160))
    painter.fillRect(image.rect(), sky)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 220, 90))
    painter.drawEllipse(QPointF(560, 260), 90, 90)
    for colour, top in ((QColor(70, 130, 80), 640), (QColor(40, 95, 60), 760)):
        painter.setBrush(colour)
        painter.drawPolygon(QPolygonF([QPointF(0, top), QPointF(260, top - 140), QPointF(520, top - 20),
                                       QPointF(768, top - 160), QPointF(768, 1024), QPointF(0, 1024)]))
    painter.end()
    image.save(str(path))


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    from PySide6.QtCore import QEventLoop, QPoint, QRect, QTimer
    from PySide6.QtWidgets import QApplication

    from zimage_desktop.app import run_app
    from zimage_desktop.devkit.tiny import build_tiny_models
    from zimage_desktop.poster.compose import PosterSpec

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_models(Path(tmp) / "tiny")
        picture = Path(tmp) / "hills.png"
        sample(picture)
        for language in ("en", "zh_CN"):
            data = Path(tmp) / f"data-{language}"
            data.mkdir()
            shutil.copytree(tiny.gguf, data / "models")
            (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": language}))
            win = run_app(str(data), exec_loop=False)
            win.resize(*SIZE)
            done: list[str] = []
            win.worker.worker_event.connect(lambda e, d=done: d.append(e.kind))
            while "loaded" not in done:
                wait(100)
            edit = win.edit
            # inpaint: a dropped picture, the sun painted over, "only the masked area" on
            edit.open_file(str(picture))
            while edit.work is None:
                wait(50)
            edit.panel.set_mode("inpaint")
            edit.panel.prompt.setPlainText("一轮弯弯的月亮" if language == "zh_CN" else "a thin crescent moon")
            edit.mask.set_size(60)
            edit.mask.fill_rect(QRect(QPoint(450, 150), QPoint(670, 370)))
            edit.panel.only_masked.setChecked(True)
            wait(300)
            shot(win, f"edit-inpaint-{language}")
            # outpaint: the portrait picture to a 16:9 banner
            edit.panel.set_mode("outpaint")
            edit.frame.to_ratio(16, 9)
            wait(300)
            shot(win, f"edit-outpaint-{language}")
            # fix the text: a poster from the poster tab (tiny model), the subtitle selected
            request = win.requests().new("poster", width=512, height=512, seed=3,
                                         extra={"poster": PosterSpec(**POSTER[language]).to_dict()})
            win.controller.submit(request)
            while "finished" not in done:
                wait(100)
            edit.edit_record(win.gallery.model.rows[0])
            edit.panel.text_role.setCurrentIndex(1)
            edit.panel.set_mode("inpaint")
            edit.mask.set_tool("rectangle")
            edit.panel.tool_buttons["rectangle"].setChecked(True)
            edit.mask.fill_rect(QRect(QPoint(96, 300), QPoint(416, 360)))
            wait(300)
            shot(win, f"edit-fix-text-{language}")
            win.close()
    QApplication.instance().quit()
    print("saved", sorted(p.name for p in OUT.glob("edit-*.jpg")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
