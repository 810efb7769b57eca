"""Screenshots of glyph control on the poster panel, in English and Chinese: a built-in template,
"Glyph control" on with a system font (Noto Sans CJK SC for Chinese), and on the canvas the glyph
control image the panel makes for that poster (what the ControlNet Union is given).

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_glyph_screenshots.py

Needs a CJK font for the Chinese shot (Debian: fonts-noto-cjk).
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
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QScrollArea

    from zimage_desktop.app import run_app
    from zimage_desktop.devkit.controlnet import write_tiny_controlnet
    from zimage_desktop.devkit.tiny import build_tiny_models
    from zimage_desktop.poster.formats import FORMATS

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
            write_tiny_controlnet(data / "models", "2.1")
            (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": language}))
            win = run_app(str(data), exec_loop=False)
            done: list[str] = []
            win.worker.worker_event.connect(lambda e, d=done: d.append(e.kind))
            while "loaded" not in done:
                wait(100)
            win.resize(1180, 760)
            win.mode_tabs.setCurrentIndex(1)
            win.poster.apply_template(0)
            glyphs = win.poster.glyphs
            glyphs.enabled.setChecked(True)
            spec = win.poster.spec()
            fmt = FORMATS[spec.format]
            (control,) = glyphs.control(spec, fmt.width, fmt.height, data)
            win.preview.show_image(QImage(control.image))
            wait(300)
            scroll = win.findChild(QScrollArea, "posterScroll")  # the glyph row is near the panel's end
            scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
            wait(300)
            win.grab().save(str(OUT / f"poster-glyphs-{language}.jpg"), "JPG", 85)
            print(language, glyphs.font_choice(), control.image)
            win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
