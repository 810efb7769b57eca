"""What the main window does with past images: the gallery (the window places it), restoring parameters (from history
or a dropped PNG), re-running with lineage, and save-as / copy / open folder.

A helper the window owns. It knows the data folder and nothing of the window: what it wants done
elsewhere (say something, fill the form, restore a poster, queue a re-run, open an edit) it asks for
with a signal, and the window connects them (``MainWindow._connect_history``). So it can be built and
tested without a window, and it does not import ``main_window``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage

from ..config import Paths
from ..errors import UserFacingError
from .background_read import read_in_background
from .file_dialogs import ask_save_name, reveal_folder  # noqa: F401  (re-exported: older callers import them here)
from .status_line import in_ui_language

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from .gallery import GalleryView


class HistoryActions(QObject):
    # (path, RecalledParameters or the UserFacingError) from the thread that read a dropped file
    dropped_read = Signal(str, object)
    # What the window does for it:
    status = Signal(object)  # say this (a tr() closure or an engine message: said again on a language switch)
    apply_requested = Signal(object, tuple)  # fill the form from (GenerationRequest, notes)
    poster_requested = Signal(object)  # restore the poster panel from this request (its extra["poster"])
    rerun_requested = Signal(object, bool)  # queue (HistoryRecord, vary) again, as its child
    edit_requested = Signal(object)  # open this HistoryRecord for editing
    edit_file_requested = Signal(str)  # open this picture file for editing
    edit_recall_requested = Signal(object)  # an edit's settings came with a dropped PNG: ask for its source
    compare_requested = Signal()  # compare the canvas with the selected history image
    lora_dropped = Signal(object)  # a .safetensors Path dropped on the window: offer it for loras/
    fields_requested = Signal(object, object)  # partial recall: (RecalledParameters, the chosen field keys)

    def __init__(self, paths: Paths, parent: QWidget) -> None:
        super().__init__(parent)
        self.paths = paths
        self.dialog_parent = parent
        self.gallery: GalleryView | None = None
        self.next_parent_id: int | None = None  # the history image the next request descends from
        self.last_image: QImage | None = None
        self.last_path = ""
        self.pick_fields = False  # the drop being read was made with Shift: the user picks the fields
        self.dropped_read.connect(self._show_dropped)  # first, so it runs before any later listener

    def _say(self, text) -> None:
        self.status.emit(text)

    def build_gallery(self) -> None:
        from ..history.repair import open_history
        from .gallery import GalleryView

        self.gallery = None
        try:
            store, repaired = open_history(self.paths)
        except UserFacingError as exc:
            self._say(exc)
            return
        self.gallery = GalleryView(store, self.paths.data / "trash", paths=self.paths)
        missing, orphans = store.reconcile(self.paths.images)
        adopted: list[int] = []
        if orphans:  # images whose row a crash or a kill lost (they carry their parameters): adopted
            from ..history.saving import import_files

            adopted, skipped = import_files(orphans, self.paths, store)
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
        self.gallery.edit.connect(self.edit_requested)
        self.gallery.compare_on_canvas.connect(self.compare_requested)
        self.gallery.status.connect(self._say)

    def use_record(self, record) -> None:
        """Fill the editor from a history image; what is generated next (edited or not, another
        size or seed) is recorded as its child."""
        self.apply_requested.emit(record.request, ())
        poster = record.request.extra.get("poster") if isinstance(record.request.extra, dict) else None
        if isinstance(poster, dict):  # restore the poster panel, not just the text
            self.poster_requested.emit(record.request)
        self.next_parent_id = record.id

    def rerun_record(self, record, vary: bool) -> None:
        self.rerun_requested.emit(record, vary)

    def drag_enter(self, event) -> None:
        from .edit_source import EDIT_SUFFIXES

        if any(u.toLocalFile().lower().endswith((*EDIT_SUFFIXES, ".safetensors")) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def drop(self, event, on_canvas: bool) -> None:
        """A picture dropped on the canvas (``on_canvas``, or any JPEG/WebP) is opened for editing; a PNG
        dropped elsewhere restores its parameters. Both are read on a thread: a large or slow file must not
        freeze the window."""
        from .edit_source import EDIT_SUFFIXES

        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if path.lower().endswith(".safetensors"):  # a LoRA: offered for the loras folder
                event.acceptProposedAction()
                self.lora_dropped.emit(Path(path))
                return
            if not path.lower().endswith(EDIT_SUFFIXES):
                continue
            event.acceptProposedAction()
            if on_canvas or not path.lower().endswith(".png"):
                self.edit_file_requested.emit(path)
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

            dialog = RecallFieldsDialog(Path(path).name, found.known, found.values, found.notes, self.dialog_parent)
            if dialog.exec() == RecallFieldsDialog.DialogCode.Accepted:
                self.apply_fields(found, dialog.chosen())
            return
        if found.request is None and found.known:  # no prompt: what is known is taken, the prompt kept
            self.apply_fields(found, found.known)
        elif found.request is None:
            self._say(lambda: self.tr("This image carries no parameters that can be restored.")
                            + "".join("  " + in_ui_language(n) for n in found.notes))
        else:
            self.apply_requested.emit(found.request, tuple(found.notes))
            if getattr(found.request, "mode", "txt2img") != "txt2img":  # an edit: its settings, and ask for the source
                self.edit_recall_requested.emit(found.request)

    def apply_fields(self, found, fields: set[str] | frozenset[str]) -> None:
        """Only these fields of a read file into the form (the window matches its LoRAs in the loras folder)."""
        self.fields_requested.emit(found, frozenset(fields))

    def save_as(self, name: str = "") -> None:
        if self.last_image is None:
            return
        name = name or ask_save_name(self.dialog_parent, self.last_path)
        if name:
            if self.last_path and Path(self.last_path).exists():  # keep the metadata
                Path(name).write_bytes(Path(self.last_path).read_bytes())
            else:
                self.last_image.save(name if name.lower().endswith(".png") else name + ".png")

    def copy_image(self) -> None:
        if self.last_image is not None:
            QGuiApplication.clipboard().setImage(self.last_image)

    def open_folder(self) -> None:
        reveal_folder(Path(self.last_path).parent if self.last_path else self.paths.images)


def _read_png(path: str):
    from ..history.metadata import read_png_metadata

    return read_png_metadata(Path(path))
