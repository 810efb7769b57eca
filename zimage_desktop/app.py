"""Start the desktop app: the window first, the heavy engine afterwards in its worker thread."""

from __future__ import annotations

import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


def translations_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("zimage_desktop.resources") / "translations"))


def current_language() -> str:
    """The language the UI shows now ("zh_CN", "en", …), for data that carries its own translations."""
    return _translations.current if _translations is not None else "en"


class Translations:
    """Installs the app's (and Qt's) translator for a language; switches without a restart."""

    def __init__(self, app) -> None:
        self.app = app
        self.installed: list = []
        self.current = "en"

    def apply(self, language: str) -> str:
        from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

        for tr in self.installed:
            self.app.removeTranslator(tr)
        self.installed = []
        code = QLocale.system().name() if language == "system" else language
        self.current = code
        if code.startswith("zh"):
            for name, folder in (("zimage_desktop_zh_CN", str(translations_dir())),
                                 ("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))):
                tr = QTranslator(self.app)
                if tr.load(name, folder):
                    self.app.installTranslator(tr)
                    self.installed.append(tr)
        return code


_translations: Translations | None = None
# Settings whose change means loading the model again.
ENGINE_SETTINGS = frozenset({"models_dir", "device", "profile", "previews"})


def run_app(data_dir: str | None = None, *, exec_loop: bool = True):
    """Open the main window; returns the exit code (or the window when ``exec_loop`` is false)."""
    from PySide6.QtWidgets import QApplication

    from .config import Paths
    from .ui.controller import GenerationController
    from .ui.main_window import MainWindow
    from .ui.settings_store import SettingsStore
    from .ui.worker import GenerationWorker, models_ready

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Z-Image Desktop")
    app.setOrganizationName("zimage-desktop")
    paths = Paths.resolve(data_dir)
    store = SettingsStore(paths)
    global _translations
    if _translations is None or _translations.app is not app:  # one set of translators per application
        _translations = Translations(app)
    translations = _translations
    translations.apply(store.value.language)
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
    return app.exec()
