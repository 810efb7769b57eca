"""The queue: every running job (this computer's and each ComfyUI server's) on its own line with
where it runs, its own progress bar and its own Cancel, then the waiting jobs (each row with its
size, count and an empty progress track), with up, down, remove and cancel-all over the
GenerationController."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, SignalInstance
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QStyle, QStyledItemDelegate,
    QStyleOptionViewItem, QToolButton, QVBoxLayout, QWidget,
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


class RunningRow(QWidget):
    """One running job: where it runs and its prompt, its own progress bar, its own Cancel."""

    def __init__(self, job_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueRunning")
        self.job_id = job_id
        self.engine = ""
        self.run = RunProgress()
        self.label = QLabel()
        self.label.setObjectName("queueCurrentLabel")
        self.progress = QProgressBar()
        self.progress.setObjectName("queueCurrentProgress")
        self.progress.setMaximumHeight(self.fontMetrics().height())
        self.progress.setRange(0, BAR_MAX)
        self.cancel = QToolButton()
        self.cancel.setObjectName("queueCancelJob")
        self.cancel.setText("✕")
        self.cancel.setAutoRaise(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.label, 1)
        top.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        self.retranslate()

    def retranslate(self) -> None:
        self.cancel.setToolTip(translate("MainWindow", "Cancel this job"))
        self.cancel.setAccessibleName(translate("MainWindow", "Cancel this job"))
        self.show_progress()

    def start(self, e: JobStarted, width: int) -> None:
        assert e.request is not None
        self.engine = e.engine
        prompt = " ".join(e.request.prompt.split())
        if e.engine:  # where it runs: a ComfyUI server's name
            prompt = translate("MainWindow", "[%1] ").replace("%1", e.engine) + prompt
        self.label.setToolTip(prompt)
        self.label.setText(self.fontMetrics().elidedText(prompt, Qt.TextElideMode.ElideRight, max(80, width - 40)))
        self.run = RunProgress()
        self.run.follow(e)
        self.progress.setValue(0)
        self.cancel.setEnabled(True)
        self.show_progress()  # never the last job's "step 8/8"

    def show_progress(self) -> None:
        if not self.run.cancelling:
            self.progress.setValue(self.run.bar())
        self.progress.setFormat(self.run.text(with_eta=False))

    def cancelling(self) -> None:
        self.run.cancelling = True
        self.cancel.setEnabled(False)
        self.show_progress()


class QueuePanel(QWidget):
    def __init__(self, controller: GenerationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.controller = controller
        self.title = QLabel()
        self.rows: dict[int, RunningRow] = {}  # the jobs that run now (this computer and each server)
        self._latest = RunningRow(0)  # the row of the job started last (kept after it ends)
        self.current = QWidget()
        self.current.setObjectName("queueCurrent")
        self._running_layout = QVBoxLayout(self.current)
        self._running_layout.setContentsMargins(0, 0, 0, 0)
        self._running_layout.setSpacing(4)
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

    # The row of the job started last (the only one without servers): what the window's tests read.
    @property
    def running(self) -> int | None:
        return self._latest.job_id if self._latest.job_id in self.rows else None

    @property
    def current_label(self) -> QLabel:
        return self._latest.label

    @property
    def current_progress(self) -> QProgressBar:
        return self._latest.progress

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
        for row in self.rows.values():
            row.retranslate()

    def _cancelling(self) -> None:
        for row in self.rows.values():
            row.cancelling()

    def cancel_job(self, job_id: int) -> None:
        """The Cancel of one running row: that job stops, the others go on."""
        row = self.rows.get(job_id)
        if row is not None:
            row.cancelling()
        self.controller.cancel_job(job_id)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _row(self, job_id: int) -> RunningRow:
        row = self.rows.get(job_id)
        if row is None:
            row = self.rows[job_id] = RunningRow(job_id, self.current)
            row.cancel.clicked.connect(lambda: self.cancel_job(job_id))
            self._running_layout.addWidget(row)
        return row

    def _drop(self, job_id: int) -> None:
        row = self.rows.pop(job_id, None)
        if row is not None:
            self._running_layout.removeWidget(row)
            row.hide()
            if row is not self._latest:
                row.deleteLater()
        self.current.setVisible(any(not r.isHidden() for r in self.rows.values()))

    def _on_event(self, e: WorkerEvent) -> None:
        if isinstance(e, JobStarted) and e.request is not None:
            if self._latest.job_id not in self.rows and self._latest.parent() is not None:
                self._latest.deleteLater()  # the last finished job's row, kept until now
            row = self._latest = self._row(e.job_id)
            row.start(e, self.width())
            row.show()
            self.current.show()
        elif e.job_id in self.rows and self.rows[e.job_id].run.follow(e):
            row = self.rows[e.job_id]
            row.show_progress()
            row.show()  # a failed save is reported mid-job: the next step shows the row again
            self.current.show()
        elif isinstance(e, (JobFinished, JobCancelled)) and e.job_id in self.rows:
            self._drop(e.job_id)
        elif isinstance(e, Failed) and e.job_id in self.rows:
            if e.job_id in self.controller.running_jobs():
                self.rows[e.job_id].hide()
                self.current.setVisible(any(not r.isHidden() for r in self.rows.values()))
            else:  # the job ended there (or went back to the queue)
                self._drop(e.job_id)

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
