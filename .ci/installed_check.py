"""CI: prove the non-editable install works as a user gets it (run from outside the checkout).

Imports every module from site-packages, then opens the main window offscreen with a fresh data
folder and closes it again. `zimage-desktop self-test` runs separately in .ci/run.
"""

import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

import zimage_desktop

where = Path(zimage_desktop.__file__).resolve().parent
if "site-packages" not in where.parts:
    sys.exit(f"zimage_desktop was imported from {where}, not from an installed wheel")
names = [m.name for m in pkgutil.walk_packages(zimage_desktop.__path__, "zimage_desktop.")
         if not m.name.endswith("__main__")]  # __main__ would start the app
for name in names:
    importlib.import_module(name)
print(f"imported {len(names)} modules from {where}")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from zimage_desktop.app import run_app  # noqa: E402

window = run_app(data_dir=tempfile.mkdtemp(), exec_loop=False)
if not window.isVisible():
    sys.exit("the main window did not open")
QTimer.singleShot(1000, QApplication.instance().quit)
QApplication.instance().exec()
print(f"window opened: {window.windowTitle()}")
