"""The UI language: Qt translators installed and switched at run time."""

from __future__ import annotations

from pathlib import Path

from ..messages import resolve_language
from ..resource_root import resource


def translations_dir() -> Path:
    return resource("translations")


def current_language() -> str:
    """The language the UI shows now ("zh_CN" or "en", never "system"), for data that carries its
    own translations and for the engine's messages."""
    return _translations.current if _translations is not None else "en"


class Translations:
    """Installs the app's (and Qt's) translator for a language; switches without a restart."""

    @classmethod
    def for_app(cls, app) -> "Translations":
        """The one set of translators of this application."""
        global _translations
        if _translations is None or _translations.app is not app:
            _translations = cls(app)
        return _translations

    def __init__(self, app) -> None:
        self.app = app
        self.installed: list = []
        self.current = "en"

    def apply(self, language: str) -> str:
        from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

        # Set first: widgets re-render on the LanguageChange that the translator switch posts.
        code = self.current = resolve_language(language, QLocale.system().name())
        for tr in self.installed:
            self.app.removeTranslator(tr)
        self.installed = []
        if code.startswith("zh"):
            for name, folder in (("zimage_desktop_zh_CN", str(translations_dir())),
                                 ("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))):
                tr = QTranslator(self.app)
                if tr.load(name, folder):
                    self.app.installTranslator(tr)
                    self.installed.append(tr)
        return code


_translations: Translations | None = None
