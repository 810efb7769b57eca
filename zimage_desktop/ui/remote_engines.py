"""The ComfyUI servers of Settings ▸ Engines as running workers, in the user's order with this
computer; started with the window, started again when the engine list changes."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject, SignalInstance

from ..config import Paths, Settings
from ..errors import UserFacingError
from ..remote import engines as engine_list
from ..remote.engine import RemoteEngine
from .controller import LOCAL_ENGINE, GenerationController
from .remote_worker import RemoteWorker


class RemoteEngines(QObject):
    def __init__(self, paths: Paths, controller: GenerationController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths, self.controller = paths, controller
        self.workers: list[RemoteWorker] = []
        self._retired: list[RemoteWorker] = []
        self._generation = itertools.count(1)
        self.problems: list[str] = []  # servers that could not be set up (a token over plain HTTP …)

    def start(self, *connect_to: SignalInstance | object) -> None:
        """(Re)read engines.json and start one worker per enabled server; ``connect_to``: slots for
        their events (the window's dispatcher, the queue panel's tracker)."""
        self.retire_all()
        engines = engine_list.load(self.paths)
        generation = next(self._generation)
        ranks: dict[str, int] = {}
        self.problems = []
        models_dir = Settings.load(self.paths).models_path(self.paths)  # a depth control's estimator
        for rank, name in enumerate(engines.ordered()):
            if name == engine_list.LOCAL:
                if engines.local_enabled:
                    ranks[LOCAL_ENGINE] = rank
                continue
            entry = engines.server(name)
            if entry is None or not entry.enabled:
                continue
            try:
                engine = RemoteEngine(engine_list.server_config(entry), models_dir=models_dir)
            except UserFacingError as exc:
                self.problems.append(exc.message)
                continue
            key = f"{name}#{generation}"
            ranks[key] = rank
            worker = RemoteWorker(self.paths, engine, self.controller, key, self)
            for slot in connect_to:
                worker.worker_event.connect(slot)
            self.workers.append(worker)
        if not self.workers:
            ranks = {LOCAL_ENGINE: 0}  # no server: this computer takes every job, whatever the list says
        self.controller.set_engine_order(ranks)
        for worker in self.workers:
            worker.start()

    def retire_all(self) -> None:
        for worker in self.workers:
            worker.retire()
        self._retired += self.workers
        self.workers = []
        self.controller.set_engine_order({LOCAL_ENGINE: 0})

    def stop(self, timeout_ms: int = 3000) -> None:
        """At quit (after the controller stopped): wait for every worker, old and new."""
        self.retire_all()
        for worker in self._retired:
            worker.wait(timeout_ms)
