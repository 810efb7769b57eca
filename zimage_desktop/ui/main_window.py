"""The main window: the parameters beside the canvas, the queue under the parameters and the history under the canvas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout, QProgressBar, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from ..config import Paths
from ..engine.request import GenerationRequest
from ..engine.request_builder import RequestBuilder
from ..errors import BadInputError
from ..models.readiness import Readiness
from .history_actions import HistoryActions
from .last_session import LastSession
from .parameters_form import ParametersForm
from .canvas import CanvasPanel
from .preview_view import PreviewView
from .panes import MainPanes, prompt_page
from .menus import MainMenus
from .queue_panel import QueuePanel
from .controller import GenerationController
from .enhance_flow import EnhanceFlow
from .settings_store import SettingsStore
from .status_line import StatusLine, in_ui_language
from .translations import current_language
from .window_events import WorkerEvents
from .worker import (
    EnhanceDone, EnhanceStarted, EnhanceText, Failed, GenerationWorker, ImageDone, JobCancelled, JobFinished,
    JobStarted, Loaded, Loading, MachineProbed, PlanChanged, StageChanged, StepDone,
)
from .progress_text import RunProgress

if TYPE_CHECKING:
    from .gallery import GalleryView


WORKER_STOP_MS = 120_000


class MainWindow(WorkerEvents):
    language_requested = Signal(str)
    status: StatusLine

    def __init__(self, paths: Paths, store: SettingsStore, controller: GenerationController,
                 worker: GenerationWorker) -> None:
        super().__init__()
        self.paths, self.store, self.controller, self.worker = paths, store, controller, worker
        self.history = HistoryActions(paths, self)
        self._connect_history()
        self.dropped_read = self.history.dropped_read
        self.shown_after_s = 0.0  # set by app.run_app
        self.machine: object | None = None  # MachineInfo, probed by the worker thread
        self._closing = False
        self.readiness: Readiness = Readiness()  # until first_run says otherwise, the models are assumed usable
        self._handlers: dict[type, Callable[[Any], None]] = {
            MachineProbed: self._on_machine, Loading: self._on_loading, Loaded: self._on_loaded,
            JobStarted: self._on_started, StepDone: self._on_step, ImageDone: self._on_image,
            JobFinished: self._on_finished, JobCancelled: self._on_cancelled, Failed: self._on_failed,
            StageChanged: self._on_stage, PlanChanged: lambda e: self.show_plan(e.plan),
        }
        self.run = RunProgress()  # the running job's stage and time left
        self._build()
        for kind in (EnhanceStarted, EnhanceText, EnhanceDone):
            self._handlers[kind] = self._on_enhance_event
        self.retranslate()
        self.session = LastSession(paths.session, self)  # the last prompt and image, back after a restart
        self.session.image_read.connect(self._show_last_image)
        self._restore_session()
        worker.worker_event.connect(self.on_worker_event)
        from .remote_engines import RemoteEngines

        self.remote_engines = RemoteEngines(paths, controller, self)  # ComfyUI servers from Settings ▸ Engines
        self.remote_engines.start(self.on_worker_event, self.queue.on_worker_event)
        store.changed.connect(self._setting_changed)
        self.prompt.setFocus()

    # -- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.resize(1180, 760)
        self.form = form = ParametersForm()
        # the names the menus, the history actions and the tests use
        self.prompt, self.enhance_button, self.enhance_panel = form.prompt, form.enhance_button, form.enhance_panel
        self.size_combo, self.width_spin, self.height_spin = form.size_combo, form.width_spin, form.height_spin
        self.steps_spin, self.seed_spin, self.seed_random = form.steps_spin, form.seed_spin, form.seed_random
        self.count_spin, self.labels = form.count_spin, form.labels
        self.prompt.submitted.connect(self.generate)
        self.enhancer = EnhanceFlow(self.prompt, self.enhance_panel, self.controller, self)
        self.enhancer.status.connect(lambda text: self.status.say(text))
        self.enhance_button.clicked.connect(self.enhancer.enhance)
        form.model_button.clicked.connect(self.open_model_manager)
        form.tokens.models_dir = lambda: self.settings.models_path(self.paths)
        form.loras.models_dir = form.tokens.models_dir
        form.loras.refresh()
        form.control.models_dir = lambda: self.settings.models_path(self.paths)
        form.control.canvas_image = lambda: self.history.last_image
        self.generate_button = QPushButton()
        self.generate_button.setObjectName("generateButton")
        self.generate_button.clicked.connect(self._main_action)
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel_current)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        self.queue = QueuePanel(self.controller)
        self.queue.track(self.worker.worker_event)
        self.queue_list, self.queue_remove = self.queue.list, self.queue.remove
        self.queue.cancel_all.clicked.connect(self._cancelling)
        from .poster import PosterPanel

        self.poster = PosterPanel(self.paths.data / "poster_templates", current_language(), tokens=form.tokens)
        self.poster.builder = self.requests
        self.poster.generate_requested.connect(lambda request: self.submit(request, self.next_parent_id))
        self.poster.status.connect(lambda text: self.status.say(text))
        self.scene_enhancer = EnhanceFlow(self.poster.scene, self.poster.scene_panel, self.controller, self,
                                          target="scene")
        self.scene_enhancer.status.connect(lambda text: self.status.say(text))
        self.poster.enhance_scene.clicked.connect(self.scene_enhancer.enhance)
        self.mode_tabs = QTabWidget()
        self.mode_tabs.setObjectName("modeTabs")
        self.mode_tabs.addTab(prompt_page(form, buttons), "")
        self.mode_tabs.addTab(self.poster.scroll_area(), "")

        center = QWidget()
        col = QVBoxLayout(center)
        col.setContentsMargins(0, 0, 0, 0)
        self.preview = PreviewView()
        self.canvas = CanvasPanel(self.preview)
        self.canvas.status.connect(lambda text: self.status.say(text))
        self.canvas.history_image = self._selected_history_image
        from .edit_flow import EditFlow

        self.edit = EditFlow(self)  # the Edit tab and the mask/outpaint tools on the canvas
        self.form.control.attach_canvas(self.preview)  # the scribble drawn on the canvas
        self.poster.glyphs.attach_canvas(self.preview, self.poster.page)  # the text boxes moved on the canvas
        self.mode_tabs.addTab(self.edit.page, "")
        self.canvas.edit_requested.connect(self.edit.edit_canvas_result)
        self.progress = QProgressBar()
        self.progress.setObjectName("progressBar")
        self.status = StatusLine()
        self.status.setObjectName("statusLabel")
        self.status.setWordWrap(True)
        # The loaded engine's plan, kept current as requests change its figures (a LoRA set): the
        # status line below says each job's progress and result, this line what the memory plan is now.
        self.plan_label = StatusLine()
        self.plan_label.setObjectName("planLabel")
        self.plan_label.setWordWrap(True)
        self.plan_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # secondary text, either theme
        col.addWidget(self.canvas, 1)
        col.addWidget(self.progress)
        col.addWidget(self.status)
        col.addWidget(self.plan_label)
        self.history.build_gallery()
        self.edit.attach_history()
        self.panes = MainPanes(self, self.paths.window_state, tabs=self.mode_tabs, queue=self.queue, center=center,
                               gallery=self.gallery)
        self._build_menus()
        self.setAcceptDrops(True)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel_current)
        # Ctrl+Enter queues from anywhere in the window: the prompt tab's request or the poster's.
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.generate_current)
        # Ctrl+E rewrites what the current tab describes: the prompt, or the poster's scene.
        QShortcut(QKeySequence("Ctrl+E"), self,
                  lambda: (self.scene_enhancer if self.mode_tabs.currentIndex() == 1 else self.enhancer).enhance())

    def _connect_history(self) -> None:
        """What HistoryActions asks of the window (it knows nothing of the window's parts)."""
        h = self.history
        h.status.connect(lambda text: self.status.say(text))
        h.apply_requested.connect(self.apply_request)
        h.poster_requested.connect(self._restore_poster)
        h.rerun_requested.connect(lambda record, vary: self.submit(self.requests().rerun(record.request, vary), record.id))
        h.edit_requested.connect(lambda record: self.edit.edit_record(record))
        h.edit_file_requested.connect(lambda path: self.edit.open_file(path))
        h.edit_recall_requested.connect(lambda request: self.edit.recall(request))
        h.compare_requested.connect(lambda: self.canvas.compare_with_history())
        h.lora_dropped.connect(self._offer_lora)
        h.fields_requested.connect(self.apply_fields)

    def _restore_poster(self, request: GenerationRequest) -> None:
        from ..poster.compose import PosterSpec

        self.poster.set_spec(PosterSpec.from_dict(request.extra["poster"]), prompt=request.prompt)
        self.poster.glyphs.apply(request.controls, request.extra)  # after set_spec: its layout resets boxes
        self.mode_tabs.setCurrentIndex(1)

    def _offer_lora(self, path) -> None:
        said = self.form.loras.offer_import(path)
        if said:
            self.status.say(lambda: said)

    def _restore_session(self) -> None:
        """The prompt left in the box at the last close, and the newest image on the canvas."""
        prompt = self.session.prompt()
        if prompt and not self.prompt.toPlainText():
            self.prompt.setPlainText(prompt)
            self.prompt.moveCursor(self.prompt.textCursor().MoveOperation.End)
        newest = self.gallery.store.page(0, 1) if self.gallery is not None else []
        if newest:
            self._last_record = newest[0]
            self.session.read_image(str(newest[0].path))

    def _show_last_image(self, path: str, image: QImage | None) -> None:
        if image is None or self.history.last_image is not None:  # gone, or a new image came first
            return
        self.history.last_image, self.history.last_path = image, path
        self.form.last_seed = self._last_record.request.seed  # "Reuse last" works after a restart too
        self.canvas.set_result(image)

    def _selected_history_image(self) -> QImage | None:
        records = self.gallery.selected() if self.gallery is not None else []
        if not records:
            return None
        image = QImage(records[0].path)
        return None if image.isNull() else image

    def _build_menus(self) -> None:
        self.menus = MainMenus(self, save=self.save_as, open_folder=self.history.open_folder, copy=self.history.copy_image,
                               actual_size=self.preview.set_actual_size, models=self.open_model_manager,
                               settings=self.open_settings, language=self.language_requested.emit,
                               zoom=self.preview, theme=lambda theme: self.store.update(theme=theme),
                               panes=self.panes, open_log=self.open_log_folder)

    def open_log_folder(self) -> None:
        """Help → Open log folder: the app log (warnings, tracebacks) for a bug report."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        self.paths.logs.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.paths.logs)))

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Z-Image Desktop"))
        self.mode_tabs.setTabText(0, self.tr("Prompt"))
        self.mode_tabs.setTabText(1, self.tr("Poster"))
        self.mode_tabs.setTabText(2, self.tr("Edit"))
        self.form.retranslate()
        self._show_main_action()
        self.cancel_button.setText(self.tr("Cancel  (Esc)"))
        self.menus.retranslate(self.settings.language, self.settings.theme)
        self.preview.set_placeholder(self.tr("Your image appears here, step by step."))
        if not self.status.text():
            self.status.say(lambda: self.tr("Ready."))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- inputs ---------------------------------------------------------------------------

    def requests(self) -> RequestBuilder:
        """Builds every request of the window with the settings as they are now."""
        return RequestBuilder(profile=self.settings.profile)

    def build_request(self) -> GenerationRequest:
        text = self.prompt.toPlainText()
        return self.requests().new(text, original_prompt=self.enhancer.original_for(text), **self.form.values())

    def _match_loras(self, loras: tuple) -> tuple[tuple, tuple[str, ...]]:
        """Recalled LoRAs looked up in the loras folder by name, else by hash; the missing ones named."""
        from ..engine.loras import match_loras
        from ..models.hashing import HashCache

        self.form.loras.refresh()
        found, missing = match_loras(self.settings.models_path(self.paths), tuple(loras), HashCache(self.paths.hash_cache))
        return found, tuple(missing)

    def apply_request(self, request: GenerationRequest, notes: tuple[str, ...] = ()) -> None:
        """Fill the editor from a past request (history, or a dropped PNG), its LoRAs matched here."""
        from dataclasses import replace

        if request.loras:
            found, missing = self._match_loras(request.loras)
            request, notes = replace(request, loras=found), tuple(notes) + missing
        self.form.apply(request)
        self.enhancer.remember(request.prompt, request.original_prompt)
        self._say_restored(notes)

    def apply_fields(self, found, fields: frozenset[str]) -> None:
        """Partial recall: only the chosen fields of a read file into the form."""
        values, notes = dict(found.values), tuple(found.notes)
        if "loras" in fields and values.get("loras"):
            values["loras"], missing = self._match_loras(values["loras"])
            notes += missing
        self.form.apply_fields(values, fields)
        self._say_restored(notes)

    def _say_restored(self, notes: tuple[str, ...]) -> None:
        self.status.say(lambda: self.tr("Parameters restored.") + "".join("  " + in_ui_language(n) for n in notes))

    def generate(self) -> None:
        if not self.readiness.usable:
            self.status.say(self._what_is_missing)
            return
        try:
            request = self.build_request()
        except BadInputError as exc:
            self.status.say(exc)
            return
        self.prompt.remember(request.prompt)
        self.session.save(request.prompt)
        self.submit(request, self.next_parent_id)

    def generate_current(self) -> None:
        """Ctrl+Enter: what the visible tab would generate."""
        if self.mode_tabs.currentIndex() == 1:
            self.poster.generate_now(count=1)  # the plain Generate, as its button says
        else:
            self.generate()

    def submit(self, request: GenerationRequest, parent_id: int | None) -> bool:
        """Queue a request from any part of the window (prompt, poster, gallery), unless the models
        folder cannot generate yet: then say what is missing instead of failing in the engine."""
        if not self.readiness.usable:
            self.status.say(self._what_is_missing)
            return False
        self.controller.submit(request, parent_id=parent_id)
        return True

    # -- history: what HistoryActions does, under the names the menus and tests use -----------

    @property
    def gallery(self) -> GalleryView | None:
        return self.history.gallery

    @property
    def next_parent_id(self) -> int | None:
        return self.history.next_parent_id

    def use_record(self, record) -> None:
        self.history.use_record(record)

    def save_as(self, name: str = "") -> None:
        self.history.save_as(name)

    def dragEnterEvent(self, event) -> None:
        self.history.drag_enter(event)

    def dropEvent(self, event) -> None:
        canvas = self.canvas
        self.history.drop(event, canvas.rect().contains(canvas.mapFrom(self, event.position().toPoint())))

    # -- settings (the worker events: window_events.py; the models folder: window_models.py) ---------

    def _setting_changed(self, key: str) -> None:
        if key == "language":
            self.menus.check_language(self.settings.language)
        elif key == "models_dir":
            self.refresh_models_state()
        elif key == "theme":
            self.menus.check_theme(self.settings.theme)

    def closeEvent(self, event) -> None:
        self._closing = True
        self.session.save(self.prompt.toPlainText())
        self.panes.save()
        # The worker ends after its current step, or after a model load or hardware probe that cannot
        # be interrupted; Qt aborts the process if a running thread is destroyed, so wait for it —
        # with the window already gone from the screen.
        self.hide()
        QGuiApplication.sync()  # the window leaves the screen now, not after the wait
        self.worker.stop(WORKER_STOP_MS)
        self.remote_engines.stop()
        if getattr(self, "_model_dialog", None) is not None:
            self._model_dialog.shutdown()
        if self.gallery is not None:
            self.gallery.shutdown()
        super().closeEvent(event)

