"""HistoryActions has a narrow interface (issue 29, restructuring): it is built from the data folder
alone, without a main window, and asks for everything outside the history with signals. Real history
database, real PNGs with our metadata, a real drop event."""

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWidget

from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.metadata import write_png
from zimage_desktop.history.store import HistoryStore
from zimage_desktop.ui.history_actions import HistoryActions


def actions_for(qtbot, data: Path) -> tuple[HistoryActions, dict[str, list]]:
    host = QWidget()  # any widget: a dialog parent, nothing more
    qtbot.addWidget(host)
    actions = HistoryActions(Paths.resolve(str(data)), host)
    heard: dict[str, list] = {}
    for name in ("status", "apply_requested", "poster_requested", "rerun_requested", "edit_requested",
                 "edit_file_requested", "edit_recall_requested", "compare_requested", "lora_dropped"):
        getattr(actions, name).connect(lambda *args, name=name: heard.setdefault(name, []).append(args))
    return actions, heard


def drop(actions: HistoryActions, path: Path, on_canvas: bool = False) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    actions.drop(event, on_canvas)


def test_works_without_a_window_and_asks_by_signals(qtbot, tmp_path):
    data = tmp_path / "data"
    paths = Paths.resolve(str(data))
    paths.images.mkdir(parents=True)
    request = GenerationRequest(prompt="海报，标题文字“开业”", seed=7, width=256, height=256,
                                extra={"poster": {"headline": "开业"}})
    picture = paths.images / "a.png"
    write_png(picture, Image.new("RGB", (256, 256), (200, 30, 30)), request, {})
    store = HistoryStore(paths.history_db)
    image_id = store.add(request, picture)
    store.close()

    actions, heard = actions_for(qtbot, data)
    actions.build_gallery()
    assert actions.gallery is not None and actions.gallery.model.rowCount() == 1
    record = actions.gallery.store.get(image_id)

    actions.use_record(record)
    (asked, notes), = heard["apply_requested"]
    assert asked.prompt == request.prompt and asked.seed == 7 and notes == ()
    assert heard["poster_requested"][0][0].extra["poster"] == {"headline": "开业"}
    assert actions.next_parent_id == image_id  # what is made next descends from it

    actions.rerun_record(record, True)
    assert heard["rerun_requested"] == [(record, True)]
    actions.gallery.edit.emit(record)
    assert heard["edit_requested"] == [(record,)]

    # a PNG dropped beside the canvas: its parameters, read on a thread, come back as a request
    other = tmp_path / "dropped.png"
    write_png(other, Image.new("RGB", (320, 256)), GenerationRequest(prompt="dropped", seed=11, width=320, height=256), {})
    drop(actions, other)
    qtbot.waitUntil(lambda: len(heard.get("apply_requested", [])) == 2, timeout=5000)
    assert heard["apply_requested"][1][0].prompt == "dropped" and actions.next_parent_id is None
    drop(actions, other, on_canvas=True)  # on the canvas: opened for editing instead
    assert heard["edit_file_requested"] == [(str(other),)]
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"")
    drop(actions, lora)
    assert heard["lora_dropped"] == [(lora,)]


def test_history_actions_does_not_know_the_window():
    import ast

    source = (Path(__file__).parent.parent / "zimage_desktop" / "ui" / "history_actions.py").read_text(encoding="utf-8")
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert "main_window" not in imported  # not even for type hints
    assert "self.window" not in source
