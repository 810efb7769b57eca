"""Poster mode: structured texts, layout and style in; the composed prompt (editable) and N
variants out. The fields travel with the request (``extra["poster"]``) so history restores the panel."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
    QPushButton, QSpinBox, QWidget,
)

from ..engine.request import GenerationRequest
from ..engine.request_builder import RequestBuilder
from ..messages import render
from ..poster.compose import FONTS, LAYOUTS, STYLES, PosterSpec, compose
from ..poster.formats import FORMATS
from ..poster.templates import builtin_templates, save_user_template, user_templates
from .prompt_tokens import PromptTokens
from .wheel_guard import guard_wheel

WARNING_STYLE = "color: #c0392b;"


def compact(box: QComboBox) -> QComboBox:
    """A combo whose width follows the pane, not its longest item (the popup still shows it all)."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    return box


class PosterPanel(QWidget):
    generate_requested = Signal(object)  # GenerationRequest
    status = Signal(object)  # text, or an engine message (StatusLine.say renders it)

    def __init__(self, user_dir: Path, language: str = "en", parent=None, tokens: PromptTokens | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("posterPanel")
        self.user_dir = user_dir
        self.language = language
        self.builder: Callable[[], RequestBuilder] = RequestBuilder  # the window's, with the chosen profile
        # the window shares the prompt tab's counter: one tokenizer read, not two
        self.tokens = tokens if tokens is not None else PromptTokens(self)
        self.tokens.changed.connect(self._update_tokens)
        self._composing = False
        self._edited = False
        self._token_problem = ""
        self.template = compact(QComboBox())
        self.template.setObjectName("posterTemplate")
        self.save_template = QPushButton()
        self.save_template.setObjectName("posterSaveTemplateButton")
        self.save_template.clicked.connect(self._save_template)
        row = QHBoxLayout()
        row.addWidget(self.template, 1)
        row.addWidget(self.save_template)
        self.format, self.describe_in = compact(QComboBox()), compact(QComboBox())
        self.format.setObjectName("posterFormat")
        self.describe_in.setObjectName("posterDescribeIn")
        for key in FORMATS:
            self.format.addItem("", key)
        self.describe_in.addItem("中文", "zh")
        self.describe_in.addItem("English", "en")
        self.headline, self.subtitle, self.cta, self.small_print, self.colours = (QLineEdit() for _ in range(5))
        self.headline.setObjectName("posterHeadline")
        self.body, self.scene = QPlainTextEdit(), QPlainTextEdit()
        self.body.setMaximumHeight(70)
        self.scene.setMaximumHeight(60)
        self.scene.setObjectName("posterScene")
        # The enhancer may rewrite the scene only: the poster's texts are composed around it.
        self.enhance_scene = QPushButton()
        self.enhance_scene.setObjectName("posterEnhanceSceneButton")
        from .enhance_panel import EnhancePanel

        self.scene_panel = EnhancePanel()
        self.style_box, self.layout_box, self.font_box = compact(QComboBox()), compact(QComboBox()), compact(QComboBox())
        for box, table in ((self.style_box, STYLES), (self.layout_box, LAYOUTS), (self.font_box, FONTS)):
            for key in table:
                box.addItem("", key)
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("posterPrompt")
        self.prompt.setMinimumHeight(120)
        self.prompt.textChanged.connect(self._prompt_changed)
        self.recompose = QPushButton()
        self.recompose.clicked.connect(lambda: self.update_prompt(force=True))
        self.token_count = QLabel()
        self.token_count.setObjectName("posterTokenCount")
        self.token_count.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setObjectName("posterWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        from .glyph_control import GlyphControl

        self.glyphs = GlyphControl()
        self.layout_box.currentIndexChanged.connect(lambda _: self.glyphs.reset_boxes())  # boxes of another layout
        self.variants = QSpinBox()
        self.variants.setObjectName("posterVariantsSpin")
        self.variants.setRange(1, 16)
        self.variants.setValue(4)
        self.generate = QPushButton()
        self.generate.setObjectName("posterGenerateButton")
        self.generate.clicked.connect(lambda: self.generate_now())
        # one image, the plain action as on the prompt tab; "variants" makes the spin box's count
        self.generate_one = QPushButton()
        self.generate_one.setObjectName("posterGenerateOneButton")
        self.generate_one.clicked.connect(lambda: self.generate_now(count=1))
        self._count: int | None = None  # images of the pending submit: 1, or None for the variants' count
        self._describe_chosen = False  # "Describe in" follows the UI language until the user picks one
        self.labels = {k: QLabel() for k in ("template", "format", "describe", "headline", "subtitle", "body", "cta",
                                             "small", "scene", "style", "layout", "font", "colours", "prompt")}
        form = QFormLayout(self)
        # A narrow pane puts a field under its label instead of widening the form: the panel
        # scrolls vertically only.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.labels["template"], row)
        form.addRow(self.labels["format"], self.format)
        for key, widget in (("headline", self.headline), ("subtitle", self.subtitle), ("body", self.body),
                            ("cta", self.cta), ("small", self.small_print), ("scene", self.scene),
                            ("style", self.style_box), ("layout", self.layout_box), ("font", self.font_box),
                            ("colours", self.colours), ("describe", self.describe_in)):
            form.addRow(self.labels[key], widget)
        form.addRow(self.enhance_scene)
        form.addRow(self.scene_panel)
        form.addRow(self.labels["prompt"], self.recompose)
        form.addRow(self.prompt)
        form.addRow(self.token_count)
        form.addRow(self.warnings)
        form.addRow(self.glyphs)
        for widget in (self.headline, self.subtitle, self.cta, self.small_print, self.colours):
            widget.textChanged.connect(lambda _: self.update_prompt())
        for widget in (self.body, self.scene):
            widget.textChanged.connect(lambda: self.update_prompt())
        for box in (self.style_box, self.layout_box, self.font_box, self.describe_in, self.format):
            box.currentIndexChanged.connect(lambda _: self.update_prompt())
        self.template.activated.connect(self._template_chosen)
        self.describe_in.activated.connect(lambda _: setattr(self, "_describe_chosen", True))
        self._follow_language()
        self.wheel_guard = guard_wheel(self)
        self.template.addItem("", None)  # "choose a template": the fields are not a template's
        self.retranslate()
        self.reload_templates()

    def scroll_area(self) -> QWidget:
        """The tab's page: the panel in a scroll area that scrolls vertically (rows wrap to its
        width, so a horizontal bar appears only in a pane narrower than the form's minimum, about
        280 px), and under it the actions, always in view as on the prompt tab."""
        from PySide6.QtWidgets import QVBoxLayout

        from .scroll_area import VerticalScrollArea

        scroll = VerticalScrollArea(self)  # also keeps the sidebar from being narrowed past the form
        scroll.setObjectName("posterScroll")
        page = QWidget()
        page.setObjectName("posterPage")
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(scroll, 1)
        actions = QHBoxLayout()
        actions.setContentsMargins(6, 4, 6, 6)
        actions.addWidget(self.generate_one, 2)
        actions.addWidget(self.variants)
        actions.addWidget(self.generate, 1)
        column.addLayout(actions)
        return page

    def showEvent(self, event) -> None:
        self.tokens.refresh()  # a stat: models may have arrived since the panel was last shown
        super().showEvent(event)

    # -- texts ----------------------------------------------------------------------------

    def retranslate(self) -> None:
        zh = self.language.startswith("zh")
        self.glyphs.retranslate()
        for key, text in (("template", self.tr("Template")), ("format", self.tr("Format")), ("describe", self.tr("Describe in")),
                          ("headline", self.tr("Headline")), ("subtitle", self.tr("Subtitle")),
                          ("body", self.tr("Body lines")), ("cta", self.tr("Call to action")),
                          ("small", self.tr("Small print")), ("scene", self.tr("Scene")), ("style", self.tr("Style")),
                          ("layout", self.tr("Layout")), ("font", self.tr("Font feel")), ("colours", self.tr("Colours")),
                          ("prompt", self.tr("Prompt"))):
            self.labels[key].setText(text)
        self.save_template.setText(self.tr("Save as template…"))
        self.recompose.setText(self.tr("Compose again"))
        self.enhance_scene.setText(self.tr("Enhance the scene"))
        self.scene_panel.retranslate()
        self.generate.setText(self.tr("Variants"))
        self.generate.setToolTip(self.tr("Generate this many variants, each with its own seed"))
        self.generate_one.setText(self.tr("Generate  (Ctrl+Enter)"))
        choose = self.tr("Choose a template…")
        self.template.setItemText(0, choose)
        self.template.setMinimumContentsLength(len(choose) + 2)  # never clipped to "— Choose a templ"
        self._follow_language()
        self._token_problem = ""  # said again below, in the new language
        self._update_tokens()
        self._show_warnings()
        for i in range(self.format.count()):
            self.format.setItemText(i, self._format_label(self.format.itemData(i), zh))
        for box, table, col in ((self.style_box, STYLES, 0), (self.font_box, FONTS, 0)):
            for i in range(box.count()):
                box.setItemText(i, table[box.itemData(i)][col if zh else col + 1])
        for i in range(self.layout_box.count()):
            entry = LAYOUTS[self.layout_box.itemData(i)]
            self.layout_box.setItemText(i, entry[0] if zh else entry[1])

    @staticmethod
    def _format_label(key: str, zh: bool) -> str:
        f = FORMATS[key]
        return f"{f.name('zh' if zh else 'en')} · {f.width}×{f.height}"

    def set_language(self, language: str) -> None:
        """Relabels everything; fields still as a template filled them switch to its version in
        the new language, edited ones stay as they are."""
        shown = self.template.currentIndex() - 1
        untouched = (0 <= shown < len(self.templates) and not self._edited
                     and self.spec() == self.templates[shown].spec(self.language))
        self.language = language
        self._follow_language()
        self.retranslate()
        self.reload_templates()
        if untouched:
            self.apply_template(shown)

    def _follow_language(self) -> None:
        if not self._describe_chosen:
            self.describe_in.setCurrentIndex(self.describe_in.findData("zh" if self.language.startswith("zh") else "en"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- templates ------------------------------------------------------------------------
    # The box names a template only once it has filled the fields (the user may edit them on);
    # entry 0, "choose a template", stands for fields typed, restored from history or cleared.

    def reload_templates(self, select_id: str | None = None) -> None:
        shown = select_id or self.template.currentData()
        self.templates = builtin_templates() + user_templates(self.user_dir)
        while self.template.count() > 1:
            self.template.removeItem(1)
        for t in self.templates:
            self.template.addItem(t.name(self.language) + ("" if t.builtin else " ★"), t.id)
        self.template.setCurrentIndex(max(0, self.template.findData(shown)) if shown else 0)

    def apply_template(self, index: int) -> None:
        """Fill the fields from ``templates[index]`` and show its name."""
        if 0 <= index < len(self.templates):
            self.set_spec(self.templates[index].spec(self.language))
            self.template.setCurrentIndex(index + 1)

    def _template_chosen(self, entry: int) -> None:
        if entry > 0:
            self.apply_template(entry - 1)

    def _save_template(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save as template"), self.tr("Name:"))
        if ok and name.strip():
            saved = save_user_template(self.user_dir, name, self.spec())
            self.reload_templates(select_id=saved.id)

    # -- fields <-> spec ------------------------------------------------------------------

    def spec(self) -> PosterSpec:
        return PosterSpec(
            headline=self.headline.text(), subtitle=self.subtitle.text(),
            body=tuple(line for line in self.body.toPlainText().splitlines() if line.strip()),
            cta=self.cta.text(), small_print=self.small_print.text(), scene=self.scene.toPlainText(),
            style=self.style_box.currentData(), layout=self.layout_box.currentData(), colours=self.colours.text(),
            font=self.font_box.currentData(), language=self.describe_in.currentData(), format=self.format.currentData(),
        )

    def set_spec(self, spec: PosterSpec, prompt: str | None = None) -> None:
        self._composing = True
        self.headline.setText(spec.headline)
        self.subtitle.setText(spec.subtitle)
        self.body.setPlainText("\n".join(spec.body))
        self.cta.setText(spec.cta)
        self.small_print.setText(spec.small_print)
        self.scene.setPlainText(spec.scene)
        self.colours.setText(spec.colours)
        for box, value in ((self.style_box, spec.style), (self.layout_box, spec.layout), (self.font_box, spec.font),
                           (self.describe_in, "zh" if spec.language.startswith("zh") else "en"),
                           (self.format, spec.format)):
            box.setCurrentIndex(max(0, box.findData(value)))
        self.template.setCurrentIndex(0)  # apply_template shows the name again
        self._composing = False
        self.update_prompt(force=True)
        if prompt is not None and prompt != self.prompt.toPlainText():
            self.prompt.setPlainText(prompt)  # the user's edited prompt, as it was generated

    def update_prompt(self, force: bool = False) -> None:
        if self._composing or (self._edited and not force):
            self._show_warnings()
            return
        self._composing = True
        self.prompt.setPlainText(compose(self.spec()).text)
        self._composing = False
        self._edited = False
        self._show_warnings()

    def _prompt_changed(self) -> None:
        if not self._composing:
            self._edited = True
        self._update_tokens()

    def _update_tokens(self) -> None:
        """The count under the prompt, on every change; over the limit also a warning above
        Generate, which then refuses (exact count) or asks (estimate)."""
        tokens, room, exact = self.tokens.typed(self.prompt.toPlainText())
        text = self.tr("%1 / %2 tokens") if exact else self.tr("≈%1 / %2 tokens (estimated until the models are installed)")
        self.token_count.setText(text.replace("%1", str(tokens)).replace("%2", str(room)))
        over = tokens > room
        self.token_count.setStyleSheet(WARNING_STYLE if over else "")
        problem = self._too_long(tokens, room, exact) if over else ""
        if problem != self._token_problem:
            self._token_problem = problem
            self._show_warnings()

    def _show_warnings(self) -> None:
        lines = [render(w, self.language) for w in compose(self.spec(), count_tokens=None).warnings]
        text = "\n".join(lines + [self._token_problem] if self._token_problem else lines)
        self.warnings.setText(text)
        self.warnings.setVisible(bool(text))  # no empty gap above Generate

    def page(self) -> tuple[PosterSpec, int, int]:
        """The poster as it stands and its picture's size (for the text boxes on the canvas)."""
        spec = self.spec()
        fmt = FORMATS[spec.format]
        return spec, fmt.width, fmt.height

    def request(self, seed: int | None = None, count: int | None = None) -> GenerationRequest:
        """The poster job; ``seed`` None draws one. The window sets ``builder`` (settings' profile)."""
        spec = self.spec()
        fmt = FORMATS[spec.format]
        # the poster templates live in <data>/poster_templates: glyph images go to <data>/history/inputs
        controls = self.glyphs.control(spec, fmt.width, fmt.height, self.user_dir.parent)
        return self.builder().new(self.prompt.toPlainText(), width=fmt.width, height=fmt.height, seed=seed,
                                  count=self.variants.value() if count is None else count, controls=controls,
                                  extra={"poster": spec.to_dict(), "poster_prompt_edited": self._edited,
                                         **self.glyphs.saved_boxes()})

    def _too_long(self, tokens: int, room: int, exact: bool) -> str:
        text = (self.tr("The prompt is %1 tokens long; Z-Image reads at most %2. Shorten it to generate.") if exact else
                self.tr("The prompt is about %1 tokens long; Z-Image reads at most %2. Shorten it."))
        return text.replace("%1", str(tokens)).replace("%2", str(room))

    def generate_now(self, count: int | None = None) -> None:
        """Queue the poster: ``count`` images, or as many variants as the spin box says."""
        self._count = count
        tokens, room, exact = self.tokens.typed(self.prompt.toPlainText())
        if tokens > room and exact:
            # the engine would refuse it anyway, after loading; said again on a language switch
            self.status.emit(lambda: self._too_long(tokens, room, exact))
            return
        if tokens > room:
            box = QMessageBox(QMessageBox.Icon.Question, self.tr("Long prompt"),
                              self._token_problem + "\n\n" + self.tr("The count is an estimate. Generate anyway?"),
                              QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
            box.setObjectName("posterLongPromptBox")
            box.setDefaultButton(QMessageBox.StandardButton.No)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.buttonClicked.connect(
                lambda button: self._submit() if box.standardButton(button) == QMessageBox.StandardButton.Yes else None)
            box.open()
            return
        self._submit()

    def _submit(self) -> None:
        try:
            self.generate_requested.emit(self.request(count=self._count))
        except Exception as exc:  # BadInputError: empty prompt etc.
            self.status.emit(exc)
