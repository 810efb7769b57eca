"""Start the desktop app: the window first, the heavy engine afterwards in its worker thread."""

from __future__ import annotations

import os
import sys
import time
from typing import cast

STARTED = time.perf_counter()


# Settings whose change means loading the model again.
ENGINE_SETTINGS = frozenset({"models_dir", "device", "profile", "previews"})


def run_app(data_dir: str | None = None, *, exec_loop: bool = True):
    """Open the main window; returns the exit code (or the window when ``exec_loop`` is false)."""
    from PySide6.QtWidgets import QApplication

    from .config import Paths
    from .ui.controller import GenerationController
    from .ui.translations import Translations
    from .ui.main_window import MainWindow
    from .ui.settings_store import SettingsStore
    from .ui.theme import ThemeController
    from .ui.worker import GenerationWorker, models_ready

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Z-Image Desktop")
    app.setOrganizationName("zimage-desktop")
    paths = Paths.resolve(data_dir)
    from .app_log import install_app_log

    install_app_log(paths.logs)
    store = SettingsStore(paths)
    translations = Translations.for_app(app)
    translations.apply(store.value.language)
    ThemeController(cast(QApplication, app), store)  # before the window: it opens in the right colours
    controller = GenerationController()
    worker = GenerationWorker(paths, store, controller)
    window = MainWindow(paths, store, controller, worker)
    for owned in (store, controller):
        owned.setParent(window)  # they live as long as the window
    window.poster.set_language(translations.current)  # the resolved language, never "system"

    def setting_changed(key: str) -> None:
        if key == "language":
            translations.apply(store.value.language)  # widgets retranslate on QEvent.LanguageChange
            window.poster.set_language(translations.current)
        elif key in ENGINE_SETTINGS:
            controller.request_reload()

    store.changed.connect(setting_changed)
    window.language_requested.connect(lambda code: store.update(language=code))
    window.show()
    app.processEvents()
    window.shown_after_s = time.perf_counter() - STARTED

    def after_show() -> None:
        ready = models_ready(store.models_path())
        worker.start_engine(load_now=ready)  # loads the model in the background
        if not ready:  # first run: recommend and download
            window.first_run()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, after_show)
    app.aboutToQuit.connect(lambda: worker.stop(2000))
    if not exec_loop:
        return window
    code = app.exec()
    if worker.isRunning():  # stuck in a driver call: destroying a running QThread would abort with a core dump
        os._exit(code)
    return code
