"""The main window's image and history side: the gallery dock, restoring parameters (from history
or a dropped PNG), re-running with lineage, and save-as / copy / open folder. The base of MainWindow."""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import subprocess
import sys
import threading

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QCheckBox, QComboBox, QDockWidget, QFileDialog, QMainWindow, QSpinBox, QTabWidget

from ..engine.request import GenerationRequest
from ..errors import UserFacingError
from .status_line import StatusLine, in_ui_language


if TYPE_CHECKING:
    from ..config import Paths
    from .gallery import GalleryView
    from .poster import PosterPanel
    from .prompt_editor import PromptEdit
    from ..engine.request_builder import RequestBuilder
    from .controller import GenerationController
    from .sampling_controls import SamplingControls
    from .seed_edit import SeedEdit
    from .enhance_flow import EnhanceFlow


class HistoryActions(QMainWindow):
    """The base of MainWindow, which provides these widgets and objects."""

    # (path, RecalledParameters or the UserFacingError) from the thread that read a dropped file
    dropped_read = Signal(str, object)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dropped_read.connect(self._show_dropped)  # first, so it runs before any later listener

    paths: Paths
    controller: GenerationController
    status: StatusLine
    prompt: PromptEdit
    enhancer: EnhanceFlow
    size_combo: QComboBox
    width_spin: QSpinBox
    height_spin: QSpinBox
    steps_spin: QSpinBox
    seed_spin: SeedEdit
    sampling: SamplingControls
    count_spin: QSpinBox
    seed_random: QCheckBox
    gallery: GalleryView | None
    next_parent_id: int | None = None
    last_image: QImage | None
    last_path: str
    poster: PosterPanel

    def requests(self) -> "RequestBuilder":
        raise NotImplementedError  # MainWindow's

    mode_tabs: QTabWidget

    def _build_gallery(self) -> None:
        from ..history.repair import open_history
        from .gallery import GalleryView

        self.gallery = None
        try:
            store, repaired = open_history(self.paths)
        except UserFacingError as exc:
            self.status.say(exc)
            return
        self.gallery = GalleryView(store, self.paths.data / "trash", paths=self.paths)
        missing, orphans = store.reconcile(self.paths.images)
        if missing or orphans:  # reported, never deleted
            self.status.say(lambda: self.tr("History: %1 images are missing on disk, %2 images are not in the history "
                                        "(nothing was deleted; see `zimage-desktop history check`).")
                                .replace("%1", str(len(missing))).replace("%2", str(len(orphans))))
        if repaired is not None:  # told once: the next start finds a sound database
            self.status.say(lambda: self.tr("The history was damaged and has been rebuilt from %1 images; the damaged "
                                        "file was kept at %2.").replace("%1", str(repaired.restored))
                                .replace("%2", str(repaired.kept_at)))
        self.gallery.use_parameters.connect(self.use_record)
        self.gallery.rerun.connect(self.rerun_record)
        self.gallery.status.connect(self.status.say)
        self.gallery_dock = QDockWidget(self)
        self.gallery_dock.setObjectName("galleryDock")
        self.gallery_dock.setWidget(self.gallery)
        self.gallery_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.gallery_dock)

    def use_record(self, record) -> None:
        """Fill the editor from a history image; what is generated next (edited or not, another
        size or seed) is recorded as its child."""
        self.apply_request(record.request)
        poster = record.request.extra.get("poster") if isinstance(record.request.extra, dict) else None
        if isinstance(poster, dict):  # restore the poster panel, not just the text
            from ..poster.compose import PosterSpec

            self.poster.set_spec(PosterSpec.from_dict(poster), prompt=record.request.prompt)
            self.mode_tabs.setCurrentIndex(1)
        self.next_parent_id = record.id

    def apply_request(self, request: GenerationRequest, notes: tuple[str, ...] = ()) -> None:
        """Fill the editor from a past request (history, or a dropped PNG)."""
        self.prompt.setPlainText(request.prompt)
        self.enhancer.remember(request.prompt, request.original_prompt)
        index = self.size_combo.findData((request.width, request.height))
        self.size_combo.setCurrentIndex(index if index >= 0 else self.size_combo.count() - 1)
        self.width_spin.setValue(request.width)
        self.height_spin.setValue(request.height)
        self.steps_spin.setValue(request.steps)
        self.sampling.set_values(request.sampler, request.scheduler)
        self.seed_random.setChecked(False)
        self.seed_spin.setValue(request.seed)
        self.count_spin.setValue(1)
        self.status.say(lambda: self.tr("Parameters restored.") + "".join("  " + in_ui_language(n) for n in notes))

    def rerun_record(self, record, vary: bool) -> None:
        self.controller.submit(self.requests().rerun(record.request, vary), parent_id=record.id)

    def dragEnterEvent(self, event) -> None:
        if any(u.toLocalFile().lower().endswith(".png") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        """Read the dropped PNG on a thread: a large or slow file must not freeze the window."""
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if not path.lower().endswith(".png"):
                continue
            event.acceptProposedAction()
            self.status.say(lambda: self.tr("Reading %1…").replace("%1", Path(path).name))
            threading.Thread(target=self._read_dropped, args=(path,), name="read-dropped-png", daemon=True).start()
            return

    def _read_dropped(self, path: str) -> None:
        from ..history.metadata import read_png_metadata

        try:
            result: object = read_png_metadata(Path(path))
        except UserFacingError as exc:
            result = exc
        try:
            self.dropped_read.emit(path, result)
        except RuntimeError:  # the window was closed meanwhile
            pass

    def _show_dropped(self, path: str, found) -> None:
        if isinstance(found, UserFacingError):
            self.status.say(found)
            return
        self.next_parent_id = None  # a file from outside the history has no lineage here
        if found.request is None:
            self.status.say(lambda: self.tr("This image carries no parameters that can be restored.")
                            + "".join("  " + in_ui_language(n) for n in found.notes))
        else:
            self.apply_request(found.request, found.notes)

    def save_as(self, name: str = "") -> None:
        if self.last_image is None:
            return
        if not name:
            name, _ = QFileDialog.getSaveFileName(self, self.tr("Save image as"), self.last_path or "image.png",
                                                  "PNG (*.png)")
        if name:
            if self.last_path and Path(self.last_path).exists():  # keep the metadata
                Path(name).write_bytes(Path(self.last_path).read_bytes())
            else:
                self.last_image.save(name if name.lower().endswith(".png") else name + ".png")

    def copy_image(self) -> None:
        if self.last_image is not None:
            QGuiApplication.clipboard().setImage(self.last_image)

    def open_folder(self) -> None:
        folder = Path(self.last_path).parent if self.last_path else self.paths.images
        folder.mkdir(parents=True, exist_ok=True)
        if sys.platform == "darwin":
            subprocess.Popen(["open", str(folder)])
        else:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
