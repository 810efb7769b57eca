"""User-facing messages of the Qt-free layers (engine, model manager, history, poster, CLI).

A ``Message`` is a stable id, its English source template and the parameters. It *is* the
English sentence (a ``str`` subclass, like ``markupsafe.Markup``), so logs, tests and code that
only need English keep working unchanged; ``render(language)`` gives it in another language from
``resources/messages_zh_CN.json``. Parameters that are messages themselves (a reason inside a
sentence) render in the same language; anything else (paths, numbers, an OS's own words) is
inserted as is.

``resolve_language`` turns the language setting ("system", "zh_CN", "en") into the language
actually shown; the Qt translators, the poster panel and the CLI all go through it.
"""

from __future__ import annotations

import json
import locale
import os
from functools import lru_cache
from string import Formatter
from typing import Any

from .resource_root import resource_root

SUPPORTED = ("zh_CN", "en")


class Message(str):
    """One sentence for a person: ``str(message)`` is the English text."""

    id: str
    template: str
    params: dict[str, Any]

    def __new__(cls, id: str, template: str, /, **params: Any) -> "Message":
        self = super().__new__(cls, _fill(template, params, "en"))
        self.id, self.template, self.params = id, template, params
        return self

    def render(self, language: str) -> str:
        if not language.startswith("zh"):
            return str.__str__(self)
        return _fill(_catalog("zh_CN").get(self.id, self.template), self.params, language)

    def __reduce__(self):  # a copy (e.g. dataclasses.replace, pickle) keeps id and parameters
        return (_rebuild, (self.id, self.template, self.params))


def _rebuild(id: str, template: str, params: dict[str, Any]) -> Message:
    return Message(id, template, **params)


def msg(id: str, template: str, /, **params: Any) -> Message:
    """The message ``id`` whose English text is ``template`` (``str.format`` fields) with ``params``."""
    return Message(id, template, **params)


class _Clause(Message):
    """A sentence used inside another one, without its final full stop."""

    def __new__(cls, sentence: Message) -> "_Clause":  # type: ignore[misc]
        self = str.__new__(cls, str.__str__(sentence).rstrip("."))
        self.id, self.template, self.params = sentence.id, sentence.template, sentence.params
        return self

    def render(self, language: str) -> str:
        return super().render(language).rstrip(".。")

    def __reduce__(self):
        return (_Clause, (Message(self.id, self.template, **self.params),))


def clause(sentence: str) -> str:
    """``sentence`` without its final full stop (in every language), to quote it inside another."""
    return _Clause(sentence) if isinstance(sentence, Message) else sentence.rstrip(".")


def joined(parts: list[str], separator: str = " ") -> Message:
    """Several sentences or phrases as one text; each part renders in the language asked for."""
    template = separator.replace("{", "{{").replace("}", "}}").join(f"{{p{i}}}" for i in range(len(parts)))
    return Message("joined", template, **{f"p{i}": part for i, part in enumerate(parts)})


def render(text: object, language: str) -> str:
    """Any text for the user in ``language``: a message or an error carrying one; other text as is."""
    message = getattr(text, "message", text)  # UserFacingError keeps its Message in .message
    if isinstance(message, Message):
        return message.render(language)
    return str(text)


def placeholders(template: str) -> set[str]:
    """The field names of a template (what a translation must keep)."""
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def _fill(template: str, params: dict[str, Any], language: str) -> str:
    values = {k: v.render(language) if isinstance(v, Message) else v for k, v in params.items()}
    return template.format(**values)


@lru_cache(maxsize=None)
def _catalog(language: str) -> dict[str, str]:
    # One main file plus one file per feature in ``messages_<lang>.d/`` (features land in parallel
    # branches; separate files keep their translations from colliding). An id in two files is a bug
    # that tests/test_messages.py reports.
    root = resource_root()
    data: dict[str, str] = json.loads((root / f"messages_{language}.json").read_text(encoding="utf-8"))
    extra = root / f"messages_{language}.d"
    if extra.is_dir():
        for part in sorted((p for p in extra.iterdir() if p.name.endswith(".json")), key=lambda p: p.name):
            data.update(json.loads(part.read_text(encoding="utf-8")))
    return data


def catalog(language: str) -> dict[str, str]:
    """The translated templates of ``language`` by message id (for tests and tools)."""
    return dict(_catalog(language))


def resolve_language(setting: str, system_locale: str | None = None) -> str:
    """"zh_CN" or "en" for the language setting; "system" follows the locale.

    The POSIX variables win (they are what the user set for this session); ``system_locale`` is
    the platform's answer where they are unset (Qt's ``QLocale.system().name()`` on Windows and
    macOS), then Python's own guess.
    """
    if setting in SUPPORTED:
        return setting
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return _supported(value)
    if system_locale:
        return _supported(system_locale)
    try:
        guess = locale.getlocale()[0] or ""
    except ValueError:
        guess = ""
    return _supported(guess)


def _supported(locale_name: str) -> str:
    name = locale_name.lower()
    return "zh_CN" if name.startswith("zh") or name.startswith("chinese") else "en"
