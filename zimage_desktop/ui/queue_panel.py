"""The waiting jobs: a list with up, down, remove and cancel-all, over the GenerationController."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from .controller import GenerationController, Job


# lupdate collects translate("MainWindow", …): the strings keep their context from before the split
translate = QCoreApplication.translate


class QueuePanel(QWidget):
    def __init__(self, controller: GenerationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.title = QLabel()
        self.list = QListWidget()
        self.list.setObjectName("queueList")
        self.up, self.down, self.remove, self.cancel_all = (QPushButton() for _ in range(4))
        self.up.clicked.connect(lambda: self._move_selected(-1))
        self.down.clicked.connect(lambda: self._move_selected(1))
        self.remove.clicked.connect(self._remove_selected)
        self.cancel_all.clicked.connect(controller.cancel_all)
        buttons = QHBoxLayout()
        for button in (self.up, self.down, self.remove, self.cancel_all):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        controller.queue_changed.connect(self.show_jobs)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(translate("MainWindow", "Queue"))
        self.up.setText(translate("MainWindow", "Up"))
        self.down.setText(translate("MainWindow", "Down"))
        self.remove.setText(translate("MainWindow", "Remove"))
        self.cancel_all.setText(translate("MainWindow", "Cancel all"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def selected_job(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _move_selected(self, delta: int) -> None:
        job = self.selected_job()
        if job is not None:
            self.controller.move(job, delta)

    def _remove_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self.controller.remove(job)

    def show_jobs(self, jobs: tuple[Job, ...]) -> None:
        selected = self.selected_job()
        self.list.clear()
        for job in jobs:
            r = job.request
            item = QListWidgetItem(f"{r.prompt[:40]}  ·  {r.width}×{r.height} ×{r.count}")
            item.setData(Qt.ItemDataRole.UserRole, job.id)
            self.list.addItem(item)
            if job.id == selected:
                self.list.setCurrentItem(item)
