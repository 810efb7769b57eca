"""Settings: language, theme, folders, device and memory profile, previews, download source and token;
the Engines page (this computer and ComfyUI servers, ui/engines_page.py)."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from ..config import Paths, Settings
from ..engine.planner import PROFILE_NAMES
from .residency_table import ResidencyTable


class SettingsDialog(QDialog):
    def __init__(self, paths: Paths, settings: Settings, machine=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.paths, self.settings, self.machine = paths, settings, machine
        general = QWidget()
        form = QFormLayout(general)
        self.language = QComboBox()
        for code in ("system", "zh_CN", "en"):
            self.language.addItem("", code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.theme = QComboBox()
        self.theme.setObjectName("themeCombo")
        for code in ("system", "light", "dark"):
            self.theme.addItem("", code)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.models_dir = QLineEdit(settings.models_dir or str(paths.default_models))
        self.models_dir.setCursorPosition(0)
        self.models_dir.setToolTip(self.models_dir.text())
        self.browse = QPushButton()
        self.browse.clicked.connect(self._browse)
        models_row = QHBoxLayout()
        models_row.addWidget(self.models_dir, 1)
        models_row.addWidget(self.browse)
        self.data_dir = QLabel(str(paths.data))
        self.device = QComboBox()
        for code in ("auto", "cuda", "mps", "cpu"):
            self.device.addItem("", code)
        # One entry per GPU (cuda:N): the chosen card decides profile, dtype and placement.
        for gpu in getattr(machine, "gpus", ()):
            self.device.addItem(f"GPU {gpu.index}: {gpu.name} ({gpu.total_vram / 1024**3:.0f} GiB)", f"cuda:{gpu.index}")
        if self.device.findData(settings.device) < 0 and settings.device.startswith("cuda:"):
            self.device.addItem(f"GPU {settings.device[5:]}", settings.device)  # a GPU not probed (yet)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.profile = QComboBox()
        for name in PROFILE_NAMES:
            self.profile.addItem(name, name)
        self.profile.setCurrentIndex(max(0, self.profile.findData(settings.profile)))
        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        # The plan's residency table: where each component is in each phase, and the peaks.
        self.residency = ResidencyTable()
        self.profile.currentIndexChanged.connect(self._explain)
        self.device.currentIndexChanged.connect(self._explain)
        self.models_dir.editingFinished.connect(self._explain)
        self.previews = QCheckBox()
        self.previews.setChecked(settings.previews)
        self.cpu_int8 = QCheckBox()
        self.cpu_int8.setObjectName("cpuInt8Check")
        self.cpu_int8.setChecked(settings.cpu_int8)
        # oneDNN's int8 kernels were measured on x86 only (engine/gguf_int8.available checks the rest
        # where the model loads, without importing torch here on the window's thread).
        self.cpu_int8.setEnabled(platform.machine().lower() in ("x86_64", "amd64", "x86", "i686"))
        self.cpu_int8.toggled.connect(self._explain)
        self.source = QComboBox()
        for code in ("auto", "hf", "mirror", "modelscope"):
            self.source.addItem("", code)
        self.source.setCurrentIndex(max(0, self.source.findData(settings.download_source)))
        self.mirror = QLineEdit(settings.hf_mirror)
        self.token_to_mirror = QCheckBox()
        self.token_to_mirror.setObjectName("tokenToMirrorCheck")
        self.token_to_mirror.setChecked(settings.hf_token_to_mirror)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.labels = {key: QLabel() for key in ("language", "theme", "models", "data", "device", "profile", "source",
                                                  "mirror", "token")}
        form.addRow(self.labels["language"], self.language)
        form.addRow(self.labels["theme"], self.theme)
        form.addRow(self.labels["models"], models_row)
        form.addRow(self.labels["data"], self.data_dir)
        form.addRow(self.labels["device"], self.device)
        form.addRow(self.labels["profile"], self.profile)
        form.addRow(self.plan_label)
        form.addRow(self.residency)
        form.addRow(self.cpu_int8)
        form.addRow(self.previews)
        form.addRow(self.labels["source"], self.source)
        form.addRow(self.labels["mirror"], self.mirror)
        form.addRow(self.token_to_mirror)
        form.addRow(self.labels["token"], self.token)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        from .engines_page import EnginesPage

        self.engines = EnginesPage(paths)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.tabs.addTab(general, "")
        self.tabs.addTab(self.engines, "")
        outer = QVBoxLayout(self)
        outer.addWidget(self.tabs)
        outer.addWidget(buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        self.tabs.setTabText(0, self.tr("General"))
        self.tabs.setTabText(1, self.tr("Engines"))
        for combo, texts in ((self.language, (self.tr("Follow the system"), "简体中文", "English")),
                             (self.theme, (self.tr("Follow the system"), self.tr("Light"), self.tr("Dark"))),
                             (self.device, (self.tr("Automatic"), "NVIDIA CUDA", "Apple MPS", "CPU")),
                             (self.source, (self.tr("Automatic (the fastest that answers)"), self.tr("Hugging Face"),
                                            self.tr("Hugging Face mirror"), self.tr("ModelScope (China)")))):
            for i, text in enumerate(texts):
                combo.setItemText(i, text)
        self.profile.setItemText(max(0, self.profile.findData("auto")), self.tr("Automatic"))
        self.browse.setText(self.tr("Browse…"))
        self.data_dir.setToolTip(self.tr("Start the app with --data-dir or ZIMAGE_DESKTOP_DATA to move it."))
        self.previews.setText(self.tr("Show a preview after every step"))
        self.cpu_int8.setText(self.tr("Faster on the CPU: int8 layers (the picture changes slightly)"))
        self.cpu_int8.setToolTip(self.tr("For a GGUF transformer on the CPU profile: each step 2–3× faster, about "
                                         "1 GiB more memory; pictures differ from the file's exact ones by about "
                                         "half a grey level on average. x86 processors only."))
        self.token_to_mirror.setText(self.tr("Also send the Hugging Face token to this mirror (HTTPS only)"))
        self.token_to_mirror.setToolTip(self.tr("Off: the token goes to huggingface.co only. Turn on only for a "
                                                "mirror you trust with your account."))
        self.token.setPlaceholderText(self.tr("optional; stored readable only by you"))
        for key, text in (("language", self.tr("Language")), ("theme", self.tr("Theme")), ("models", self.tr("Models folder")),
                          ("data", self.tr("Data folder")), ("device", self.tr("Device")),
                          ("profile", self.tr("Memory profile")), ("source", self.tr("Download source")),
                          ("mirror", self.tr("Mirror address")), ("token", self.tr("Hugging Face token"))):
            self.labels[key].setText(text)
        self._explain()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Models folder"), self.models_dir.text())
        if folder:
            self.models_dir.setText(folder)

    def _explain(self) -> None:
        from ..engine.planner import gpu_index_of, plan_for_folder
        from ..errors import BadInputError
        from .plan_text import explain_plan

        if self.machine is None:
            self.plan_label.setText(self.tr("Detecting this computer's graphics card and memory…"))
            self.residency.clear_plan()
            return
        device, profile = self.device.currentData() or "auto", self.profile.currentData()
        if device in ("cpu", "mps") and profile == "auto":
            profile = device
        # the plan the model manager and `models plan` show: for the folder's files, not in general
        folder = Path(self.models_dir.text()).expanduser()
        try:
            plan = plan_for_folder(self.machine, folder, profile, gpu_index_of(device),  # type: ignore[arg-type]
                                   cpu_int8=self.cpu_int8.isChecked() and self.cpu_int8.isEnabled())
        except BadInputError as exc:  # a GPU index this machine does not have
            self.plan_label.setText(exc.render(self.settings.shown_language))
            self.residency.clear_plan()
            return
        self.plan_label.setText(explain_plan(plan))
        self.residency.show_plan(plan)

    def changes(self) -> dict:
        """The settings as the dialog shows them (saves a typed token right away, outside settings)."""
        from ..models.sources import save_token

        if self.token.text().strip():
            save_token(self.paths.data, self.token.text())
        models = self.models_dir.text().strip()
        return dict(language=self.language.currentData(), theme=self.theme.currentData(),
                    models_dir="" if models == str(self.paths.default_models) else models,
                    device=self.device.currentData(), profile=self.profile.currentData(),
                    previews=self.previews.isChecked(), download_source=self.source.currentData(),
                    cpu_int8=self.cpu_int8.isChecked(),
                    hf_mirror=self.mirror.text().strip() or self.settings.hf_mirror,
                    hf_token_to_mirror=self.token_to_mirror.isChecked())
