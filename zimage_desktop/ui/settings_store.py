"""The one copy of the user's settings that the window, the worker and the dialogs share.

Everyone reads ``store.value`` when they need a setting (never a copy kept from earlier), and
changes go through ``store.update(...)``, which validates, saves atomically and emits ``changed``
once per key that really changed. A dialog opened before a change therefore sees the new models
folder without a restart.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..config import CHOICES, Paths, Settings
from ..errors import BadInputError
from ..messages import msg


class SettingsStore(QObject):
    changed = Signal(str)  # the name of a setting whose value changed

    def __init__(self, paths: Paths, settings: Settings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self._value = settings if settings is not None else Settings.load(paths)

    @property
    def value(self) -> Settings:
        return self._value

    def models_path(self):
        return self._value.models_path(self.paths)

    def update(self, **changes: Any) -> set[str]:
        """Apply, save and announce ``changes``; returns the names that changed."""
        names = {f.name for f in fields(Settings)}
        for key, value in changes.items():
            if key not in names:
                raise BadInputError(msg("settings.unknown", "Unknown setting {key!r}.", key=key))
            if key in CHOICES and value not in CHOICES[key]:
                raise BadInputError(msg("settings.invalid_choice", "{value!r} is not a valid {key}; choose one of {names}.",
                                        value=value, key=key, names=", ".join(CHOICES[key])))
        new = replace(self._value, **changes)
        changed = {k for k in changes if getattr(new, k) != getattr(self._value, k)}
        if not changed:
            return changed
        new.save(self.paths)
        self._value = new
        for key in sorted(changed):
            self.changed.emit(key)
        return changed
