"""The main window's menu bar: File, Edit, View and Tools (with the language), and their shortcuts."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow


# lupdate collects translate("MainWindow", …): the strings keep their context from before the split
translate = QCoreApplication.translate


class MainMenus:
    """Built on ``window``'s menu bar; ``slots`` name what each action does."""

    def __init__(self, window: QMainWindow, *, save: Callable, open_folder: Callable, copy: Callable,
                 actual_size: Callable, models: Callable, settings: Callable, language: Callable[[str], None]) -> None:
        self.window = window
        bar = window.menuBar()
        self.file, self.edit, self.view, self.tools = (bar.addMenu("") for _ in range(4))
        self.language = self.tools.addMenu("")
        self.save = self._action(lambda: save(), QKeySequence(QKeySequence.StandardKey.Save))
        self.folder = self._action(open_folder)
        self.quit = self._action(window.close, QKeySequence(QKeySequence.StandardKey.Quit))
        self.copy = self._action(copy, QKeySequence("Ctrl+Shift+C"))
        self.zoom = self._action(actual_size, QKeySequence("Ctrl+1"), checkable=True)
        self.models = self._action(models)
        self.settings = self._action(settings, QKeySequence(QKeySequence.StandardKey.Preferences))
        self.file.addActions([self.save, self.folder])
        self.file.addSeparator()
        self.file.addAction(self.quit)
        self.edit.addAction(self.copy)
        self.view.addAction(self.zoom)
        self.tools.addActions([self.models, self.settings])
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

    def retranslate(self, language: str) -> None:
        self.file.setTitle(translate("MainWindow", "&File"))
        self.edit.setTitle(translate("MainWindow", "&Edit"))
        self.view.setTitle(translate("MainWindow", "&View"))
        self.tools.setTitle(translate("MainWindow", "&Tools"))
        self.language.setTitle(translate("MainWindow", "Language"))
        self.save.setText(translate("MainWindow", "Save image as…"))
        self.folder.setText(translate("MainWindow", "Open images folder"))
        self.quit.setText(translate("MainWindow", "Quit"))
        self.copy.setText(translate("MainWindow", "Copy image"))
        self.zoom.setText(translate("MainWindow", "Actual size (100%)"))
        self.models.setText(translate("MainWindow", "Model manager…"))
        self.settings.setText(translate("MainWindow", "Settings…"))
        self.languages["system"].setText(translate("MainWindow", "Follow the system"))
        self.languages["zh_CN"].setText("简体中文")
        self.languages["en"].setText("English")
        self.check_language(language)

    def check_language(self, language: str) -> None:
        for code, act in self.languages.items():
            act.setChecked(code == language)
