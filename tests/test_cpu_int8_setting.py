"""The window's int8 setting (issue 28): what `generate --cpu-int8` does, for people who never open
a terminal. The settings dialog shows the plan it makes, the window's engine follows the setting
as it is when the next image starts, and a change reloads the model in the other form."""

from __future__ import annotations

import pytest

from zimage_desktop.config import Paths, Settings
from zimage_desktop.engine.devices import MachineInfo
from zimage_desktop.engine.gguf_int8 import available

G = 1024**3
CPU_ONLY = MachineInfo(gpus=(), total_ram=32 * G)


def test_the_dialog_shows_the_int8_plan_and_saves_the_choice(qtbot, tmp_path):
    from zimage_desktop.ui.settings_dialog import SettingsDialog

    # An empty models folder: the plan is for the CPU profile's download (the catalog's sizes).
    (tmp_path / "models").mkdir()
    settings = Settings(device="cpu", models_dir=str(tmp_path / "models"))
    dialog = SettingsDialog(Paths.resolve(tmp_path), settings, CPU_ONLY)
    qtbot.addWidget(dialog)

    def transformer_size() -> float:
        t = dialog.residency
        row = next(r for r in range(t.rowCount()) if t.item(r, 0) and t.item(r, 0).text() == "Transformer")
        return float(t.item(row, 2).text())

    assert "int8" not in dialog.plan_label.text() and dialog.changes()["cpu_int8"] is False
    plain = transformer_size()
    if not dialog.cpu_int8.isEnabled():
        pytest.skip("int8 layers are offered on x86 only")
    dialog.cpu_int8.setChecked(True)
    assert "int8" in dialog.plan_label.text()
    assert transformer_size() != plain  # the table counts the int8 form
    assert dialog.changes()["cpu_int8"] is True


@pytest.mark.skipif(not available(), reason="oneDNN's int8 linear is x86-only")
def test_the_windows_engine_follows_the_setting_and_reloads(qtbot, tmp_path, tiny_models):
    from zimage_desktop.engine.gguf_int8 import Int8Linear
    from zimage_desktop.ui.controller import GenerationController
    from zimage_desktop.ui.settings_store import SettingsStore
    from zimage_desktop.ui.worker import GenerationWorker

    paths = Paths.resolve(tmp_path / "data")
    store = SettingsStore(paths, Settings(device="cpu", models_dir=str(tiny_models.gguf)))
    worker = GenerationWorker(paths, store, GenerationController())
    gen = worker._current_generator()
    gen.ensure_loaded()
    assert gen.plan is not None and not gen.plan.transformer_int8 and not gen.plan.encoder_released
    store.update(cpu_int8=True)
    assert worker._current_generator() is gen and gen.cpu_int8
    gen.ensure_loaded()  # the plan differs: the model is loaded again, converted
    assert gen.plan is not None and gen.plan.transformer_int8
    assert any(isinstance(m, Int8Linear) for m in gen.pipe.transformer.modules())
    assert gen.prompts is not None and not gen.prompts.released  # the window keeps its encoder
    store.update(cpu_int8=False)
    worker._current_generator().ensure_loaded()
    assert not any(isinstance(m, Int8Linear) for m in gen.pipe.transformer.modules())
