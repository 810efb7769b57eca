"""Model manager: the recommended files for this machine, downloads with progress, ComfyUI import.

Closing the dialog hides it and a running download goes on (the window's status line follows it,
and the window's model button brings the dialog back); quitting the app cancels it, keeping the
partial files, which resume next time.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout,
)

from ..config import Paths, Settings
from ..models.download import DISK_MARGIN, SourcesUnreachable, free_bytes
from .download_thread import DownloadThread
from .settings_store import SettingsStore
from ..engine.planner import MemoryPlan
from .status_line import StatusLine, in_ui_language
from .translations import current_language
from .plan_text import explain_plan, plan_memory
from .residency_table import ResidencyTable
from ..errors import UserFacingError

GB = 1e9


class ModelManagerDialog(QDialog):
    models_changed = Signal()
    activity = Signal(str)  # what the download is doing, for the window's status line while hidden

    @property
    def settings(self) -> Settings:
        """Read from the store each time: the dialog outlives settings changes."""
        return self.store.value

    def __init__(self, paths: Paths, store: "SettingsStore", machine=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("modelManagerDialog")
        self.paths, self.store, self.machine = paths, store, machine
        self._recommended: tuple[str, ...] | None = None  # the plan's needs the table's ticks were made for
        self.download_thread: DownloadThread | None = None
        self.plan: MemoryPlan | None = None
        self.statuses: dict = {}  # component id -> ComponentStatus, from the last scan
        self.catalog_path: Path | None = None  # None: the built-in catalog (like the CLI's --catalog)
        self.resize(720, 420)  # the first view; "Choose files…" makes room for the list
        from .recommended_set import RecommendedSet

        self.recommended = RecommendedSet()
        self.recommended.download_requested.connect(self.download_recommended)
        self.recommended.details_toggled.connect(self.show_details)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setObjectName("planExplanation")
        # The plan as its residency table (the one Settings shows): per component where it lives,
        # its form and size, and the predicted VRAM/RAM peaks; the sentence is its tooltip.
        self.residency = ResidencyTable()
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("componentTable")
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self.update_totals)
        self.totals = QLabel()
        self.totals.setObjectName("downloadTotals")
        self.totals.setWordWrap(True)
        self.source = QComboBox()
        self.source.setObjectName("sourceCombo")
        for code in ("auto", "hf", "mirror", "modelscope"):
            self.source.addItem("", code)
        self.source.setCurrentIndex(max(0, self.source.findData(store.value.download_source)))
        if store.value.download_source == "hf" and current_language().startswith("zh"):
            # the default untouched in a Chinese UI: mainland users often cannot reach Hugging Face
            self.source.setCurrentIndex(self.source.findData("modelscope"))
        store.changed.connect(self._setting_changed)
        (self.download_button, self.pause_button, self.cancel_button, self.import_button, self.retry_button,
         self.close_button) = (QPushButton() for _ in range(6))
        for button, name in ((self.download_button, "downloadButton"), (self.pause_button, "pauseButton"),
                             (self.cancel_button, "cancelDownloadButton"), (self.import_button, "importButton"),
                             (self.retry_button, "retryButton"), (self.close_button, "closeButton")):
            button.setObjectName(name)
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.start_download)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self.import_comfyui)
        self.retry_button.clicked.connect(self.start_download)
        self.retry_button.hide()
        self.close_button.clicked.connect(self.close)
        self.file_label = QLabel()
        self.file_label.setObjectName("downloadDetail")
        self.total = QProgressBar()
        self.total.setObjectName("downloadProgress")
        self.status = StatusLine()
        self.status.setObjectName("downloadStatus")
        self.status.setWordWrap(True)
        self.source_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.source_label)
        row.addWidget(self.source, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.pause_button)
        row.addWidget(self.cancel_button)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.retry_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.import_button)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.residency)
        layout.addWidget(self.recommended)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        layout.addLayout(row)
        self.show_details(False)
        layout.addWidget(self.file_label)
        layout.addWidget(self.total)
        layout.addLayout(status_row)
        layout.addLayout(bottom)
        self.retranslate()
        self.refresh()
        self._set_running(False)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Model manager"))
        self.table.setHorizontalHeaderLabels([self.tr("Get"), self.tr("Component"), self.tr("Size"), self.tr("State")])
        mirror = self.tr("Hugging Face mirror (%1)").replace("%1", self.settings.hf_mirror)
        for i, text in enumerate((self.tr("Automatic (the fastest that answers)"), self.tr("Hugging Face"), mirror,
                                  self.tr("ModelScope (China)"))):
            self.source.setItemText(i, text)
        self.source_label.setText(self.tr("Source:"))
        self.download_button.setText(self.tr("Download selected"))
        self.pause_button.setText(self.tr("Pause"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.retry_button.setText(self.tr("Retry"))
        self.close_button.setText(self.tr("Close"))
        self.import_button.setText(self.tr("Use files from an existing ComfyUI folder…"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()  # the plan, component titles and states are written in the UI language
        super().changeEvent(event)

    def _catalog(self):
        from ..models.catalog import load_catalog

        return load_catalog(self.catalog_path)

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
        self.residency.show_plan(plan)
        if plan is None:
            self.explanation.setText(self.tr("Detecting this computer's graphics card and memory…"))
            self.residency.setToolTip("")
        else:
            # The planner's warnings (more RAM than the machine has, over the GPU budget) follow the table.
            self.explanation.setText("\n".join([self.tr("Recommended for this computer (%1): %2")
                                                 .replace("%1", plan.profile).replace("%2", plan_memory(plan)),
                                                 *(in_ui_language(w) for w in plan.warnings)]))
            self.residency.setToolTip(explain_plan(plan))
        catalog = self._catalog()
        status = scan(models_dir, catalog, HashCache(self.paths.hash_cache))
        self.statuses = {st.component.id: st for st in status}
        # The user's ticks stay while the recommendation is the same (a failed download's Retry, a language
        # switch); a new recommendation (machine detected, profile or folder changed) ticks what it needs.
        needs = tuple(plan.needs) if plan is not None else None
        kept = self._ticks() if needs is not None and needs == self._recommended else {}
        self._recommended = needs
        self.table.blockSignals(True)  # one totals update for the whole table, not one per cell
        self.table.setRowCount(len(status))
        for row, st in enumerate(status):
            check = QTableWidgetItem()
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            wanted = kept.get(st.component.id, plan is not None and st.component.id in plan.needs) and not st.installed
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
        self.table.blockSignals(False)
        for column in (0, 2, 3):
            self.table.resizeColumnToContents(column)
        self.update_totals()
        self._show_recommended()

    def update_totals(self) -> None:
        """What the selection downloads, what is already there, and whether the drive can take it."""
        models_dir = self.settings.models_path(self.paths)
        selected = set(self.selected_components())
        need = sum(st.missing_bytes for cid, st in self.statuses.items() if cid in selected)
        present = sum(f.size for st in self.statuses.values() for f in st.files)
        try:
            free: int | None = free_bytes(models_dir)
        except OSError:  # e.g. a drive that is not there (any more): the download will say so
            free = None
        text = (self.tr("Selected: %1 GB to download · already in the models folder: %2 GB · free on its drive: %3 GB")
                .replace("%1", f"{need / GB:.1f}").replace("%2", f"{present / GB:.1f}")
                .replace("%3", "?" if free is None else f"{free / GB:.1f}"))
        short = free is not None and need > 0 and need + DISK_MARGIN > free
        if short:
            text += "\n" + self.tr("Not enough free space: %1 GB more are needed on the drive of %2.") \
                .replace("%1", f"{(need + DISK_MARGIN - (free or 0)) / GB:.1f}").replace("%2", str(models_dir))
        self.totals.setText(text)
        self.totals.setStyleSheet("color: #c0392b;" if short else "")
        # nothing to start while nothing is selected (as during the detection) or a download runs
        self.download_button.setEnabled(bool(selected) and self.download_thread is None)

    def show_details(self, shown: bool) -> None:
        """The detailed list of files with its own download, behind "Choose files…"."""
        for widget in (self.table, self.totals, self.download_button):
            widget.setVisible(shown)
        if shown:
            self.resize(max(self.width(), 780), max(self.height(), 520))

    def recommended_bytes(self) -> int | None:
        """What the recommended set still lacks; None until the computer is detected."""
        if self.plan is None:
            return None
        return sum(st.missing_bytes for cid, st in self.statuses.items() if cid in self.plan.needs)

    def _show_recommended(self) -> None:
        self.download_button.setEnabled(bool(self.selected_components()) and self.download_thread is None)
        self.recommended.show_state(self.recommended_bytes(), str(self.settings.models_path(self.paths)),
                                    busy=self.download_thread is not None)

    def download_recommended(self) -> None:
        if self.plan is None:
            return
        for item in (self.table.item(r, 0) for r in range(self.table.rowCount())):
            wanted = item is not None and item.data(Qt.ItemDataRole.UserRole) in self.plan.needs
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
        self.start_download()

    def _ticks(self) -> dict[str, bool]:
        items = [self.table.item(r, 0) for r in range(self.table.rowCount())]
        return {i.data(Qt.ItemDataRole.UserRole): i.checkState() == Qt.CheckState.Checked for i in items if i}

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
        self.download_thread = DownloadThread(downloader, files, self)
        self.download_thread.progress.connect(self.on_progress)
        self.download_thread.done.connect(self.on_done)
        self.retry_button.hide()
        self.status.setToolTip("")
        self._set_running(True)
        self._tell(lambda: self.tr("Preparing the download…"))
        self.download_thread.start()

    def _set_running(self, running: bool) -> None:
        self._show_recommended()
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        if running:
            self.total.setRange(0, 0)  # busy until the first bytes tell how far along it is
        else:
            self.total.setRange(0, 1000)
            self.file_label.clear()

    def _tell(self, text) -> None:
        """The status line here (a tr() closure or an engine message, said again on a language
        switch), and the main window's while this dialog is hidden."""
        self.status.say(text)
        self.activity.emit(self.status.text())

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
        if e.kind == "checking":
            self._tell(lambda: self.tr("Checking the connection to the download sources…"))
        elif e.kind == "progress" and e.set_total:
            pct = int(e.set_done * 1000 / e.set_total)
            if self.total.maximum() == 0:  # the first bytes: from busy to a real bar
                self.total.setRange(0, 1000)
                self.status.say(lambda: self.tr("Downloading…"))
            self.total.setValue(pct)
            eta = time.strftime("%H:%M:%S", time.gmtime(e.set_eta_s)) if e.set_eta_s else "--:--:--"
            self.file_label.setText(self.tr("%1 of %2 GB · %3 MB/s · %4 left · %5")
                                    .replace("%1", f"{e.set_done / GB:.2f}").replace("%2", f"{e.set_total / GB:.2f}")
                                    .replace("%3", f"{e.set_speed / 1e6:.1f}").replace("%4", eta)
                                    .replace("%5", Path(e.file).name))
            self.activity.emit(self.tr("Downloading models: %1% · %2 left").replace("%1", str(pct // 10))
                               .replace("%2", eta))
        elif e.kind in ("source_failed", "file_failed", "notice"):
            self._tell(e.message)

    def on_done(self, report, error) -> None:
        self.download_thread = None
        self.pause_button.setText(self.tr("Pause"))
        self._set_running(False)
        if isinstance(error, SourcesUnreachable):  # offline: one message and a way to try again
            tried = ", ".join(error.reasons)
            self._tell(lambda: self.tr("No download source can be reached (tried: %1). Check the internet connection "
                                       "(or the proxy or mirror address), then press Retry. From mainland China, "
                                       "ModelScope or a Hugging Face mirror usually answers: choose it under Source.")
                       .replace("%1", tried))
            self.status.setToolTip(in_ui_language(error))
            self.retry_button.show()
        elif error is not None:
            self._tell(error)
        elif report is not None:
            failed = "; ".join(f"{k}: {in_ui_language(v)}" for k, v in report.failed.items())
            self._tell(failed or (lambda: self.tr("Download complete.")))
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

    def shutdown(self) -> None:
        """The app is quitting: stop a running download (what arrived is kept and resumes)."""
        if self.download_thread is not None:
            self.download_thread.downloader.cancel()
            # a connection attempt or the reachability probe ends on its own timeout, not on cancel;
            # a QThread destroyed while running aborts the process
            self.download_thread.wait(60_000)
