"""The main window's part that keeps the models folder usable: what is missing, the main button that
generates or gets models, the model manager and Settings dialogs.

A base class of MainWindow (ui/main_window.py, through ui/window_events.py), split off by responsibility to keep
that module readable; it reads the widgets MainWindow builds (declared below). The strings keep their
translation context "MainWindow" from before the split (lupdate collects translate("MainWindow", …));
``missing_models_text`` keeps the model manager's, "ModelManagerDialog".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMainWindow, QPushButton

from ..config import Paths, Settings
from ..models.readiness import Readiness, check_models
from .status_line import StatusLine, in_ui_language

if TYPE_CHECKING:
    from .controller import GenerationController
    from .parameters_form import ParametersForm
    from .queue_panel import QueuePanel
    from .remote_engines import RemoteEngines
    from .settings_store import SettingsStore

translate = QCoreApplication.translate


def missing_models_text(readiness: Readiness) -> str:
    """Why the window cannot generate yet, naming the parts to get (for its status line)."""
    hint = translate("ModelManagerDialog",
                     "Use “Get models…” to download them or to use the files of an existing ComfyUI folder.")
    if readiness.missing:
        names = {"transformer": translate("ModelManagerDialog", "the transformer (diffusion model)"),
                 "text_encoder": translate("ModelManagerDialog", "the text encoder"),
                 "vae": translate("ModelManagerDialog", "the VAE"),
                 "configs": translate("ModelManagerDialog", "the configuration files")}
        return translate("ModelManagerDialog", "Cannot generate yet: the models folder lacks %1.").replace(
            "%1", translate("ModelManagerDialog", ", ").join(names[part] for part in readiness.missing)) + " " + hint
    return (translate("ModelManagerDialog", "Cannot generate yet: %1").replace("%1", in_ui_language(readiness.problem))
            + " " + hint)


class ModelsState(QMainWindow):
    paths: Paths
    store: SettingsStore
    controller: GenerationController
    status: StatusLine
    form: ParametersForm
    queue: QueuePanel
    generate_button: QPushButton
    remote_engines: RemoteEngines
    readiness: Readiness
    machine: object | None
    generate: Callable[[], None]
    on_worker_event: Callable[[Any], None]

    @property
    def settings(self) -> Settings:
        return self.store.value

    def first_run(self) -> None:
        self.refresh_models_state()
        from ..models.readiness import PARTS

        if set(self.readiness.missing) == set(PARTS):
            self.status.say(lambda: translate("MainWindow", "No model files yet: choose what to download."))
        else:  # a half-filled folder: name what is missing, as the CLI does
            self.status.say(self._what_is_missing)
        self.open_model_manager()

    def refresh_models_state(self) -> None:
        """Until the models folder can generate, the main button gets models instead."""
        self.readiness = check_models(self.store.models_path())
        self._show_main_action()
        self.form.tokens.refresh()  # a stat; the tokenizer itself is read on a thread
        self.form.loras.refresh()  # file headers only
        self._show_model_fields()

    def _show_model_fields(self) -> None:
        """Negative prompt and CFG for a model that uses them (Z-Image base), its default steps."""
        from ..engine.model_files import installed_architecture, transformer_choices

        models = self.store.models_path()
        self.form.set_models(transformer_choices(models), installed_architecture(models))

    def _show_main_action(self) -> None:
        self.generate_button.setText(translate("MainWindow", "Generate  (Ctrl+Enter)") if self.readiness.usable
                                     else translate("MainWindow", "Get models…"))
        self.generate_button.setToolTip("" if self.readiness.usable else self._what_is_missing())

    def _main_action(self) -> None:
        if self.readiness.usable:
            self.generate()
        else:
            self.status.say(self._what_is_missing)
            self.open_model_manager()

    def _what_is_missing(self) -> str:
        return missing_models_text(self.readiness)

    def open_model_manager(self) -> None:
        from .model_manager_dialog import ModelManagerDialog

        dialog = getattr(self, "_model_dialog", None)
        if dialog is None:
            dialog = self._model_dialog = ModelManagerDialog(self.paths, self.store, self.machine, self)
            dialog.models_changed.connect(self.controller.request_reload)
            dialog.models_changed.connect(self.refresh_models_state)
            dialog.activity.connect(lambda text: None if dialog.isVisible() else self.status.say(text))
        dialog.show()
        dialog.raise_()

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.paths, self.settings, self.machine, self)
        if dialog.exec():
            self.store.update(**dialog.changes())
            if dialog.engines.save():  # the engine list changed: its workers start again
                self.remote_engines.start(self.on_worker_event, self.queue.on_worker_event)
