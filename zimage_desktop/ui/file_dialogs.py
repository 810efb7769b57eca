"""Showing a folder in the system's file manager and asking for a .png name to save as: used by the
history actions, the gallery and the viewer (a module of their own, so none of them imports another
for it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog


def reveal_folder(folder: Path) -> None:
    """Show a folder in the system's file manager."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "darwin":
        subprocess.Popen(["open", str(folder)])
    else:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def ask_save_name(parent, suggested: str) -> str:
    """A .png name from the save dialog ("" when cancelled)."""
    name, _ = QFileDialog.getSaveFileName(parent, QCoreApplication.translate("HistoryActions", "Save image as"),
                                          suggested or "image.png", "PNG (*.png)")
    return name if not name or name.lower().endswith(".png") else name + ".png"
