"""Errors a user can act on.

Every error raised on purpose by the engine, the model manager or the history derives from
``UserFacingError``: its message is one plain sentence meant for a person (a ``messages.Message``:
English in ``str(exc)``, any language through ``render``), and the CLI prints it without a
traceback. ``BadInputError`` marks input the user can correct (exit code 2); anything
else that goes wrong is exit code 1.
"""

from __future__ import annotations

from .messages import render


class UserFacingError(Exception):
    """An error whose message is written for the user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str.__str__(self.message)

    def render(self, language: str) -> str:
        """The message in ``language`` ("zh_CN", "en"); plain strings (rare) stay as they are."""
        return render(self.message, language)


class BadInputError(UserFacingError):
    """The request, a path or a setting is wrong; the user can fix it."""

    exit_code = 2


class ModelFilesError(BadInputError):
    """Model files are missing, of the wrong kind, unsafe (pickle) or damaged."""


class OutOfMemoryError(UserFacingError):
    """The GPU ran out of memory; the pipeline was freed. ``lighter_profile`` is the one to offer."""

    def __init__(self, message: str, lighter_profile: str | None) -> None:
        super().__init__(message)
        self.lighter_profile = lighter_profile
