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


def _rows(table) -> dict[str, list[str]]:
    return {row[0]: row for row in table.cell_texts()[1:]}


def test_model_manager_shows_the_plans_residency_table_in_both_languages(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from zimage_desktop.engine.planner import plan_for_folder
    from zimage_desktop.ui.model_manager_dialog import ModelManagerDialog
    from zimage_desktop.ui.settings_store import SettingsStore
    from zimage_desktop.ui.translations import Translations

    paths = Paths.resolve(tmp_path)
    store = SettingsStore(paths, Settings(profile="16gb"))
    one_gpu = MachineInfo(gpus=(GpuInfo(0, "RTX 4080", 16 * G, 16 * G, (8, 9), True),), total_ram=16 * G)
    dialog = ModelManagerDialog(paths, store, one_gpu)
    qtbot.addWidget(dialog)
    plan = plan_for_folder(one_gpu, store.models_path(), "16gb")
    table = plan.table()
    rows = _rows(dialog.residency)
    headers = dialog.residency.cell_texts()[0]
    # One row per component with its form, its size as held and where it is in each phase.
    encoder, transformer = rows["Text encoder"], rows["Transformer"]
    assert encoder[1] == table.component("text_encoder").form and transformer[1] == table.component("transformer").form
    assert float(transformer[2]) == round(table.component("transformer").gib, 2)
    assert encoder[headers.index("Encode")] == "CUDA:0" and encoder[headers.index("Denoise")] == "RAM"  # the swap
    assert transformer[headers.index("Encode")] == "RAM" and transformer[headers.index("Denoise")] == "CUDA:0"
    # The edit's phase (a source or control picture through the VAE encoder) shows as its own column:
    # the resident VAE on the GPU, the transformer still in RAM where the prompt's encoder left it.
    assert rows["VAE"][headers.index("Encode picture")] == "CUDA:0"
    assert transformer[headers.index("Encode picture")] == "RAM"
    # The peaks are the plan's own (what the planner warns with), not a second estimate.
    assert float(rows["VRAM GiB"][-1]) == round(plan.predicted_vram_gib, 1)
    assert float(rows["RAM GiB"][-1]) == round(plan.predicted_ram_gib, 1)
    assert f"{plan.predicted_ram_gib:.1f} GiB RAM" in dialog.explanation.text()
    assert "moved to the GPU only to encode" in dialog.residency.toolTip()
    # 16 GB of RAM under a 20 GiB peak (both swap members and loading): the planner's warning shows.
    assert plan.predicted_ram_gib > 16 and "GiB of RAM" in dialog.explanation.text()

    translations = Translations.for_app(QApplication.instance())
    try:
        translations.apply("zh_CN")
        qtbot.waitUntil(lambda: "文本编码器" in _rows(dialog.residency), timeout=5000)
        zh_headers = dialog.residency.cell_texts()[0]
        assert "峰值" in zh_headers and "存储形式" in zh_headers and "Peak" not in zh_headers
        assert "图片编码" in zh_headers and "Encode picture" not in zh_headers
        assert float(_rows(dialog.residency)["内存 GiB"][-1]) == round(plan.predicted_ram_gib, 1)
        assert "GiB of RAM" not in dialog.explanation.text()  # the warning too is in Chinese
    finally:
        translations.apply("en")


def test_the_lora_rows_show_in_both_languages(qtbot):
    """A plan made with LoRAs shows their row (the file's matrices, a copy kept in RAM); a merged
    set's backup and a ControlNet have their own rows."""
    from PySide6.QtWidgets import QApplication

    from zimage_desktop.engine.planner import make_plan
    from zimage_desktop.engine.request_table import RequestParts
    from zimage_desktop.ui.plan_text import residency_cells
    from zimage_desktop.ui.translations import Translations

    plan = make_plan(TWO_GPUS, {"bf16"}, "24gb", gpu_index=1, lora_gib=0.3)
    parts = RequestParts(edit=True, lora_gib=0.3, lora_backup="pinned", lora_backup_gib=1.2, control="offload",
                         control_gib=3.0)
    headers, rows = residency_cells(plan)
    cells = {row[0]: row for row in rows}
    assert cells["LoRA matrices"][headers.index("Denoise")] == "CUDA:1" and "copy in RAM" in cells["LoRA matrices"][1]
    headers, rows = residency_cells(plan, parts=parts)
    cells = {row[0]: row for row in rows}
    assert "pinned" in cells["LoRA backup"][1] and cells["LoRA backup"][headers.index("Denoise")] == "RAM"
    assert cells["ControlNet"][headers.index("Denoise")] == "streamed"
    translations = Translations.for_app(QApplication.instance())
    try:
        translations.apply("zh_CN")
        headers, rows = residency_cells(plan, parts=parts)
        names = [row[0] for row in rows]
        assert "LoRA 矩阵" in names and "LoRA 备份" in names and "图片编码" in headers
    finally:
        translations.apply("en")
