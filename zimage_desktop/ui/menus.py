"""The main window's menu bar: File, Edit, View (zoom, theme) and Tools (with the language), and
their shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from ..config import CHOICES

if TYPE_CHECKING:
    from .panes import MainPanes
    from .preview_view import PreviewView


# lupdate collects translate("MainWindow", …): the strings keep their context from before the split
translate = QCoreApplication.translate


def with_fallback(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's key for ``standard`` plus ``fallback`` (Preferences has no key on Windows
    and most Linux desktops; on macOS it already is Cmd+,)."""
    keys = [k for k in QKeySequence.keyBindings(standard) if not k.isEmpty()]
    extra = QKeySequence(fallback)
    return keys + ([extra] if extra not in keys else [])


class MainMenus:
    """Built on ``window``'s menu bar; ``slots`` name what each action does."""

    def __init__(self, window: QMainWindow, *, save: Callable, open_folder: Callable, copy: Callable,
                 actual_size: Callable, models: Callable, settings: Callable, language: Callable[[str], None],
                 zoom: PreviewView, theme: Callable[[str], object], panes: MainPanes,
                 open_log: Callable | None = None) -> None:
        self.window = window
        bar = window.menuBar()
        self.file, self.edit, self.view, self.tools, self.help = (bar.addMenu("") for _ in range(5))
        self.language = self.tools.addMenu("")
        self.save = self._action(lambda: save(), QKeySequence(QKeySequence.StandardKey.Save))
        self.folder = self._action(open_folder)
        self.quit = self._action(window.close, QKeySequence(QKeySequence.StandardKey.Quit))
        self.copy = self._action(copy, QKeySequence("Ctrl+Shift+C"))
        self.fit = self._action(lambda: zoom.set_zoom(None), QKeySequence("Ctrl+0"))
        self.zoom = self._action(actual_size, QKeySequence("Ctrl+1"), checkable=True)
        self.zoom_in = self._action(lambda: zoom.zoom_by(1.25))
        self.zoom_in.setShortcuts(with_fallback(QKeySequence.StandardKey.ZoomIn, "Ctrl+="))
        self.zoom_out = self._action(lambda: zoom.zoom_by(1 / 1.25), QKeySequence(QKeySequence.StandardKey.ZoomOut))
        zoom.zoom_changed.connect(lambda: self.zoom.setChecked(zoom.actual_size))
        def toggle_history() -> None:
            panes.show_history(not panes.history_shown())
            sync_history()

        def sync_history() -> None:  # the user may also have dragged the pane shut or open
            self.history.setChecked(panes.history_shown())

        self.history = self._action(toggle_history, QKeySequence("Ctrl+H"), checkable=True)
        self.history.setEnabled(panes.gallery is not None)
        self.view.aboutToShow.connect(sync_history)
        self.models = self._action(models)
        self.settings = self._action(settings)
        self.settings.setShortcuts(with_fallback(QKeySequence.StandardKey.Preferences, "Ctrl+,"))
        self.file.addActions([self.save, self.folder])
        self.file.addSeparator()
        self.file.addAction(self.quit)
        self.edit.addAction(self.copy)
        self.view.addActions([self.fit, self.zoom, self.zoom_in, self.zoom_out])
        self.view.addSeparator()
        self.view.addAction(self.history)
        self.theme = self.view.addMenu("")
        self.themes: dict[str, QAction] = {}
        for code in CHOICES["theme"]:
            act = self._action(lambda _=False, c=code: theme(c), checkable=True)
            self.theme.addAction(act)
            self.themes[code] = act
        self.tools.addActions([self.models, self.settings])
        # The app log (warnings, tracebacks): what a user attaches to a bug report.
        self.open_log = self._action(open_log or (lambda: None))
        self.open_log.setObjectName("openLogAction")
        self.help.addAction(self.open_log)
        self.languages: dict[str, QAction] = {}
        for code in ("system", "zh_CN", "en"):
            act = self._action(lambda _=False, c=code: language(c), checkable=True)
            self.language.addAction(act)
            self.languages[code] = act

    def _action(self, slot, shortcut: QKeySequence | None = None, checkable: bool = False) -> QAction:
        action = QAction(self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def retranslate(self, language: str, theme: str) -> None:
        self.file.setTitle(translate("MainWindow", "&File"))
        self.edit.setTitle(translate("MainWindow", "&Edit"))
        self.view.setTitle(translate("MainWindow", "&View"))
        self.tools.setTitle(translate("MainWindow", "&Tools"))
        self.language.setTitle(translate("MainWindow", "Language"))
        self.help.setTitle(translate("MainWindow", "&Help"))
        self.open_log.setText(translate("MainWindow", "Open log folder"))
        self.save.setText(translate("MainWindow", "Save image as…"))
        self.folder.setText(translate("MainWindow", "Open images folder"))
        self.quit.setText(translate("MainWindow", "Quit"))
        self.copy.setText(translate("MainWindow", "Copy image"))
        self.fit.setText(translate("MainWindow", "Fit to window"))
        self.zoom.setText(translate("MainWindow", "Actual size (100%)"))
        self.zoom_in.setText(translate("MainWindow", "Zoom in"))
        self.zoom_out.setText(translate("MainWindow", "Zoom out"))
        self.history.setText(translate("MainWindow", "History pane"))
        self.theme.setTitle(translate("MainWindow", "Theme"))
        self.themes["system"].setText(translate("MainWindow", "Follow the system"))
        self.themes["light"].setText(translate("MainWindow", "Light"))
        self.themes["dark"].setText(translate("MainWindow", "Dark"))
        self.models.setText(translate("MainWindow", "Model manager…"))
        self.settings.setText(translate("MainWindow", "Settings…"))
        self.languages["system"].setText(translate("MainWindow", "Follow the system"))
        self.languages["zh_CN"].setText("简体中文")
        self.languages["en"].setText("English")
        self.check_language(language)
        self.check_theme(theme)

    def check_language(self, language: str) -> None:
        for code, act in self.languages.items():
            act.setChecked(code == language)

    def check_theme(self, theme: str) -> None:
        for code, act in self.themes.items():
            act.setChecked(code == theme)
