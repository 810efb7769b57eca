"""The thread the model manager's download runs on: the downloader's progress events and its end
(report or error) as Qt signals, on a thread the dialog owns."""

from __future__ import annotations

from PySide6.QtCore import QThread, Signal


class DownloadThread(QThread):
    progress = Signal(object)  # DownloadEvent
    done = Signal(object, object)  # DownloadReport | None, the error that stopped the set | None

    def __init__(self, downloader, files, parent) -> None:
        # Owned by the dialog, deleted once finished: "done" reaches the dialog (which lets go of
        # the thread) before run() has returned, and a QThread destroyed while running aborts.
        super().__init__(parent)
        self.downloader, self.files = downloader, files
        self.finished.connect(self.deleteLater)

    def run(self) -> None:
        try:
            report = self.downloader.download(self.files, self.progress.emit)
            self.done.emit(report, None)
        except Exception as exc:  # a bug included: "done" must come, or the dialog would wait forever
            self.done.emit(None, exc)
