"""Issue 27 in the window: Settings offers each GPU by index and shows the plan's residency table."""

from zimage_desktop.config import Paths, Settings
from zimage_desktop.engine.devices import GpuInfo, MachineInfo

G = 1024**3
TWO_GPUS = MachineInfo(gpus=(GpuInfo(0, "GTX 1050 Ti", 4 * G, 4 * G, (6, 1), False),
                             GpuInfo(1, "RTX 4090", 24 * G, 24 * G, (8, 9), True)), total_ram=64 * G)


def test_settings_pick_a_gpu_and_show_its_residency_table(qtbot, tmp_path):
    from zimage_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Paths.resolve(tmp_path), Settings(), TWO_GPUS)
    qtbot.addWidget(dialog)
    codes = [dialog.device.itemData(i) for i in range(dialog.device.count())]
    assert "cuda:0" in codes and "cuda:1" in codes
    def cells():
        t = dialog.residency
        return " ".join(t.item(r, c).text() for r in range(t.rowCount()) for c in range(t.columnCount()) if t.item(r, c))

    assert "CUDA:1" in cells() and "Transformer" in cells()  # auto: the 4090
    dialog.device.setCurrentIndex(codes.index("cuda:0"))
    assert "CUDA:0" in cells() and "layer by layer" in dialog.plan_label.text()  # 4gb
    assert dialog.changes()["device"] == "cuda:0"
    dialog.device.setCurrentIndex(codes.index("cpu"))
    assert "CPU" in cells() and "CUDA" not in cells()


def test_a_saved_gpu_choice_survives_loading(tmp_path):
    paths = Paths.resolve(tmp_path)
    Settings(device="cuda:1").save(paths)
    assert Settings.load(paths).device == "cuda:1"
    Settings(device="gpu-one").save(paths)
    assert Settings.load(paths).device == "auto"
