"""What the main window does with past images: the gallery (the window places it), restoring parameters (from history
or a dropped PNG), re-running with lineage, and save-as / copy / open folder.

A helper the window owns (not a base class): it reaches the window only through the few things it
names below — the parameter form (``apply_request``), the poster panel, the status line and the queue.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from ..errors import UserFacingError
from .background_read import read_in_background
from .status_line import in_ui_language

if TYPE_CHECKING:
    from .gallery import GalleryView
    from .main_window import MainWindow


def reveal_folder(folder: Path) -> None:
    """Show a folder in the system's file manager."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "darwin":
        subprocess.Popen(["open", str(folder)])
    else:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def ask_save_name(parent, suggested: str) -> str:
    """A .png name from the save dialog ("" when cancelled)."""
    name, _ = QFileDialog.getSaveFileName(parent, QCoreApplication.translate("HistoryActions", "Save image as"),
                                          suggested or "image.png", "PNG (*.png)")
    return name if not name or name.lower().endswith(".png") else name + ".png"


class HistoryActions(QObject):
    # (path, RecalledParameters or the UserFacingError) from the thread that read a dropped file
    dropped_read = Signal(str, object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.gallery: GalleryView | None = None
        self.next_parent_id: int | None = None  # the history image the next request descends from
        self.last_image: QImage | None = None
        self.last_path = ""
        self.pick_fields = False  # the drop being read was made with Shift: the user picks the fields
        self.dropped_read.connect(self._show_dropped)  # first, so it runs before any later listener

    def _say(self, text) -> None:
        self.window.status.say(text)  # a tr() closure or an engine message: said again on a language switch

    def build_gallery(self) -> None:
        from ..history.repair import open_history
        from .gallery import GalleryView

        self.gallery = None
        try:
            store, repaired = open_history(self.window.paths)
        except UserFacingError as exc:
            self._say(exc)
            return
        self.gallery = GalleryView(store, self.window.paths.data / "trash", paths=self.window.paths)
        missing, orphans = store.reconcile(self.window.paths.images)
        adopted: list[int] = []
        if orphans:  # images whose row a crash or a kill lost (they carry their parameters): adopted
            from ..history.saving import import_files

            adopted, skipped = import_files(orphans, self.window.paths, store)
            orphans = [p for p in orphans if str(p) in skipped]  # not ours, or unreadable: still only reported
            if adopted:
                self.gallery.refresh()

        def report() -> str:
            parts = [self.tr("%n image(s) saved just before the app stopped were added to the history.", "",
                             len(adopted))] if adopted else []
            if missing or orphans:  # reported, never deleted
                parts.append(self.tr("History: %1 images are missing on disk, %2 images are not in the history "
                                     "(nothing was deleted; see `zimage-desktop history check`).")
                             .replace("%1", str(len(missing))).replace("%2", str(len(orphans))))
            return " ".join(parts)

        if adopted or missing or orphans:
            self._say(report)
        if repaired is not None:  # told once: the next start finds a sound database
            self._say(lambda: self.tr("The history was damaged and has been rebuilt from %1 images; the damaged "
                                        "file was kept at %2.").replace("%1", str(repaired.restored))
                                .replace("%2", str(repaired.kept_at)))
        self.gallery.use_parameters.connect(self.use_record)
        self.gallery.rerun.connect(self.rerun_record)
        self.gallery.edit.connect(lambda record: self.window.edit.edit_record(record))
        self.gallery.compare_on_canvas.connect(lambda: self.window.canvas.compare_with_history())
        self.gallery.status.connect(self._say)

    def use_record(self, record) -> None:
        """Fill the editor from a history image; what is generated next (edited or not, another
        size or seed) is recorded as its child."""
        self.window.apply_request(record.request)
        poster = record.request.extra.get("poster") if isinstance(record.request.extra, dict) else None
        if isinstance(poster, dict):  # restore the poster panel, not just the text
            from ..poster.compose import PosterSpec

            self.window.poster.set_spec(PosterSpec.from_dict(poster), prompt=record.request.prompt)
            self.window.poster.glyphs.apply(record.request.controls)
            self.window.mode_tabs.setCurrentIndex(1)
        self.next_parent_id = record.id

    def rerun_record(self, record, vary: bool) -> None:
        self.window.submit(self.window.requests().rerun(record.request, vary), record.id)

    def drag_enter(self, event) -> None:
        from .edit_source import EDIT_SUFFIXES

        if any(u.toLocalFile().lower().endswith((*EDIT_SUFFIXES, ".safetensors")) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def drop(self, event) -> None:
        """A picture dropped on the canvas (or any JPEG/WebP) is opened for editing; a PNG dropped elsewhere
        restores its parameters. Both are read on a thread: a large or slow file must not freeze the window."""
        from .edit_source import EDIT_SUFFIXES

        canvas = self.window.canvas
        on_canvas = canvas.rect().contains(canvas.mapFrom(self.window, event.position().toPoint()))
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if path.lower().endswith(".safetensors"):  # a LoRA: offered for the loras folder
                event.acceptProposedAction()
                said = self.window.form.loras.offer_import(Path(path))
                if said:
                    self._say(lambda: said)
                return
            if not path.lower().endswith(EDIT_SUFFIXES):
                continue
            event.acceptProposedAction()
            if on_canvas or not path.lower().endswith(".png"):
                self.window.edit.open_file(path)
                return
            self._say(lambda: self.tr("Reading %1…").replace("%1", Path(path).name))
            # Shift while dropping: pick which settings to take (partial recall)
            self.pick_fields = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            read_in_background("read-dropped-png", path, _read_png, self.dropped_read)
            return

    def _show_dropped(self, path: str, found) -> None:
        if isinstance(found, UserFacingError):
            self._say(found)
            return
        self.next_parent_id = None  # a file from outside the history has no lineage here
        pick, self.pick_fields = self.pick_fields, False
        if pick and found.known:
            from .recall_fields import RecallFieldsDialog

            dialog = RecallFieldsDialog(Path(path).name, found.known, found.values, found.notes, self.window)
            if dialog.exec() == RecallFieldsDialog.DialogCode.Accepted:
                self.apply_fields(found, dialog.chosen())
            return
        if found.request is None and found.known:  # no prompt: what is known is taken, the prompt kept
            self.apply_fields(found, found.known)
        elif found.request is None:
            self._say(lambda: self.tr("This image carries no parameters that can be restored.")
                            + "".join("  " + in_ui_language(n) for n in found.notes))
        else:
            self.window.apply_request(found.request, found.notes)
            if getattr(found.request, "mode", "txt2img") != "txt2img":  # an edit: its settings, and ask for the source
                self.window.edit.recall(found.request)

    def apply_fields(self, found, fields: set[str] | frozenset[str]) -> None:
        """Only these fields of a read file into the form; its LoRAs matched in the loras folder."""
        values, notes = dict(found.values), list(found.notes)
        if "loras" in fields and values.get("loras"):
            from ..engine.loras import match_loras
            from ..models.hashing import HashCache

            window = self.window
            window.form.loras.refresh()
            matched, missing = match_loras(window.settings.models_path(window.paths), tuple(values["loras"]),
                                           HashCache(window.paths.hash_cache))
            values["loras"] = matched
            notes.extend(missing)
        self.window.form.apply_fields(values, fields)
        self._say(lambda: self.tr("Parameters restored.") + "".join("  " + in_ui_language(n) for n in notes))

    def save_as(self, name: str = "") -> None:
        if self.last_image is None:
            return
        name = name or ask_save_name(self.window, self.last_path)
        if name:
            if self.last_path and Path(self.last_path).exists():  # keep the metadata
                Path(name).write_bytes(Path(self.last_path).read_bytes())
            else:
                self.last_image.save(name if name.lower().endswith(".png") else name + ".png")

    def copy_image(self) -> None:
        if self.last_image is not None:
            QGuiApplication.clipboard().setImage(self.last_image)

    def open_folder(self) -> None:
        reveal_folder(Path(self.last_path).parent if self.last_path else self.window.paths.images)


def _read_png(path: str):
    from ..history.metadata import read_png_metadata

    return read_png_metadata(Path(path))
