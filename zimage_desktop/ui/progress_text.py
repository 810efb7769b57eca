"""What the window and the queue say about the job that runs: its stage (loading, encoding, step
n/N, decoding, saving, cancelling) and the time left for the whole job, with a bar that moves with
time, not with steps (decoding may take longer than all the steps together)."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication

from .worker import JobStarted, StageChanged, StepDone, WorkerEvent

# lupdate collects translate("Progress", …)
translate = QCoreApplication.translate
BAR_MAX = 1000


def stage_words(stage: str, step: int = 0, total: int = 0) -> str:
    if stage == "step":
        return translate("Progress", "step %1/%2").replace("%1", str(step)).replace("%2", str(total))
    words = {
        "starting": translate("Progress", "starting"),
        "loading": translate("Progress", "loading the model"),
        "encoding": translate("Progress", "reading the prompt"),
        "decoding": translate("Progress", "decoding the image"),
        "saving": translate("Progress", "saving"),
    }
    return words.get(stage, stage)


def time_left(seconds: float) -> str:
    if seconds < 90:
        return translate("Progress", "about %1 s left").replace("%1", f"{max(seconds, 0):.0f}")
    return translate("Progress", "about %1 min left").replace("%1", f"{seconds / 60:.0f}")


class RunProgress:
    """The running job as events describe it; ``text()`` and ``bar()`` say it in the UI language
    (call them again after a language switch)."""

    def __init__(self) -> None:
        self.job_id: int | None = None
        self.stage = "starting"
        self.image_index, self.image_count, self.step, self.total = 0, 1, 0, 0
        self.eta_s: float | None = None
        self.started = 0.0
        self.cancelling = False

    def follow(self, e: WorkerEvent) -> bool:
        """Take an event; True when it changed what is shown."""
        if isinstance(e, JobStarted):
            self.__init__()  # type: ignore[misc]
            self.job_id, self.started = e.job_id, time.monotonic()
            self.image_count, self.total = max(e.image_count, 1), e.total
            return True
        if e.job_id != self.job_id or self.job_id is None:
            return False
        if isinstance(e, StageChanged):
            self.stage, self.image_index, self.image_count, self.eta_s = e.stage, e.image_index, e.image_count, e.eta_s
        elif isinstance(e, StepDone):
            self.stage, self.step, self.total = "step", e.step, e.total
            self.image_index, self.image_count, self.eta_s = e.image_index, e.image_count, e.eta_s
        else:
            return False
        return True

    def text(self, with_eta: bool = True) -> str:
        if self.cancelling:
            return translate("Progress", "Cancelling…")
        parts = [translate("Progress", "Image %1/%2").replace("%1", str(self.image_index + 1))
                 .replace("%2", str(self.image_count)), stage_words(self.stage, self.step, self.total)]
        if with_eta and self.eta_s is not None:
            parts.append(time_left(self.eta_s))
        return " · ".join(parts)

    def bar(self) -> int:
        """Permille of the job done, from the time spent and the time left."""
        if self.eta_s is None:
            return 0
        spent = time.monotonic() - self.started
        return int(BAR_MAX * spent / max(spent + self.eta_s, 1e-6))
