"""The main window's part that follows the worker: each event (machine probed, loading, steps, images,
cancel, failure, the enhancer's text) shown on the canvas, the progress bar and the status line.

A base class of MainWindow (ui/main_window.py), split off by responsibility to keep that module readable;
it reads the widgets MainWindow builds (declared below). The strings keep their translation context
"MainWindow" from before the split (lupdate collects translate("MainWindow", …)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QProgressBar

from .plan_text import explain_plan
from .progress_text import BAR_MAX, RunProgress
from .status_line import StatusLine, in_ui_language
from .window_models import ModelsState
from .worker import (
    EnhanceDone, EnhanceStarted, EnhanceText, Failed, ImageDone, JobCancelled, JobFinished, JobStarted, Loaded,
    Loading, MachineProbed, StepDone, WorkerEvent,
)

if TYPE_CHECKING:
    from ..engine.planner import MemoryPlan
    from .canvas import CanvasPanel
    from .enhance_flow import EnhanceFlow
    from .enhance_panel import EnhancePanel
    from .history_actions import HistoryActions
    from .preview_view import PreviewView

translate = QCoreApplication.translate


class WorkerEvents(ModelsState):
    status: StatusLine
    plan_label: StatusLine
    progress: QProgressBar
    run: RunProgress
    canvas: CanvasPanel
    preview: PreviewView
    history: HistoryActions
    enhancer: EnhanceFlow
    scene_enhancer: EnhanceFlow
    enhance_panel: EnhancePanel
    _closing: bool
    _handlers: dict[type, Callable[[Any], None]]

    def on_worker_event(self, e: WorkerEvent) -> None:
        self._handlers[type(e)](e)

    def _on_machine(self, e: MachineProbed) -> None:
        self.machine = e.machine
        dialog = getattr(self, "_model_dialog", None)
        if dialog is not None:
            dialog.set_machine(e.machine)

    def _on_loading(self, e: Loading) -> None:
        self.progress.setRange(0, 0)
        self.status.say(lambda: translate("MainWindow", "Loading the model…"))

    def _on_loaded(self, e: Loaded) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.say(lambda: translate("MainWindow", "Model ready: %1")
                        .replace("%1", explain_plan(e.plan) if e.plan else e.message))
        self.show_plan(e.plan)
        if not self.readiness.usable:
            self.refresh_models_state()
        self.form.tokens.refresh()  # the prompt's count becomes exact with the loaded model's tokenizer
        self.form.tokens.set_limit(e.token_limit)
        self._show_model_fields()

    def show_plan(self, plan: MemoryPlan | None) -> None:
        """The engine's plan as it is now, in the UI language (said again on a language switch)."""
        if plan is not None:
            self.plan_label.say(lambda: translate("MainWindow", "Memory plan: %1").replace("%1", explain_plan(plan)))
            self.plan_label.setToolTip(translate("MainWindow", "How the model is held in memory and its "
                                                 "predicted peak for a 1024×1024 image, with the LoRAs in use."))
            from ..engine.sizes import drafts_useful

            self.form.size_combo.set_drafts(drafts_useful(plan.device, plan.offload))  # a slow plan: drafts first

    def _on_started(self, e: JobStarted) -> None:
        if e.request is not None:
            self.canvas.job_started(e.request.width, e.request.height)
        self.run.follow(e)
        self.progress.setRange(0, BAR_MAX)
        self.progress.setValue(0)
        self.status.say(self.run.text)

    def _on_stage(self, e: WorkerEvent) -> None:
        if self.run.follow(e) and not self.run.cancelling:
            self.progress.setValue(self.run.bar())
            self.status.say(self.run.text)

    def _on_step(self, e: StepDone) -> None:
        if e.preview is not None:
            self.preview.show_image(e.preview)
            self.controller.preview_shown()
        self._on_stage(e)

    def cancel_current(self) -> None:
        self.controller.cancel_current()
        self._cancelling()

    def _cancelling(self) -> None:
        """Say at once that a cancel was heard: the engine stops only after its current step."""
        if self.run.job_id is not None:
            self.run.cancelling = True
            self.status.say(self.run.text)

    def _on_image(self, e: ImageDone) -> None:
        self.history.last_image, self.history.last_path, self.form.last_seed = e.image, e.path, e.seed
        if self.history.gallery is not None:
            self.history.gallery.refresh()
        self.canvas.set_result(e.image)
        self.status.say(lambda: translate("MainWindow", "Done: seed %1, saved to %2").replace("%1", str(e.seed))
                        .replace("%2", e.path or translate("MainWindow", "(not saved)"))
                        + (f" ({in_ui_language(e.message)})" if e.message else ""))

    def _on_finished(self, e: JobFinished) -> None:
        self.run.job_id = None
        self.progress.setValue(self.progress.maximum())

    def _on_cancelled(self, e: JobCancelled) -> None:
        self.run.job_id = None
        self.status.say(lambda: translate("MainWindow", "Cancelled."))
        self.progress.setValue(0)

    def _on_enhance_event(self, e: WorkerEvent) -> None:
        for flow in (self.enhancer, self.scene_enhancer):
            flow.handle(e)
        # the window's bar follows the rewrite too, instead of sitting at "0%"
        if isinstance(e, EnhanceStarted):
            self.progress.setRange(0, 0)
        elif isinstance(e, EnhanceText) and e.tokens:
            panel = self.scene_enhancer.panel if self.scene_enhancer.owns(e) else self.enhance_panel
            self.progress.setRange(0, max(panel.max_tokens, e.tokens))
            self.progress.setValue(e.tokens)
            self.progress.setFormat(panel.progress.format())
        elif isinstance(e, EnhanceDone):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.resetFormat()

    def _on_failed(self, e: Failed) -> None:
        for flow in (self.enhancer, self.scene_enhancer):
            flow.failed(e)
        self.progress.setRange(0, 1)
        self.progress.resetFormat()
        if e.job_id == self.run.job_id and e.ends_job:
            self.run.job_id = None
        self.show_error(e)

    def show_error(self, e: Failed) -> None:
        """The status line always; a window-modal box that does not block the event loop."""
        self.status.say(e.message)
        if self._closing:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, translate("MainWindow", "Something went wrong"), in_ui_language(e.message),
                          parent=self)
        box.setObjectName("errorBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if e.details:
            box.setDetailedText(e.details)
        if e.lighter_profile:
            lighter = box.addButton(translate("MainWindow", "Use the %1 profile").replace("%1", e.lighter_profile),
                                    QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Close)
            profile = e.lighter_profile
            box.buttonClicked.connect(lambda button: self.apply_profile(profile) if button is lighter else None)
        box.open()

    def apply_profile(self, profile: str) -> None:
        self.store.update(profile=profile)
