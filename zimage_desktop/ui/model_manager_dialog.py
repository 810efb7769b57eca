"""Model manager: the recommended files for this machine, downloads with progress, ComfyUI import."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout,
)

from ..config import Paths, Settings
from .settings_store import SettingsStore
from ..engine.planner import MemoryPlan
from .status_line import StatusLine, in_ui_language
from .translations import current_language
from .plan_text import explain_plan
from ..errors import UserFacingError

GB = 1e9


class DownloadThread(QThread):
    progress = Signal(object)  # DownloadEvent
    done = Signal(object, object)  # DownloadReport | None, error message (engine Message) or ""

    def __init__(self, downloader, files) -> None:
        super().__init__()
        self.downloader, self.files = downloader, files

    def run(self) -> None:
        try:
            report = self.downloader.download(self.files, self.progress.emit)
            self.done.emit(report, "")
        except UserFacingError as exc:
            self.done.emit(None, exc.message)


class ModelManagerDialog(QDialog):
    models_changed = Signal()

    @property
    def settings(self) -> Settings:
        """Read from the store each time: the dialog outlives settings changes."""
        return self.store.value

    def __init__(self, paths: Paths, store: "SettingsStore", machine=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("modelManagerDialog")
        self.paths, self.store, self.machine = paths, store, machine
        self.download_thread: DownloadThread | None = None
        self.plan: MemoryPlan | None = None
        self.resize(780, 520)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setObjectName("planExplanation")
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("componentTable")
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.source = QComboBox()
        self.source.setObjectName("sourceCombo")
        for code in ("hf", "mirror", "modelscope"):
            self.source.addItem("", code)
        self.source.setCurrentIndex(max(0, self.source.findData(store.value.download_source)))
        store.changed.connect(self._setting_changed)
        self.download_button, self.pause_button, self.cancel_button, self.import_button = (QPushButton() for _ in range(4))
        self.download_button.setObjectName("downloadButton")
        self.download_button.clicked.connect(self.start_download)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self.import_comfyui)
        self.file_label = QLabel()
        self.total = QProgressBar()
        self.total.setObjectName("downloadProgress")
        self.status = StatusLine()
        self.status.setObjectName("modelStatus")
        self.status.setWordWrap(True)
        self.source_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.source_label)
        row.addWidget(self.source, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.pause_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.table)
        layout.addLayout(row)
        for widget in (self.file_label, self.total, self.status, self.import_button):
            layout.addWidget(widget)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Model manager"))
        self.table.setHorizontalHeaderLabels([self.tr("Get"), self.tr("Component"), self.tr("Size"), self.tr("State")])
        mirror = self.tr("Hugging Face mirror (%1)").replace("%1", self.settings.hf_mirror)
        for i, text in enumerate((self.tr("Hugging Face"), mirror,
                                  self.tr("ModelScope (China)"))):
            self.source.setItemText(i, text)
        self.source_label.setText(self.tr("Source:"))
        self.download_button.setText(self.tr("Download selected"))
        self.pause_button.setText(self.tr("Pause"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.import_button.setText(self.tr("Use files from an existing ComfyUI folder…"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()  # the plan, component titles and states are written in the UI language
            self.refresh()
        super().changeEvent(event)

    def _catalog(self):
        from ..models.catalog import load_catalog

        return load_catalog()

    def _setting_changed(self, key: str) -> None:
        if key in ("models_dir", "profile"):
            self.refresh()
        elif key == "download_source":
            self.source.setCurrentIndex(max(0, self.source.findData(self.settings.download_source)))

    def set_machine(self, machine) -> None:
        self.machine = machine
        self.refresh()

    def refresh(self) -> None:
        from ..engine.planner import plan_for_folder
        from ..models.hashing import HashCache
        from ..models.store import scan

        models_dir = self.settings.models_path(self.paths)
        plan = self.plan = plan_for_folder(self.machine, models_dir, self.settings.profile) if self.machine else None
        if plan is None:
            self.explanation.setText(self.tr("Detecting this computer's graphics card and memory…"))
        else:
            self.explanation.setText(self.tr("Recommended for this computer (%1): %2")
                                     .replace("%1", plan.profile).replace("%2", explain_plan(plan)))
        catalog = self._catalog()
        status = scan(models_dir, catalog, HashCache(self.paths.hash_cache))
        self.table.setRowCount(len(status))
        for row, st in enumerate(status):
            check = QTableWidgetItem()
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            wanted = plan is not None and st.component.id in plan.needs and not st.installed
            check.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
            check.setData(Qt.ItemDataRole.UserRole, st.component.id)
            self.table.setItem(row, 0, check)
            self.table.setItem(row, 1, QTableWidgetItem(st.component.display_title(current_language())))
            self.table.setItem(row, 2, QTableWidgetItem(f"{st.component.size / GB:.2f} GB"))
            state = {"installed": self.tr("installed"), "verified": self.tr("verified"),
                     "missing": self.tr("not installed"), "partial": self.tr("partly downloaded"),
                     "incomplete": self.tr("incomplete"), "wrong size": self.tr("wrong size"),
                     "corrupt": self.tr("damaged")}.get(st.state, st.state)
            self.table.setItem(row, 3, QTableWidgetItem(state))
        for column in (0, 2, 3):
            self.table.resizeColumnToContents(column)

    def selected_components(self) -> list[str]:
        items = [self.table.item(r, 0) for r in range(self.table.rowCount())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i and i.checkState() == Qt.CheckState.Checked]

    def make_downloader(self):
        """A downloader into the models folder as the settings say now, from the chosen source."""
        from ..models.download import Downloader
        from ..models.hashing import HashCache
        from ..models.sources import source_config

        sources = source_config(self.settings, self.paths, source=self.source.currentData())
        return Downloader(self.settings.models_path(self.paths), sources, hash_cache=HashCache(self.paths.hash_cache))

    def start_download(self) -> None:
        if self.download_thread is not None:
            return
        names = self.selected_components()
        if not names:
            self.status.say(lambda: self.tr("Nothing selected."))
            return
        try:
            downloader = self.make_downloader()
        except UserFacingError as exc:  # e.g. a mirror address that is not http(s)
            self.status.say(exc)
            return
        files = [f for c in self._catalog().resolve(names) for f in c.files]
        self.download_thread = DownloadThread(downloader, files)
        self.download_thread.progress.connect(self.on_progress)
        self.download_thread.done.connect(self.on_done)
        self.status.say(lambda: self.tr("Downloading…"))
        self.download_thread.start()

    def toggle_pause(self) -> None:
        if self.download_thread is None:
            return
        d = self.download_thread.downloader
        if d.paused:
            d.resume()
            self.pause_button.setText(self.tr("Pause"))
        else:
            d.pause()
            self.pause_button.setText(self.tr("Resume"))

    def cancel_download(self) -> None:
        if self.download_thread is not None:
            self.download_thread.downloader.cancel()

    def on_progress(self, e) -> None:
        if e.kind == "progress" and e.set_total:
            self.total.setRange(0, 1000)
            self.total.setValue(int(e.set_done * 1000 / e.set_total))
            eta = time.strftime("%H:%M:%S", time.gmtime(e.set_eta_s)) if e.set_eta_s else "--:--:--"
            self.file_label.setText(self.tr("%1: %2 of %3 GB · %4 MB/s · %5 left")
                                    .replace("%1", e.file).replace("%2", f"{e.done / GB:.2f}")
                                    .replace("%3", f"{(e.total or 0) / GB:.2f}").replace("%4", f"{e.speed / 1e6:.1f}")
                                    .replace("%5", eta))
        elif e.kind in ("source_failed", "file_failed", "notice"):
            self.status.say(e.message)

    def on_done(self, report, error: str) -> None:
        self.download_thread = None
        self.pause_button.setText(self.tr("Pause"))
        if error:
            self.status.say(error)
        elif report is not None:
            failed = "; ".join(f"{k}: {in_ui_language(v)}" for k, v in report.failed.items())
            self.status.say(failed or (lambda: self.tr("Download complete.")))
            self.models_changed.emit()
        self.refresh()

    def import_comfyui(self) -> None:
        from ..models.store import import_folder

        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the ComfyUI models folder"))
        if not folder:
            return
        try:
            report = import_folder(Path(folder), self.settings.models_path(self.paths), "hardlink")
        except UserFacingError as exc:
            self.status.say(exc)
            return
        self.status.say(lambda: self.tr("Imported %1 files without copying.").replace("%1", str(len(report.imported)))
                        + " " + " ".join(in_ui_language(n) for n in report.notes))
        self.models_changed.emit()
        self.refresh()

    def closeEvent(self, event) -> None:
        if self.download_thread is not None:
            self.download_thread.downloader.cancel()
            self.download_thread.wait(3000)
        super().closeEvent(event)
