"""Editing from the window: "Edit" on the canvas result, a gallery item or a dropped file puts the image on
the canvas with the Edit tab; the mask editor and the outpaint frame work on it; ``request()`` turns what the
user set into an image-to-image, inpaint, outpaint or upscale ``GenerationRequest`` (the source and the mask
written as content-addressed PNGs into the history's input store, ``history/input_store.py``), and "Fix the text"
builds the inpaint that redraws a poster's own words.

A helper the window owns, like ``HistoryActions``: it reaches the window through ``preview``, ``canvas``,
``mode_tabs``, ``form``, ``requests()``, ``submit()``, ``status`` and ``paths``. Its canvas keys are in
``edit_keys``, the glyph control of "Fix the text" in ``edit_glyphs``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from ..engine.request import MAX_SIDE, SIZE_MULTIPLE, GenerationRequest
from ..errors import BadInputError, UserFacingError
from ..model_folders import UPSCALERS
from .background_read import read_in_background
from .edit_keys import canvas_shortcuts
from .edit_glyphs import glyph_controls
from .edit_panel import IMG2IMG, INPAINT, OUTPAINT, RATIOS, UPSCALE, EditPanel
from .edit_source import load_source, save_content_addressed, to_work_size
from .mask_editor import RECTANGLE, MaskEditor
from .outpaint_frame import OutpaintFrame
from .panes import prompt_page
from .status_line import in_ui_language

if TYPE_CHECKING:
    from ..history.store import HistoryRecord
    from .main_window import MainWindow

FIX_TEXT_STRENGTH = 1.0  # the selected text is drawn anew; the feathered paste keeps the rest


class EditFlow(QObject):
    loaded = Signal(str, object)  # (path, (QImage, notes) or SourceError) from the thread that read a file

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.panel = EditPanel()
        self.mask = MaskEditor(window.preview, self)
        self.frame = OutpaintFrame(window.preview, self)
        self.work: QImage | None = None  # the source at a size the model takes
        self.record: HistoryRecord | None = None  # the history entry it came from (lineage)
        self.source_name = ""
        self.loaded.connect(self._file_loaded)
        p = self.panel
        p.mode.currentIndexChanged.connect(self.show_work)
        p.mode.currentIndexChanged.connect(lambda _: self.list_upscale_models())
        p.open_button.clicked.connect(self.ask_file)
        p.show_source_button.clicked.connect(self.show_work)
        p.edit_button.clicked.connect(self.submit)
        p.fix_button.clicked.connect(self.fix_text)
        for key, button in p.tool_buttons.items():
            button.clicked.connect(lambda _=False, k=key: self.mask.set_tool(k))
        self.mask.changed.connect(self._sync_tool)
        p.brush_size.valueChanged.connect(self.mask.set_size)
        self.mask.size_changed.connect(p.brush_size.setValue)
        p.invert_button.clicked.connect(self.mask.invert)
        p.clear_button.clicked.connect(self.mask.clear)
        p.undo_button.clicked.connect(self.mask.undo_stack.undo)
        p.redo_button.clicked.connect(self.mask.undo_stack.redo)
        self.mask.undo_stack.canUndoChanged.connect(p.undo_button.setEnabled)
        self.mask.undo_stack.canRedoChanged.connect(p.redo_button.setEnabled)
        p.undo_button.setEnabled(False)
        p.redo_button.setEnabled(False)
        p.overlay.toggled.connect(self.mask.set_overlay_visible)
        for i, ratio in enumerate(p.ratio_buttons):
            ratio.clicked.connect(lambda _=False, i=i: self.frame.to_ratio(*RATIOS[i]))
        for side, spin in enumerate(p.side_spins):
            spin.valueChanged.connect(lambda value, s=side: self._side_typed(s, value))
        self.frame.changed.connect(self._frame_changed)
        for widget in (p.scale_15, p.scale_2, p.scale_target):
            widget.toggled.connect(lambda _=False: self._show_result_size())
        p.target_width.valueChanged.connect(lambda _: self._show_result_size())
        p.retranslated.connect(self._retranslate)
        self.page = prompt_page(self.panel, _row(p.edit_button))
        self.shortcuts = canvas_shortcuts(self)

    def _say(self, text) -> None:
        self.window.status.say(text)

    def attach_history(self) -> None:
        """Once the window has its history: inputs of edits never finished (unused for a day) leave the
        history's store, and a gallery delete leaves there the inputs queued jobs still need."""
        from ..history.operations import forget_unused_inputs, inputs_of

        gallery = self.window.gallery
        if gallery is None:
            return
        controller = self.window.controller
        gallery.inputs_in_use = lambda: inputs_of(job.request for job in controller.queued())
        try:
            forget_unused_inputs(gallery.store)
        except (OSError, UserFacingError):  # a read-only history: nothing to tidy
            pass

    # -- opening an image --------------------------------------------------------------------

    def open_image(self, image: QImage, record: HistoryRecord | None = None, name: str = "") -> None:
        """Edit ``image`` (from ``record`` when it is a history entry): the canvas shows it, the Edit tab opens."""
        self.work = to_work_size(image)
        self.record, self.source_name = record, name or (f"#{record.id}" if record is not None else "")
        self.mask.start(self.work.size())
        self.frame.start(self.work)
        self.panel.prompt.setPlainText(record.request.prompt if record is not None else "")
        self._retranslate()
        self.window.mode_tabs.setCurrentWidget(self.page)
        self.show_work()
        self.window.preview.setFocus()  # the tools' keys ([ ] B X R, Ctrl+Z) work at once
        self._show_result_size()

    def _retranslate(self) -> None:
        if self.work is None:
            return
        role = self.panel.text_role.currentIndex()
        self._fill_text_roles()
        self.panel.text_role.setCurrentIndex(max(0, role))
        self.panel.source_label.setText(
            self.tr("Editing %1 (%2×%3)").replace("%1", self.source_name or self.tr("an image"))
            .replace("%2", str(self.work.width())).replace("%3", str(self.work.height())))
        self._show_result_size()

    def edit_record(self, record: HistoryRecord) -> None:
        image = QImage(record.path)
        if image.isNull():
            self._say(lambda: self.tr("The image file of #%1 cannot be read.").replace("%1", str(record.id)))
            return
        self.open_image(image, record)

    def edit_canvas_result(self) -> None:
        """The last finished image (the canvas result), with its history entry when it was saved."""
        history = self.window.history
        if history.last_image is None:
            self._say(lambda: self.tr("Nothing to edit yet: generate an image, or drop one on the canvas."))
            return
        record = None
        gallery = self.window.gallery
        if gallery is not None and history.last_path:
            ids = [i for i, p in gallery.store.image_paths().items() if str(p) == history.last_path]
            record = gallery.store.get(ids[0]) if ids else None
        self.open_image(history.last_image, record)

    def ask_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, self.tr("Open an image to edit"), "",
                                              self.tr("Images") + " (*.png *.jpg *.jpeg *.webp)")
        if name:
            self.open_file(name)

    def open_file(self, path: str) -> None:
        """Read a file to edit on a thread (a large photo must not freeze the window)."""
        self._say(lambda: self.tr("Reading %1…").replace("%1", path.rsplit("/", 1)[-1]))
        read_in_background("read-edit-source", path, load_source, self.loaded)

    def _file_loaded(self, path: str, result) -> None:
        if isinstance(result, UserFacingError):
            self._say(result)
            return
        image, notes = result
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        self.open_image(image, None, name)
        self._say(lambda: " ".join([self.tr("Editing %1.").replace("%1", name), *(in_ui_language(n) for n in notes)]))

    def list_upscale_models(self, chosen: str | None = None) -> None:
        """The Upscale model list from the models folder (read when the upscale mode shows: a file
        the user just copied there appears)."""
        from ..engine.upscale_files import upscale_model_files

        if self.panel.current_mode() != UPSCALE and chosen is None:
            return
        folder = self.window.settings.models_path(self.window.paths) / UPSCALERS
        self.panel.set_upscale_models([path.name for path in upscale_model_files(folder)], chosen)

    def recall(self, request: GenerationRequest) -> None:
        """A dropped picture that was made by editing: the Edit tab gets its mode, strength and options,
        and the user is asked for the source image (a path written in a file is never opened)."""
        p = self.panel
        p.set_mode(request.mode)
        p.strength.setValue(round(request.strength * 100))
        p.prompt.setPlainText(request.prompt)
        p.feather.setValue(request.mask_blur)
        p.only_masked.setChecked(request.only_masked)
        p.padding.setValue(request.only_masked_padding)
        if request.mode == UPSCALE:
            (p.scale_15 if request.upscale == 1.5 else p.scale_2 if request.upscale == 2 else p.scale_target).setChecked(True)
            self.list_upscale_models(request.upscale_model)
        self.window.mode_tabs.setCurrentWidget(self.page)
        p.open_button.setFocus()
        mode = p.mode.currentText()
        self._say(lambda: self.tr("This picture was made with %1 (strength %2): open its source image to edit it "
                                  "the same way.").replace("%1", mode).replace("%2", f"{request.strength:g}"))

    # -- what the canvas shows ---------------------------------------------------------------

    def show_work(self) -> None:
        mode = self.panel.current_mode()
        self.mask.active = mode == INPAINT
        self.frame.active = mode == OUTPAINT
        if self.work is None:
            return
        preview = self.window.preview
        preview.nominal = None
        preview.show_image(self.frame.shown if mode == OUTPAINT else self.work)
        self._show_result_size()

    def _layer(self) -> MaskEditor:
        """The layer the canvas keys act on: the Control section's scribble while it is drawn, else the mask."""
        scribble = self.window.form.control.scribble
        return scribble if scribble is not None and scribble.active else self.mask

    def _pick_tool(self, tool: str) -> None:
        self._layer().set_tool(tool)

    def _sync_tool(self) -> None:
        button = self.panel.tool_buttons.get(self.mask.tool)
        if button is not None and not button.isChecked():
            button.setChecked(True)

    def _side_typed(self, side: int, value: int) -> None:
        if self.frame.source is not None and self.frame.frame.sides[side] != value:
            self.frame.set_side(side, value)

    def _frame_changed(self) -> None:
        for spin, value in zip(self.panel.side_spins, self.frame.frame.sides):
            if spin.value() != value:
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        self._show_result_size()

    def result_size(self) -> tuple[int, int]:
        assert self.work is not None
        w, h = self.work.width(), self.work.height()
        mode = self.panel.current_mode()
        if mode == OUTPAINT:
            return self.frame.frame.result
        if mode == UPSCALE:
            factor = self.upscale_factor()
            return (round(w * factor / SIZE_MULTIPLE) * SIZE_MULTIPLE, round(h * factor / SIZE_MULTIPLE) * SIZE_MULTIPLE)
        return w, h

    def upscale_factor(self) -> float:
        p = self.panel
        if p.scale_15.isChecked():
            return 1.5
        if p.scale_2.isChecked():
            return 2.0
        return p.target_width.value() / self.work.width() if self.work is not None else 1.0

    def _show_result_size(self) -> None:
        if self.work is None:
            self.panel.result_label.setText("")
            return
        w, h = self.result_size()
        text = self.tr("Result: %1×%2").replace("%1", str(w)).replace("%2", str(h))
        if max(w, h) > MAX_SIDE:
            text += "  " + self.tr("(larger than %1 px: choose a smaller size)").replace("%1", str(MAX_SIDE))
        self.panel.result_label.setText(text)

    # -- requests --------------------------------------------------------------------------------

    def request(self, **overrides: Any) -> GenerationRequest:
        """The request for what the Edit tab says (``overrides`` replace fields, e.g. for "Fix the text")."""
        if self.work is None:
            raise BadInputError(self.tr("Open an image to edit first: Edit on the canvas or a gallery image, or "
                                        "drop a file on the canvas."))
        p = self.panel
        mode = overrides.pop("mode", p.current_mode())
        folder = self.window.paths.data  # the history's input store, which keeps them for the entry
        source = self.frame.scaled_source() if mode == OUTPAINT else self.work
        source_path, source_sha = save_content_addressed(source, folder)
        fields: dict[str, Any] = dict(mode=mode, source=str(source_path), source_sha256=source_sha,
                                      strength=p.strength_value(),
                                      source_entry=self.record.id if self.record is not None else None)
        if mode == INPAINT:
            if self.mask.is_empty():
                raise BadInputError(self.tr("The mask is empty: paint the area that may change."))
            assert self.mask.mask is not None
            mask_path, mask_sha = save_content_addressed(self.mask.mask, folder)
            fields.update(mask=str(mask_path), mask_sha256=mask_sha, mask_blur=p.feather.value(),
                          only_masked=p.only_masked.isChecked(), only_masked_padding=p.padding.value())
        elif mode == OUTPAINT:
            fields.update(outpaint=self.frame.frame.sides, mask_blur=p.feather.value())
        elif mode == UPSCALE:
            fields.update(upscale=self.upscale_factor(), upscale_model=p.upscale_model_name())
        fields.update(overrides)
        mode_for_size = p.current_mode()
        if mode != mode_for_size:
            p.set_mode(mode)
        width, height = self.result_size()
        values = self.window.form.values()
        values.update(width=width, height=height)
        prompt = fields.pop("prompt", p.prompt.toPlainText())
        extra: dict[str, Any] = {}
        if self.record is not None and isinstance(self.record.request.extra.get("poster"), dict):
            extra["poster"] = self.record.request.extra["poster"]  # the result's text can be fixed again
        extra.update(fields.pop("extra", {}))
        base = self.window.requests().new(prompt, extra=extra, **values)
        return replace(base, **fields)

    def submit(self) -> None:
        self._queue(self.request)

    def _queue(self, build) -> None:
        """Build a request and queue it with its source and mask kept in the history's folder (by sha256,
        as the CLI does), so "re-run exactly" finds them again."""
        from ..history.edit_inputs import keep_edit_inputs

        try:
            request = keep_edit_inputs(build(), self.window.paths.data)
        except UserFacingError as exc:
            self._say(exc)
            return
        self.window.submit(request, self.record.id if self.record is not None else None)

    # -- fix the text --------------------------------------------------------------------------

    def poster_spec(self):
        from ..poster.compose import PosterSpec

        poster = self.record.request.extra.get("poster") if self.record is not None else None
        return PosterSpec.from_dict(poster) if isinstance(poster, dict) else None

    def _fill_text_roles(self) -> None:
        from ..poster.fix_text import fixable_texts

        spec = self.poster_spec()
        combo = self.panel.text_role
        combo.clear()
        if spec is not None:
            names = {"headline": self.tr("Headline"), "subtitle": self.tr("Subtitle"), "body": self.tr("Body text"),
                     "cta": self.tr("Button text"), "small_print": self.tr("Small print")}
            for role, text in fixable_texts(spec):
                combo.addItem(f"{names[role]}: {text}", (role, text))
        self.panel.text_group.setVisible(combo.count() > 0)

    def fix_text_request(self) -> GenerationRequest:
        """Inpaint the selected region with the poster's own words for the chosen text, verbatim."""
        from ..poster.fix_text import fix_text_prompt

        spec = self.poster_spec()
        chosen = self.panel.text_role.currentData()
        if spec is None or chosen is None:
            raise BadInputError(self.tr("\"Fix the text\" works on posters made in the Poster tab."))
        if self.mask.is_empty():
            raise BadInputError(self.tr("Drag a rectangle over the text on the canvas first, then press Fix the text."))
        role, text = chosen
        return self.request(mode=INPAINT, prompt=fix_text_prompt(spec, role, text), strength=FIX_TEXT_STRENGTH,
                            only_masked=True, extra={"fix_text": role},
                            controls=glyph_controls(self.window, self.mask, self.work, spec, role, text))

    def fix_text(self) -> None:
        if self.mask.is_empty() and self.poster_spec() is not None:  # the selection first: ready the rectangle
            self.panel.set_mode(INPAINT)
            self._pick_tool(RECTANGLE)
            self.window.preview.setFocus()
        self._queue(self.fix_text_request)


def _row(button):
    from PySide6.QtWidgets import QHBoxLayout

    row = QHBoxLayout()
    row.addWidget(button)
    return row


__all__ = ["EditFlow", "IMG2IMG", "INPAINT", "OUTPAINT", "UPSCALE"]
