"""Settings: language, folders, device and memory profile, previews, download source and token."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton,
)

from ..config import Paths, Settings
from ..engine.planner import PROFILE_NAMES


class SettingsDialog(QDialog):
    def __init__(self, paths: Paths, settings: Settings, machine=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.paths, self.settings, self.machine = paths, settings, machine
        self.setWindowTitle(self.tr("Settings"))
        form = QFormLayout(self)
        self.language = QComboBox()
        for code, text in (("system", self.tr("Follow the system")), ("zh_CN", "简体中文"), ("en", "English")):
            self.language.addItem(text, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.models_dir = QLineEdit(settings.models_dir or str(paths.default_models))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        models_row = QHBoxLayout()
        models_row.addWidget(self.models_dir, 1)
        models_row.addWidget(browse)
        data_dir = QLabel(str(paths.data))
        data_dir.setToolTip(self.tr("Start the app with --data-dir or ZIMAGE_DESKTOP_DATA to move it."))
        self.device = QComboBox()
        for code, text in (("auto", self.tr("Automatic")), ("cuda", "NVIDIA CUDA"), ("mps", "Apple MPS"), ("cpu", "CPU")):
            self.device.addItem(text, code)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.profile = QComboBox()
        for name in PROFILE_NAMES:
            self.profile.addItem(self.tr("Automatic") if name == "auto" else name, name)
        self.profile.setCurrentIndex(max(0, self.profile.findData(settings.profile)))
        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        self.profile.currentIndexChanged.connect(self._explain)
        self.previews = QCheckBox(self.tr("Show a preview after every step"))
        self.previews.setChecked(settings.previews)
        self.source = QComboBox()
        for code, text in (("hf", self.tr("Hugging Face")), ("mirror", self.tr("Hugging Face mirror")),
                           ("modelscope", self.tr("ModelScope (China)"))):
            self.source.addItem(text, code)
        self.source.setCurrentIndex(max(0, self.source.findData(settings.download_source)))
        self.mirror = QLineEdit(settings.hf_mirror)
        self.token_to_mirror = QCheckBox(self.tr("Also send the Hugging Face token to this mirror (HTTPS only)"))
        self.token_to_mirror.setObjectName("tokenToMirrorCheck")
        self.token_to_mirror.setToolTip(self.tr("Off: the token goes to huggingface.co only. Turn on only for a "
                                                "mirror you trust with your account."))
        self.token_to_mirror.setChecked(settings.hf_token_to_mirror)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(self.tr("optional; stored readable only by you"))
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("Models folder"), models_row)
        form.addRow(self.tr("Data folder"), data_dir)
        form.addRow(self.tr("Device"), self.device)
        form.addRow(self.tr("Memory profile"), self.profile)
        form.addRow(self.plan_label)
        form.addRow(self.previews)
        form.addRow(self.tr("Download source"), self.source)
        form.addRow(self.tr("Mirror address"), self.mirror)
        form.addRow(self.token_to_mirror)
        form.addRow(self.tr("Hugging Face token"), self.token)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._explain()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Models folder"), self.models_dir.text())
        if folder:
            self.models_dir.setText(folder)

    def _explain(self) -> None:
        from ..engine.planner import make_plan
        from .plan_text import explain_plan

        if self.machine is None:
            self.plan_label.setText(self.tr("Detecting this computer's graphics card and memory…"))
            return
        self.plan_label.setText(explain_plan(make_plan(self.machine, override=self.profile.currentData())))

    def changes(self) -> dict:
        """The settings as the dialog shows them (saves a typed token right away, outside settings)."""
        from ..models.sources import save_token

        if self.token.text().strip():
            save_token(self.paths.data, self.token.text())
        models = self.models_dir.text().strip()
        return dict(language=self.language.currentData(),
                    models_dir="" if models == str(self.paths.default_models) else models,
                    device=self.device.currentData(), profile=self.profile.currentData(),
                    previews=self.previews.isChecked(), download_source=self.source.currentData(),
                    hf_mirror=self.mirror.text().strip() or self.settings.hf_mirror,
                    hf_token_to_mirror=self.token_to_mirror.isChecked())
