"""Poster mode: structured texts, layout and style in; the composed prompt (editable) and N
variants out. The fields travel with the request (``extra["poster"]``) so history restores the panel."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox,
    QWidget,
)

from ..engine.request import GenerationRequest
from ..engine.request_builder import RequestBuilder
from ..messages import render
from ..poster.compose import FONTS, LAYOUTS, STYLES, PosterSpec, compose
from ..poster.formats import FORMATS
from ..poster.templates import builtin_templates, save_user_template, user_templates
from .status_line import in_ui_language


class PosterPanel(QWidget):
    generate_requested = Signal(object)  # GenerationRequest
    status = Signal(str)

    def __init__(self, user_dir: Path, language: str = "en", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("posterPanel")
        self.user_dir = user_dir
        self.language = language
        self.builder: Callable[[], RequestBuilder] = RequestBuilder  # the window's, with the chosen profile
        self._composing = False
        self._edited = False
        form = QFormLayout(self)
        self.template = QComboBox()
        self.template.setObjectName("posterTemplate")
        self.save_template = QPushButton()
        self.save_template.clicked.connect(self._save_template)
        row = QHBoxLayout()
        row.addWidget(self.template, 1)
        row.addWidget(self.save_template)
        self.format, self.describe_in = QComboBox(), QComboBox()
        self.format.setObjectName("posterFormat")
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
        self.style_box, self.layout_box, self.font_box = QComboBox(), QComboBox(), QComboBox()
        for box, table in ((self.style_box, STYLES), (self.layout_box, LAYOUTS), (self.font_box, FONTS)):
            for key in table:
                box.addItem("", key)
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("posterPrompt")
        self.prompt.textChanged.connect(self._prompt_edited)
        self.recompose = QPushButton()
        self.recompose.clicked.connect(lambda: self.update_prompt(force=True))
        self.warnings = QLabel()
        self.warnings.setObjectName("posterWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #c0392b;")
        self.variants = QSpinBox()
        self.variants.setRange(1, 16)
        self.variants.setValue(4)
        self.generate = QPushButton()
        self.generate.setObjectName("posterGenerateButton")
        self.generate.clicked.connect(self._generate)
        gen_row = QHBoxLayout()
        gen_row.addWidget(self.variants)
        gen_row.addWidget(self.generate, 1)
        self.labels = {k: QLabel() for k in ("template", "format", "describe", "headline", "subtitle", "body", "cta",
                                             "small", "scene", "style", "layout", "font", "colours", "prompt")}
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
        form.addRow(self.warnings)
        form.addRow(gen_row)
        for widget in (self.headline, self.subtitle, self.cta, self.small_print, self.colours):
            widget.textChanged.connect(lambda _: self.update_prompt())
        for widget in (self.body, self.scene):
            widget.textChanged.connect(lambda: self.update_prompt())
        for box in (self.style_box, self.layout_box, self.font_box, self.describe_in, self.format):
            box.currentIndexChanged.connect(lambda _: self.update_prompt())
        self.template.activated.connect(lambda i: self.apply_template(i))
        self.retranslate()
        self.reload_templates()

    # -- texts ----------------------------------------------------------------------------

    def retranslate(self) -> None:
        zh = self.language.startswith("zh")
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
        self.generate.setText(self.tr("Generate variants"))
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
        self.language = language
        self.retranslate()
        self.reload_templates()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- templates ------------------------------------------------------------------------

    def reload_templates(self) -> None:
        self.templates = builtin_templates() + user_templates(self.user_dir)
        current = self.template.currentIndex()
        self.template.clear()
        for t in self.templates:
            self.template.addItem(t.name(self.language) + ("" if t.builtin else " ★"))
        self.template.setCurrentIndex(max(0, current))

    def apply_template(self, index: int) -> None:
        if 0 <= index < len(self.templates):
            self.set_spec(self.templates[index].spec(self.language))

    def _save_template(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save as template"), self.tr("Name:"))
        if ok and name.strip():
            save_user_template(self.user_dir, name, self.spec())
            self.reload_templates()

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

    def _prompt_edited(self) -> None:
        if not self._composing:
            self._edited = True

    def _show_warnings(self) -> None:
        self.warnings.setText("\n".join(render(w, self.language) for w in compose(self.spec()).warnings))

    def request(self, seed: int | None = None) -> GenerationRequest:
        """The poster job; ``seed`` None draws one. The window sets ``builder`` (settings' profile)."""
        spec = self.spec()
        fmt = FORMATS[spec.format]
        return self.builder().new(self.prompt.toPlainText(), width=fmt.width, height=fmt.height, seed=seed,
                                  count=self.variants.value(),
                                  extra={"poster": spec.to_dict(), "poster_prompt_edited": self._edited})

    def _generate(self) -> None:
        try:
            self.generate_requested.emit(self.request())
        except Exception as exc:  # BadInputError: empty prompt etc.
            self.status.emit(in_ui_language(exc))
