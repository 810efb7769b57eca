"""Honest progress for a run of images: which stage runs now (encoding, step n/N, decoding, saving)
and an estimate of the time left over every stage of every image still to come.

The estimate uses what was measured: the step time of the image that runs now, and the encode,
decode and save times of the images before it (of this run, or of the last run, scaled by the
pixel count). Before anything was measured, decoding is assumed to cost ``DECODE_STEPS`` steps:
on a CPU the VAE takes as long as several denoising steps, and the bar must not read "0 s left"
while it runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

STAGES = ("encoding", "step", "decoding", "saving")
DECODE_STEPS = 3.0  # a first guess of the decode's cost, in steps, until one was measured
SAVE_S = 0.2  # a first guess for writing the PNG with its metadata


@dataclass(frozen=True)
class StageEvent:
    """A stage of one image begins (``step`` events come as StepEvent: this one says "encoding",
    "decoding" or "saving"). ``eta_s`` is the time left for the whole run."""

    stage: str
    image_index: int
    image_count: int
    eta_s: float | None  # None before any step was timed: no guess is better than a wrong one
    steps: int = 0


StageCallback = Callable[[StageEvent], None]


@dataclass
class StageTimes:
    """Seconds per stage, per megapixel where the cost follows the image's size."""

    encode_s: float | None = None
    step_s_per_mp: float | None = None
    decode_s_per_mp: float | None = None
    save_s_per_mp: float | None = None


@dataclass
class RunClock:
    """Times one run of ``count`` images of ``pixels`` pixels with ``steps`` steps each."""

    count: int
    steps: int
    pixels: int
    known: StageTimes = field(default_factory=StageTimes)  # kept by the Generator across runs
    clock: Callable[[], float] = time.perf_counter
    _stage: str = "encoding"
    _stage_started: float | None = None  # None: nothing being timed
    _image: int = 0
    _step: int = 0
    _step_s: float | None = None

    @property
    def megapixels(self) -> float:
        return max(self.pixels, 1) / 1e6

    def begin(self, stage: str, image_index: int) -> None:
        now = self.clock()
        self._record(now)
        self._stage, self._stage_started, self._image = stage, now, image_index
        if stage == "encoding":
            self._step = 0

    def step_done(self, step: int, denoise_elapsed_s: float) -> None:
        self._step = step
        self._step_s = denoise_elapsed_s / max(step, 1)
        self.known.step_s_per_mp = self._step_s / self.megapixels

    def finish(self) -> None:
        self._record(self.clock())
        self._stage_started = None

    def _record(self, now: float) -> None:
        if self._stage_started is None:
            return
        spent = now - self._stage_started
        if self._stage == "encoding":
            self.known.encode_s = spent
        elif self._stage == "decoding":
            self.known.decode_s_per_mp = spent / self.megapixels
        elif self._stage == "saving":
            self.known.save_s_per_mp = spent / self.megapixels

    # -- the estimate ----------------------------------------------------------------------

    def _costs(self) -> tuple[float, float, float, float]:
        """(encode, one step, decode, save) in seconds for this run's images."""
        mp = self.megapixels
        step = self._step_s if self._step_s is not None else (
            self.known.step_s_per_mp * mp if self.known.step_s_per_mp is not None else 0.0)
        encode = self.known.encode_s if self.known.encode_s is not None else 0.0
        decode = self.known.decode_s_per_mp * mp if self.known.decode_s_per_mp is not None else DECODE_STEPS * step
        save = self.known.save_s_per_mp * mp if self.known.save_s_per_mp is not None else SAVE_S
        return encode, step, decode, save

    def eta_s(self) -> float:
        """Seconds left for the whole run: the rest of this image's stages, then the images after it."""
        encode, step, decode, save = self._costs()
        per_image = encode + self.steps * step + decode + save
        in_stage = self.clock() - self._stage_started if self._stage_started is not None else 0.0
        if self._stage == "encoding":
            left = max(encode - in_stage, 0.0) + self.steps * step + decode + save
        elif self._stage == "step":
            left = (self.steps - self._step) * step + decode + save
        elif self._stage == "decoding":
            left = max(decode - in_stage, 0.0) + save
        else:
            left = max(save - in_stage, 0.0)
        return left + (self.count - self._image - 1) * per_image

    def event(self, stage: str, image_index: int) -> StageEvent:
        self.begin(stage, image_index)
        timed = self._step_s is not None or self.known.step_s_per_mp is not None
        return StageEvent(stage, image_index, self.count, self.eta_s() if timed else None, self.steps)
