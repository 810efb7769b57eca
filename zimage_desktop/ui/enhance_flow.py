"""The window's side of the prompt enhancer: Ctrl+E / the Enhance button sends the prompt to the
worker, the rewrite streams into the EnhancePanel, and an accepted rewrite replaces the prompt
while the user's own words are kept for the request (``original_prompt``)."""

from __future__ import annotations

import difflib

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPlainTextEdit

from ..engine.request import random_seed
from .controller import GenerationController
from .enhance_panel import EnhancePanel
from .worker import EnhanceDone, EnhanceStarted, EnhanceText, Failed

# A rewrite edited this lightly is still a rewrite of the same idea; below it, the prompt is the
# user's own again and no original is recorded.
SAME_PROMPT_RATIO = 0.5


class EnhanceFlow(QObject):
    status = Signal(object)  # a function that says it in the UI language (StatusLine.say)

    def __init__(self, prompt: QPlainTextEdit, panel: EnhancePanel, controller: GenerationController,
                 parent: QObject | None = None, target: str = "prompt") -> None:
        super().__init__(parent)
        self.target = target  # "prompt" (the prompt box) or "scene" (the poster's scene field)
        self.prompt, self.panel, self.controller = prompt, panel, controller
        self.job: int | None = None  # the rewrite being shown
        self.accepted: tuple[str, str] | None = None  # (rewrite as accepted, the user's idea)
        panel.accepted.connect(self._accept)
        panel.discarded.connect(self._discard)
        panel.stop_requested.connect(controller.cancel_enhance)

    def handle(self, event) -> None:
        """An enhancer event from the worker; events of other rewrites are ignored."""
        if isinstance(event, EnhanceStarted):
            if self.owns(event):
                self.panel.set_tokens(0, event.max_tokens)
        elif isinstance(event, EnhanceText):
            self._on_text(event)
        elif isinstance(event, EnhanceDone):
            self._on_done(event)

    def enhance(self) -> None:
        idea = self.prompt.toPlainText().strip()
        if not idea:
            self.status.emit(lambda: self.tr("Write a short idea first, then press Enhance (Ctrl+E)."))
            return
        # Enhancing a rewrite again starts from the user's own words.
        if self.accepted and self.original_for(idea):
            idea = self.accepted[1]
        self.job = self.controller.enhance(idea, random_seed())
        self.panel.start(idea)
        self.status.emit(lambda: self.tr("Enhancing the prompt with the text encoder…"))

    def original_for(self, prompt: str) -> str:
        """The user's idea behind ``prompt`` when it is an accepted rewrite (lightly edited or not)."""
        if self.accepted is None:
            return ""
        rewrite, idea = self.accepted
        similar = difflib.SequenceMatcher(a=rewrite, b=prompt.strip(), autojunk=False).ratio() >= SAME_PROMPT_RATIO
        return idea if similar and prompt.strip() != idea else ""

    def remember(self, prompt: str, original: str) -> None:
        """A request restored from the history brings its original back with it."""
        self.accepted = (prompt, original) if original else None

    def owns(self, event) -> bool:
        return self.job is not None and event.job_id == self.job

    def failed(self, event: Failed) -> None:
        if self.owns(event):
            self.job = None
            self.panel.failed()

    def _on_text(self, e: EnhanceText) -> None:
        if self.owns(e):
            if e.text:
                self.panel.append(e.text)
            self.panel.set_tokens(e.tokens)

    def _on_done(self, e: EnhanceDone) -> None:
        if not self.owns(e):
            return
        self.job = None
        self.panel.finish(e.text, e.cancelled, e.restored_quotes)
        self.status.emit(lambda: self.tr("Enhanced in %1 s. Use it, edit it or discard it.").replace("%1", f"{e.seconds:.1f}"))

    def _accept(self, text: str, idea: str) -> None:
        self.accepted = (text, idea)
        self.prompt.setPlainText(text)
        self.prompt.setFocus()
        if self.target == "scene":
            self.status.emit(lambda: self.tr("The enhanced scene is in the Scene field; the poster prompt was composed again."))
        else:
            self.status.emit(lambda: self.tr("The enhanced prompt is in the prompt box; your own words are kept with the image."))

    def _discard(self) -> None:
        self.job = None
        self.prompt.setFocus()
