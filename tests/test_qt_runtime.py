"""Guards against Qt-for-Python releases that break the app at run time."""

import subprocess
import sys

SIGNALS = r"""
import os, threading
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication
app = QApplication([])
class Source(QObject):
    event = Signal(object)
received = []
source = Source()
source.event.connect(received.append)
worker = threading.Thread(target=lambda: [source.event.emit(i) for i in range(3000)])
worker.start(); worker.join()
for i in range(3000):
    source.event.emit(i)
app.processEvents()
assert len(received) == 6000, len(received)
print("ok")
"""


def test_thousands_of_signals_do_not_crash_the_interpreter():
    # PySide6 6.12.0 decrements the refcount of True on every emission and aborts (bool_dealloc).
    proc = subprocess.run([sys.executable, "-c", SIGNALS], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-500:]
