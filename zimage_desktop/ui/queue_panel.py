"""The queue: the running job with its own progress bar, then the waiting jobs (each row with its
size, count and an empty progress track), with up, down, remove and cancel-all over the
GenerationController."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, SignalInstance
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QStyle, QStyledItemDelegate,
    QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from .controller import GenerationController, Job
from .progress_text import BAR_MAX, RunProgress
from .worker import Failed, JobCancelled, JobFinished, JobStarted, WorkerEvent


# lupdate collects translate("MainWindow", …): the strings keep their context from before the split
translate = QCoreApplication.translate
JOB_ROLE = Qt.ItemDataRole.UserRole + 1  # the Job itself


def describe(job: Job) -> str:
    r = job.request
    return f"{r.width}×{r.height} · {r.steps} " + translate("MainWindow", "steps") + f" · ×{r.count}"


class JobDelegate(QStyledItemDelegate):
    """Two compact lines per waiting job: the prompt, then its size and a progress track at 0."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        line = option.fontMetrics.height()
        return QSize(120, 2 * line + 10)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        job: Job = index.data(JOB_ROLE)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(option.rect, option.palette.highlight())
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(option.palette.color(role))
        metrics, rect = option.fontMetrics, option.rect.adjusted(6, 4, -6, -4)
        line = metrics.height()
        prompt = metrics.elidedText(" ".join(job.request.prompt.split()), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line), Qt.AlignmentFlag.AlignLeft, prompt)
        waiting = translate("MainWindow", "waiting")
        info = metrics.elidedText(f"{describe(job)} · {waiting}", Qt.TextElideMode.ElideRight, rect.width() - 48)
        second = QRect(rect.left(), rect.top() + line, rect.width(), line)
        painter.drawText(second, Qt.AlignmentFlag.AlignLeft, info)
        start = metrics.horizontalAdvance(info) + 8  # the progress still to come: an empty track
        track = QRect(rect.left() + start, second.center().y() - 2, rect.width() - start, 4)
        colour = option.palette.color(QPalette.ColorRole.PlaceholderText)
        colour.setAlphaF(0.35)
        painter.fillRect(track, colour)
        painter.restore()


class QueuePanel(QWidget):
    def __init__(self, controller: GenerationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.controller = controller
        self.title = QLabel()
        self.running: int | None = None  # the id of the job that runs now
        self.run = RunProgress()
        self.current = QWidget()
        self.current.setObjectName("queueCurrent")
        self.current_label = QLabel()
        self.current_label.setObjectName("queueCurrentLabel")
        self.current_progress = QProgressBar()
        self.current_progress.setObjectName("queueCurrentProgress")
        self.current_progress.setMaximumHeight(self.fontMetrics().height())
        current = QVBoxLayout(self.current)
        current.setContentsMargins(0, 0, 0, 0)
        current.setSpacing(2)
        current.addWidget(self.current_label)
        current.addWidget(self.current_progress)
        self.current.hide()
        self.list = QListWidget()
        self.list.setObjectName("queueList")
        self.list.setItemDelegate(JobDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.up, self.down, self.remove, self.cancel_all = (QPushButton() for _ in range(4))
        self.up.clicked.connect(lambda: self._move_selected(-1))
        self.down.clicked.connect(lambda: self._move_selected(1))
        self.remove.clicked.connect(self._remove_selected)
        self.cancel_all.clicked.connect(controller.cancel_all)
        self.cancel_all.clicked.connect(self._cancelling)
        buttons = QHBoxLayout()
        for button in (self.up, self.down, self.remove, self.cancel_all):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.current)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        controller.queue_changed.connect(self.show_jobs)
        self.retranslate()

    def track(self, events: SignalInstance) -> None:
        """Follow the worker's events to show the running job's progress."""
        events.connect(self._on_event)

    def on_worker_event(self, e: WorkerEvent) -> None:
        """The same for events of another worker (a ComfyUI server's, ui/remote_worker.py)."""
        self._on_event(e)

    def retranslate(self) -> None:
        self.title.setText(translate("MainWindow", "Queue"))
        self.up.setText(translate("MainWindow", "Up"))
        self.down.setText(translate("MainWindow", "Down"))
        self.remove.setText(translate("MainWindow", "Remove"))
        self.cancel_all.setText(translate("MainWindow", "Cancel all"))
        self.list.viewport().update()
        if self.running is not None:
            self.current_progress.setFormat(self.run.text(with_eta=False))

    def _cancelling(self) -> None:
        if self.running is not None:
            self.run.cancelling = True
            self.current_progress.setFormat(self.run.text(with_eta=False))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _on_event(self, e: WorkerEvent) -> None:
        if isinstance(e, JobStarted) and e.request is not None:
            self.running = e.job_id
            prompt = " ".join(e.request.prompt.split())
            if e.engine:  # where it runs: a ComfyUI server's name
                prompt = translate("MainWindow", "[%1] ").replace("%1", e.engine) + prompt
            self.current_label.setToolTip(prompt)
            self.current_label.setText(self.fontMetrics().elidedText(
                prompt, Qt.TextElideMode.ElideRight, max(80, self.width())))
            self.run.follow(e)
            self.current_progress.setRange(0, BAR_MAX)
            self.current_progress.setValue(0)
            self.current_progress.setFormat(self.run.text(with_eta=False))  # never the last job's "step 8/8"
            self.current.show()
        elif e.job_id == self.running and self.run.follow(e):
            if not self.run.cancelling:
                self.current_progress.setValue(self.run.bar())
                self.current_progress.setFormat(self.run.text(with_eta=False))
            self.current.show()
        elif isinstance(e, (JobFinished, JobCancelled, Failed)) and e.job_id == self.running:
            # a failed save is reported mid-job: the next step shows the row again
            self.current.hide()
            if not isinstance(e, Failed):
                self.running = None

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

    def show_jobs(self, _jobs: tuple[Job, ...] = ()) -> None:
        # The queue as it is now: a snapshot sent from the worker thread when it took a job can
        # arrive after a newer one sent here (a job submitted meanwhile would vanish from the list).
        selected = self.selected_job()
        self.list.clear()
        for job in self.controller.queued():
            item = QListWidgetItem(job.request.prompt[:40])
            item.setData(Qt.ItemDataRole.UserRole, job.id)
            item.setData(JOB_ROLE, job)
            item.setToolTip(f"{job.request.prompt}\n{describe(job)}")
            self.list.addItem(item)
            if job.id == selected:
                self.list.setCurrentItem(item)
