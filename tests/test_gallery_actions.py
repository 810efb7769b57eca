"""The gallery's actions, offscreen: keys, the context menu, the buttons over a hovered thumbnail,
the strip/grid sizing (Chinese captions never cut), elided captions, and the viewer's actions."""

import shutil

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.saving import write_thumbnail
from zimage_desktop.history.store import HistoryStore
from zimage_desktop.ui.gallery import KEYS, GalleryView
from zimage_desktop.ui.gallery_cells import ICON, caption_lines, line_height

PROMPTS = ["海报，标题文字“新春特惠”，金色粗体，居中；背景是红色灯笼和梅花，柔和的晨光",
           "a lighthouse on a cliff at dusk, waves crashing below, warm light in the window",
           "熊猫吃竹子"]


def _history(folder, prompts=PROMPTS, db=None):
    """A store with one real 64×48 PNG (and thumbnail) per prompt; the last prompt is the newest."""
    folder.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(db or folder / "h.sqlite3")
    for i, prompt in enumerate(prompts):
        image = Image.new("RGB", (64, 48), (40 * i, 100, 200))
        image.save(folder / f"{i}.png")
        write_thumbnail(image, folder / f"{i}.jpg")
        store.add(GenerationRequest(prompt=prompt, seed=100 + i, width=256, height=256), folder / f"{i}.png",
                  thumb_path=folder / f"{i}.jpg", created=1_790_000_000.0 + i)
    return store


@pytest.fixture
def gallery(qtbot, tmp_path):
    view = GalleryView(_history(tmp_path), tmp_path / "trash")
    qtbot.addWidget(view)
    view.resize(900, 420)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitActive(view)
    view.view.setFocus()
    view.view.setCurrentIndex(view.model.index(0))
    yield view
    if getattr(view, "viewer", None) is not None:
        view.viewer.close()
    view.shutdown()


def _key(qtbot, widget, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(widget, key, modifier)


def test_keys_view_favourite_copy_delete_undo_and_rerun(qtbot, gallery):
    from pathlib import Path

    view, store = gallery.view, gallery.store
    first = gallery.model.rows[0]
    assert first.prompt == PROMPTS[2]  # newest first
    _key(qtbot, view, Qt.Key.Key_Return)
    assert gallery.viewer.isVisible() and PROMPTS[2] in gallery.viewer.details.toPlainText()
    gallery.viewer.close()
    gallery.activateWindow()
    qtbot.waitActive(gallery)
    view.setFocus()

    _key(qtbot, view, Qt.Key.Key_F)
    assert store.get(first.id).favourite and gallery.model.rows[0].favourite
    _key(qtbot, view, Qt.Key.Key_F)
    assert not store.get(first.id).favourite
    gallery.search.setFocus()
    _key(qtbot, gallery.search, Qt.Key.Key_F)  # a letter typed into the search box stays a letter
    assert gallery.search.text() == "f" and not store.get(first.id).favourite
    gallery.search.clear()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 3, timeout=5000)
    view.setFocus()
    view.setCurrentIndex(gallery.model.index(0))

    QGuiApplication.clipboard().clear()
    _key(qtbot, view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().image().size().toTuple() == (64, 48)

    with qtbot.waitSignal(gallery.rerun, timeout=5000) as rerun:
        _key(qtbot, view, Qt.Key.Key_R)
    assert rerun.args[0].id == first.id and rerun.args[1] is False
    with qtbot.waitSignal(gallery.rerun, timeout=5000) as vary:
        _key(qtbot, view, Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)
    assert vary.args[0].id == first.id and vary.args[1] is True

    _key(qtbot, view, Qt.Key.Key_Delete)
    assert gallery.model.rowCount() == 2 and store.get(first.id) is None
    assert not Path(first.path).exists() and any(gallery.trash_dir.iterdir())
    assert view.currentIndex().row() == 0 and gallery.selected()[0].prompt == PROMPTS[1]  # Del can go on
    _key(qtbot, view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert gallery.model.rowCount() == 3 and Path(first.path).exists()
    assert gallery.model.rows[0].prompt == PROMPTS[2]


def test_context_menu_has_every_action_with_its_keys(qtbot, gallery):
    names = [a.objectName() for a in gallery.context_menu.actions() if not a.isSeparator()]
    assert names == [f"gallery_{name}" for name in ("view", "use", "rerun", "vary", "edit", "favourite", "copy", "export",
                                                   "compare", "canvas", "folder", "delete", "undo")]
    assert all(a.text() for a in gallery.context_menu.actions() if not a.isSeparator())
    assert gallery.commands["favourite"].shortcut().toString() == "F"
    assert gallery.commands["edit"].shortcut().toString() == "E"
    assert gallery.commands["delete"].shortcut().matches(Qt.Key.Key_Delete) != 0
    # a right click on an image not selected selects it first: the menu acts on what was clicked
    rect = gallery.view.visualRect(gallery.model.index(1))
    gallery.view.customContextMenuRequested.emit(rect.center())
    qtbot.waitUntil(gallery.context_menu.isVisible, timeout=5000)
    assert [r.prompt for r in gallery.selected()] == [PROMPTS[1]]
    assert not gallery.commands["compare"].isEnabled() and not gallery.commands["undo"].isEnabled()
    gallery.context_menu.close()
    gallery.view.selectAll()
    assert not gallery.commands["compare"].isEnabled()  # three selected; compare takes two
    assert gallery.more_button.menu() is not None and gallery.import_action in gallery.more_button.menu().actions()
    assert set(KEYS) == set(gallery.commands)


def test_hover_buttons_favourite_and_delete_their_own_image(qtbot, gallery):
    view = gallery.view
    view.setCurrentIndex(gallery.model.index(0))
    index = gallery.model.index(1)
    buttons = view.cells.overlay_rects(view.visualRect(index))
    qtbot.mouseMove(view.viewport(), buttons["favourite"].center())
    qtbot.waitUntil(lambda: view.cells.hovered == (1, "favourite"), timeout=5000)
    view.viewport().grab()  # paints the hovered cell with its buttons
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=buttons["favourite"].center())
    second = gallery.model.rows[1]
    assert second.favourite and gallery.store.get(second.id).favourite
    assert not gallery.model.rows[0].favourite  # not the image that was selected before
    clicks = []
    view.cells.overlay_clicked.connect(lambda index, name: clicks.append(name))
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=buttons["favourite"].center())
    assert not hasattr(gallery, "viewer")  # a (double) click on a button opens nothing
    assert clicks and gallery.store.get(second.id).favourite == (len(clicks) % 2 == 0)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=buttons["delete"].center())
    assert gallery.model.rowCount() == 2 and gallery.store.get(second.id) is None
    thumb = view.cells.thumb_rect(view.visualRect(gallery.model.index(1)))
    spot = thumb.bottomLeft() + QPoint(10, -10)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)  # a double click's first click
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert gallery.viewer.isVisible() and gallery.viewer.row == 1  # elsewhere on the thumbnail: open it


def test_strip_in_chinese_fits_thumbnail_and_captions_then_becomes_a_grid(qtbot, gallery):
    from zimage_desktop.ui.translations import Translations

    translations = Translations.for_app(QGuiApplication.instance())
    translations.apply("zh_CN")
    try:
        qtbot.waitUntil(lambda: gallery.fav_only.text() == "★ 收藏", timeout=5000)  # LanguageChange is posted
        view = gallery.view
        font = QFont(view.font())
        font.setPointSize(font.pointSize() + 4)  # a large CJK UI font, as some desktops set
        view.setFont(font)
        height = line_height(view.font())
        assert height >= QFontMetrics(view.font()).lineSpacing()
        gallery.resize(900, gallery.minimumSizeHint().height())  # the shortest the pane can be
        qtbot.waitUntil(lambda: view.is_strip(), timeout=5000)
        assert view.minimumHeight() >= ICON + 2 * height
        cell = view.visualRect(gallery.model.index(0))
        assert view.viewport().rect().contains(cell), (cell, view.viewport().rect())  # nothing cut
        assert cell.height() >= ICON + 2 * height
        assert not view.verticalScrollBar().isVisible()
        gallery.resize(300, 900)
        qtbot.waitUntil(lambda: view.isWrapping(), timeout=5000)  # tall: a grid, rows under rows
        qtbot.waitUntil(lambda: view.visualRect(gallery.model.index(2)).top()
                        > view.visualRect(gallery.model.index(0)).bottom(), timeout=5000)
    finally:
        translations.apply("en")
        qtbot.waitUntil(lambda: gallery.fav_only.text() == "★ Favourites", timeout=5000)


def test_captions_elide_to_the_cell_width_and_tooltips_keep_the_whole_prompt(gallery):
    font = gallery.view.font()
    metrics = QFontMetrics(font)
    long = gallery.model.rows[1].prompt
    assert gallery.model.data(gallery.model.index(1)) == long  # the model keeps it whole; the cell elides
    assert long in gallery.model.data(gallery.model.index(1), Qt.ItemDataRole.ToolTipRole)
    narrow = caption_lines(long, font, 120)
    wide = caption_lines(long, font, 300)
    assert len(narrow) == 2 and narrow[-1].endswith("…")
    assert all(metrics.horizontalAdvance(line) <= 120 for line in narrow)
    assert len("".join(wide)) > len("".join(narrow))  # a wider cell shows more, not a fixed 24 characters
    assert caption_lines("熊猫吃竹子", font, 120) == ["熊猫吃竹子"]
    chinese = caption_lines(PROMPTS[0], font, 120)  # no spaces: wrapped between characters
    assert len(chinese) == 2 and chinese[-1].endswith("…") and chinese[0] and PROMPTS[0].startswith(chinese[0])


def test_viewer_actions_and_keys(qtbot, gallery, tmp_path):
    gallery.open_viewer()
    viewer = gallery.viewer
    qtbot.waitUntil(lambda: QApplication.activeWindow() is viewer, timeout=5000)  # keys go to the viewer
    assert viewer.commands["favourite"].toolTip().endswith("(F)") and "(←)" in viewer.prev_button.text()
    assert {"use", "rerun", "vary", "favourite", "copy", "save", "folder", "delete"} <= set(viewer.commands)
    _key(qtbot, viewer, Qt.Key.Key_Right)
    assert viewer.row == 1 and PROMPTS[1] in viewer.details.toPlainText()
    _key(qtbot, viewer, Qt.Key.Key_F)
    assert gallery.store.get(gallery.model.rows[1].id).favourite and viewer.commands["favourite"].isChecked()
    _key(qtbot, viewer, Qt.Key.Key_Left)
    assert viewer.row == 0 and not viewer.commands["favourite"].isChecked()
    with qtbot.waitSignal(gallery.rerun, timeout=5000) as rerun:
        _key(qtbot, viewer, Qt.Key.Key_R)
    assert rerun.args[0].prompt == PROMPTS[2] and rerun.args[1] is False
    saved = viewer.save_as(str(tmp_path / "copy.png"))
    assert (tmp_path / "copy.png").read_bytes() == (tmp_path / "2.png").read_bytes() and saved
    QGuiApplication.clipboard().clear()
    _key(qtbot, viewer, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().image().width() == 64
    _key(qtbot, viewer, Qt.Key.Key_Delete)
    assert gallery.model.rowCount() == 2 and viewer.row == 0 and PROMPTS[1] in viewer.details.toPlainText()
    from zimage_desktop.ui.translations import Translations

    translations = Translations.for_app(QGuiApplication.instance())
    translations.apply("zh_CN")
    try:
        qtbot.waitUntil(lambda: viewer.commands["favourite"].toolTip() == "★ 收藏  (F)", timeout=5000)
    finally:
        translations.apply("en")
    with qtbot.waitSignal(gallery.use_parameters, timeout=5000) as used:
        viewer.commands["use"].trigger()
    assert used.args[0].prompt == PROMPTS[1] and not viewer.isVisible()


def test_r_in_the_window_re_runs_through_the_controller(qtbot, tmp_path, tiny_models):
    import json

    from zimage_desktop.app import run_app

    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(tiny_models.gguf, data / "models")
    (data / "settings.json").write_text(json.dumps({"device": "cpu", "language": "en"}))
    _history(data / "images", PROMPTS[2:], db=data / "history.sqlite3").close()
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    try:
        gallery = win.gallery
        assert gallery is not None and gallery.model.rowCount() == 1
        parent = gallery.model.rows[0]
        win.activateWindow()
        qtbot.waitActive(win)
        gallery.view.setFocus()
        gallery.view.setCurrentIndex(gallery.model.index(0))
        _key(qtbot, gallery.view, Qt.Key.Key_R)
        qtbot.waitUntil(lambda: gallery.model.rowCount() == 2, timeout=60000)
        child = gallery.model.rows[0]
        assert child.parent_id == parent.id and child.request.seed == parent.request.seed
        # the context menu compares the selected image with the one on the canvas (the new result)
        gallery.view.setCurrentIndex(gallery.model.index(1))
        gallery.commands["canvas"].trigger()
        canvas = win.canvas
        assert canvas.mode.currentData() == "split" and canvas.reference() is not None
        assert canvas.reference().size() == QImage(parent.path).size() and canvas.preview.split_image is canvas.reference()
    finally:
        win.close()

