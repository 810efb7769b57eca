"""The prompt enhancer's view: the rewrite streams in under the user's idea, then the user accepts,
edits or discards it. Words the rewrite added are shaded, like the new side of a diff."""

from __future__ import annotations

import difflib
import re

import time

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget

ADDED = QColor(200, 240, 200)
# The rewrite's box shows this many lines and scrolls: a 300-token rewrite must not push the size
# and steps out of a 760-pixel-high window.
VIEW_LINES = 4
_WORDS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def added_spans(original: str, rewrite: str) -> list[tuple[int, int]]:
    """(start, end) character ranges of ``rewrite`` that are not in ``original``, word by word
    (each CJK character counts as a word, so Chinese diffs are as fine as English ones)."""
    def tokens(text: str) -> list[re.Match]:
        return list(_WORDS.finditer(text))

    old = [m.group().lower() for m in tokens(original)]
    new_matches = tokens(rewrite)
    new = [m.group().lower() for m in new_matches]
    spans: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, _, _, j1, j2 in matcher.get_opcodes():
        if op in ("insert", "replace") and j2 > j1:
            spans.append((new_matches[j1].start(), new_matches[j2 - 1].end()))
    return spans


class EnhancePanel(QWidget):
    accepted = Signal(str, str)  # (the rewrite as edited, the user's original idea)
    discarded = Signal()
    stop_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("enhancePanel")
        self._notes: tuple[bool, tuple[str, ...]] = (False, ())  # (stopped early, quotes put back)
        self.idea = ""
        self.streaming = False
        self.title = QLabel()
        self.title.setObjectName("enhanceTitle")
        self.title.setWordWrap(True)
        self.view = QPlainTextEdit()
        self.view.setObjectName("enhanceView")
        self.view.setReadOnly(True)
        margins = self.view.contentsMargins()
        text_height = self.view.fontMetrics().lineSpacing() * VIEW_LINES + 2 * int(self.view.document().documentMargin())
        self.view.setFixedHeight(text_height + margins.top() + margins.bottom() + 2 * self.view.frameWidth())
        # Honest progress: busy until the first token (the encoder may be loading), then tokens
        # written against the most the rewrite may take; it usually ends earlier, at the chat's end.
        self.progress = QProgressBar()
        self.progress.setObjectName("enhanceProgress")
        self.progress.hide()
        self.tokens, self.max_tokens, self.started = 0, 0, 0.0
        self.note = QLabel()
        self.note.setObjectName("enhanceNote")
        self.note.setWordWrap(True)
        self.accept_button, self.discard_button, self.stop_button = QPushButton(), QPushButton(), QPushButton()
        for button, name in ((self.accept_button, "acceptEnhanceButton"), (self.discard_button, "discardEnhanceButton"),
                             (self.stop_button, "stopEnhanceButton")):
            button.setObjectName(name)
        self.accept_button.clicked.connect(self._accept)
        self.discard_button.clicked.connect(self._discard)
        self.stop_button.clicked.connect(self.stop_requested)
        buttons = QHBoxLayout()
        for button in (self.accept_button, self.discard_button, self.stop_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.progress)
        layout.addWidget(self.view)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.retranslate()
        self.hide()

    def retranslate(self) -> None:
        self.accept_button.setText(self.tr("Use this prompt"))
        self.discard_button.setText(self.tr("Discard"))
        self.stop_button.setText(self.tr("Stop"))
        self.view.setPlaceholderText(self.tr("The enhanced prompt appears here as it is written."))
        self._show_title()
        self._show_notes()
        self._show_progress()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _show_title(self) -> None:
        if self.streaming:
            self.title.setText(self.tr("Enhancing…"))
        elif self.idea:
            self.title.setText(self.tr("Enhanced prompt: edit it if you like, then use it or discard it. "
                                       "Shaded words were added."))

    def _show_progress(self) -> None:
        if not self.streaming:
            self.progress.hide()
            return
        self.progress.show()
        if not self.tokens:
            self.progress.setRange(0, 0)  # busy: the encoder loads or reads the idea
            self.progress.setFormat(self.tr("Reading the idea…"))
            return
        self.progress.setRange(0, max(self.max_tokens, self.tokens))
        self.progress.setValue(self.tokens)
        seconds = time.monotonic() - self.started
        self.progress.setFormat(self.tr("%1 tokens written · %2 s").replace("%1", str(self.tokens))
                                .replace("%2", f"{seconds:.0f}"))

    def set_tokens(self, tokens: int, max_tokens: int = 0) -> None:
        """Progress: ``tokens`` written of at most ``max_tokens`` (0: keep the last limit)."""
        if max_tokens:
            self.max_tokens = max_tokens
        if tokens and not self.tokens:
            self.started = time.monotonic()  # the time shown counts the writing, not the loading
        self.tokens = tokens
        self._show_progress()

    def start(self, idea: str, max_tokens: int = 0) -> None:
        self.idea = idea
        self.tokens, self.max_tokens = 0, max_tokens or self.max_tokens
        self.streaming = True
        self.view.setReadOnly(True)
        self.view.clear()
        self.note.clear()
        self._notes = (False, ())
        self.accept_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._show_title()
        self._show_progress()
        self.show()

    def append(self, piece: str) -> None:
        cursor = self.view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.view.setTextCursor(cursor)
        self.view.ensureCursorVisible()  # the box scrolls with the writing

    def finish(self, text: str, cancelled: bool, restored: tuple[str, ...]) -> None:
        self.streaming = False
        self.view.setPlainText(text)
        self._shade(self.idea, text)
        self.view.setReadOnly(False)
        self.stop_button.setEnabled(False)
        self.accept_button.setEnabled(bool(text.strip()))
        self._notes = (cancelled, restored)
        self._show_notes()
        self._show_title()
        self._show_progress()

    def _show_notes(self) -> None:
        """The notes on the last rewrite, in the UI language (again after a live switch)."""
        cancelled, restored = self._notes
        notes = []
        if cancelled:
            notes.append(self.tr("Stopped early: the prompt may be cut short."))
        if restored:
            notes.append(self.tr("Quoted text the rewrite had changed was put back: %1")
                         .replace("%1", ", ".join(f"“{t}”" for t in restored)))
        self.note.setText(" ".join(notes))

    def failed(self) -> None:
        self.streaming = False
        self._show_progress()
        self.hide()

    def text(self) -> str:
        return self.view.toPlainText().strip()

    def _shade(self, original: str, rewrite: str) -> None:
        shade = QTextCharFormat()
        shade.setBackground(ADDED)
        for start, end in added_spans(original, rewrite):
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(shade)

    def _accept(self) -> None:
        if self.text():
            self.accepted.emit(self.text(), self.idea)
            self.hide()

    def _discard(self) -> None:
        if self.streaming:
            self.stop_requested.emit()
        self.streaming = False
        self._show_progress()
        self.hide()
        self.discarded.emit()
