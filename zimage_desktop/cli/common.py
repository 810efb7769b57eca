"""What several commands share: argument types, Ctrl+C as a cancel, where --out puts images, the history
store. A leaf of the package (it imports no other cli module), so the commands import it and not each other:
the circle cli_enhance ⇄ cli_generate ⇄ cli_history (issue 29) was these helpers living in the commands.
No torch at import."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from ..config import Paths, Settings
from ..messages import render


def int_arg(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


def device_arg(value: str) -> str:
    """auto, cpu, mps, cuda, or cuda:N (a GPU by its index, as ``info`` lists them)."""
    import re

    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
        raise argparse.ArgumentTypeError(f"invalid choice: {value!r} (choose auto, cuda, cuda:N, mps or cpu)")
    return value


def lora_arg(value: str):
    """``NAME[:STRENGTH]`` → a LoraRef (checked as the request checks it)."""
    from ..engine.request import GenerationRequest, LoraRef
    from ..errors import BadInputError

    name, colon, strength = value.rpartition(":")
    if not colon:
        name, strength = value, "1"
    try:
        ref = LoraRef(name.strip(), float(strength))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME or NAME:STRENGTH (e.g. my_style:0.8)") from None
    try:
        GenerationRequest(prompt="x", loras=(ref,))
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return ref


class CancelFlag:
    """First Ctrl+C asks for a clean cancel between steps; a second one stops at once."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()

    def __enter__(self) -> "CancelFlag":
        def handler(signum, frame):
            if self.event.is_set():
                raise KeyboardInterrupt
            self.event.set()
            print("\nCancelling after this step… (Ctrl+C again to stop now)", file=sys.stderr)

        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def output_paths(out: str | None, seeds: list[int]) -> list[Path | None]:
    """Where --out puts each image; None: the data folder's images (history.saving decides)."""
    if not out:
        return [None] * len(seeds)
    target = Path(out).expanduser()
    if out.lower().endswith(".png"):
        if len(seeds) == 1:
            return [target]
        return [target.with_name(f"{target.stem}-{i}.png") for i in range(1, len(seeds) + 1)]
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    return [target / f"{stamp}-{seed}.png" for seed in seeds]


def open_store(paths: Paths):
    """The history, repaired first (and the user told, once) when the database is damaged."""
    from ..history.repair import open_history

    store, repaired = open_history(paths)
    if repaired is not None:
        print(f"note: {render(repaired.message(), Settings.load(paths).shown_language)}", file=sys.stderr)
    return store


def cfg_arg(value: str) -> float:
    """A CFG scale, checked as the request checks it (1 to 30; 1 = no guidance)."""
    from ..engine.guidance import problems

    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    found = problems("", number)
    if found:
        raise argparse.ArgumentTypeError(str(found[0]))
    return number


def model_default_steps(models_dir: Path, transformer: str | None) -> int:
    """The default step count of the model these files are (50 for Z-Image base, 8 for Turbo):
    file headers only; Turbo's where the files cannot be read yet."""
    from ..engine.model_files import installed_architecture

    return installed_architecture(models_dir, transformer).default_steps
