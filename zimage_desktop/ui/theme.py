"""Light or dark, following the system unless the user chose one: Fusion everywhere, so the
window looks the same on Windows, macOS and Linux, with a dark palette when the scheme is dark."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from .settings_store import SettingsStore

# (role, active colour, disabled colour or None): a neutral grey-blue dark close to what
# InvokeAI and Draw Things use, with enough contrast for small text.
_DARK: tuple[tuple[QPalette.ColorRole, str, str | None], ...] = (
    (QPalette.ColorRole.Window, "#202124", None),
    (QPalette.ColorRole.WindowText, "#e8e8ea", "#7c7c80"),
    (QPalette.ColorRole.Base, "#18181a", "#1e1e20"),
    (QPalette.ColorRole.AlternateBase, "#26272b", None),
    (QPalette.ColorRole.ToolTipBase, "#2d2e32", None),
    (QPalette.ColorRole.ToolTipText, "#e8e8ea", None),
    (QPalette.ColorRole.PlaceholderText, "#8a8a90", None),
    (QPalette.ColorRole.Text, "#e8e8ea", "#7c7c80"),
    (QPalette.ColorRole.Button, "#2d2e32", "#26272a"),
    (QPalette.ColorRole.ButtonText, "#e8e8ea", "#7c7c80"),
    (QPalette.ColorRole.BrightText, "#ff6b6b", None),
    (QPalette.ColorRole.Light, "#3a3b40", None),
    (QPalette.ColorRole.Midlight, "#303136", None),
    (QPalette.ColorRole.Mid, "#26272b", None),
    (QPalette.ColorRole.Dark, "#141416", None),
    (QPalette.ColorRole.Shadow, "#000000", None),
    (QPalette.ColorRole.Highlight, "#3d7be0", "#3a3b40"),
    (QPalette.ColorRole.HighlightedText, "#ffffff", "#9a9aa0"),
    (QPalette.ColorRole.Link, "#6ea8fe", None),
    (QPalette.ColorRole.LinkVisited, "#b48ef0", None),
)


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour, disabled in _DARK:
        palette.setColor(role, QColor(colour))
        if disabled is not None:
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return palette


def wants_dark(theme: str, scheme: Qt.ColorScheme) -> bool:
    return theme == "dark" or (theme == "system" and scheme == Qt.ColorScheme.Dark)


class ThemeController(QObject):
    """Applies the theme setting to the application now and whenever the setting or the system's
    colour scheme changes."""

    def __init__(self, app: QApplication, store: SettingsStore) -> None:
        super().__init__(store)  # lives as long as the store it follows
        self.app, self.store = app, store
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        # Fusion's own light palette: the platform plugin's may be a dark one on a dark desktop.
        self._light = app.style().standardPalette()
        self.dark = False
        store.changed.connect(lambda key: self.apply() if key == "theme" else None)
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)
        self.apply()

    def _scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.store.value.theme == "system":
            self.apply(scheme)

    def apply(self, scheme: Qt.ColorScheme | None = None) -> None:
        scheme = self.app.styleHints().colorScheme() if scheme is None else scheme
        self.dark = wants_dark(self.store.value.theme, scheme)
        self.app.setPalette(dark_palette() if self.dark else self._light)
