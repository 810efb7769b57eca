"""The main window's layout: canvas zoom and compare, the narrow sidebar, per-job progress in the
queue, the light/dark palette and the layout kept between runs (pytest-qt, offscreen)."""


import pytest
from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QKeySequence, QPalette, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QLabel, QLineEdit, QWidget,
)

from zimage_desktop.app import run_app
from zimage_desktop.ui.canvas import CanvasPanel
from zimage_desktop.ui.preview_view import PreviewView
from zimage_desktop.ui.theme import ThemeController



def open_window(qtbot, data):
    win = run_app(str(data), exec_loop=False)
    qtbot.addWidget(win)
    events = []
    win.worker.worker_event.connect(events.append)
    win.events = events
    qtbot.waitUntil(lambda: any(e.kind in ("loaded", "failed") for e in events), timeout=30000)
    return win


@pytest.fixture
def window(qtbot, data_with_models):
    win = open_window(qtbot, data_with_models)
    yield win
    win.close()


def solid(colour, width=400, height=300):
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    return image


# -- canvas -------------------------------------------------------------------------------------

def wheel(view, pos, steps, modifiers=Qt.KeyboardModifier.ControlModifier):
    point = QPointF(pos)
    event = QWheelEvent(point, QPointF(view.viewport().mapToGlobal(pos)), QPoint(), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def image_point_at(view, pos):
    rect = view.label.image_rect()
    local = QPointF(view.label.mapFrom(view.viewport(), pos))
    return (local - rect.topLeft()) / view.scale()


def test_zoom_fits_goes_to_100_and_wheel_zooms_around_the_pointer(qtbot):
    view = PreviewView()
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    view.show_image(solid("#336699", 800, 600))
    assert view.zoom is None and view.scale() < 0.4  # fitted
    view.set_actual_size(True)
    assert view.actual_size and view.label.size().toTuple() == (800, 600)
    anchor = QPoint(60, 80)
    before = image_point_at(view, anchor)
    wheel(view, anchor, 1)
    assert view.zoom == pytest.approx(1.25)
    after = image_point_at(view, anchor)
    assert abs(after.x() - before.x()) < 1 and abs(after.y() - before.y()) < 1
    wheel(view, anchor, -1, Qt.KeyboardModifier.NoModifier)  # a plain wheel scrolls, never zooms
    assert view.zoom == pytest.approx(1.25)
    wheel(view, anchor, 40)
    assert view.zoom == 16.0  # capped: the canvas is painted, never a 16× pixmap
    view.set_zoom(None)
    assert not view.actual_size and view.scale() < 0.4


def test_dragging_pans_and_double_click_toggles_fit(qtbot):
    view = PreviewView()
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    view.show_image(solid("#336699", 1200, 900))
    view.set_zoom(1.0)
    h, v = view.horizontalScrollBar(), view.verticalScrollBar()
    start = (h.value(), v.value())
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    qtbot.mouseMove(view.viewport(), QPoint(150, 170))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(150, 170))
    assert (h.value(), v.value()) == (start[0] + 50, start[1] + 30)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert view.zoom is None


def pixel(view, x_fraction):
    """The colour shown at ``x_fraction`` across the image, halfway down."""
    rect = view.label.image_rect()
    shot = view.label.grab().toImage()
    return shot.pixelColor(round(rect.left() + rect.width() * x_fraction), round(rect.center().y())).name()


def test_compare_split_and_side_by_side_with_previous_and_history(qtbot):
    canvas = CanvasPanel(PreviewView())
    qtbot.addWidget(canvas)
    canvas.resize(900, 500)
    canvas.show()
    red, blue, green = solid("#ff0000"), solid("#0000ff"), solid("#00ff00")
    canvas.set_result(red)
    canvas.set_result(blue)
    assert canvas.previous is red and canvas.current is blue
    canvas.mode.setCurrentIndex(canvas.mode.findData("split"))
    assert canvas.split_slider.isVisible() and not canvas.other.isVisible()
    canvas.split_slider.setValue(300)
    assert pixel(canvas.preview, 0.15) == "#ff0000" and pixel(canvas.preview, 0.6) == "#0000ff"
    canvas.preview.set_zoom(4.0)
    canvas.preview.horizontalScrollBar().setValue(100)
    canvas.mode.setCurrentIndex(canvas.mode.findData("side"))
    assert canvas.other.isVisible() and canvas.other.image is red and canvas.preview.split_image is None
    assert canvas.preview.zoom == canvas.other.zoom == 4.0  # the zoom is kept, and shared
    qtbot.waitUntil(lambda: canvas.other.horizontalScrollBar().value() == canvas.preview.horizontalScrollBar().value() > 0)
    canvas.other.zoom_by(1.25)  # the two sides zoom together, whichever the wheel is over
    assert canvas.preview.zoom == pytest.approx(5.0)
    canvas.history_image = lambda: green
    canvas.compare_with_history()
    assert canvas.other.image is green
    canvas.mode.setCurrentIndex(canvas.mode.findData("off"))
    assert not canvas.other.isVisible() and canvas.preview.split_image is None


def test_compare_without_a_reference_says_why(qtbot):
    canvas = CanvasPanel(PreviewView())
    qtbot.addWidget(canvas)
    said = []
    canvas.status.connect(said.append)
    canvas.set_result(solid("#ff0000"))
    canvas.mode.setCurrentIndex(canvas.mode.findData("split"))
    assert said and "Nothing to compare" in said[-1]() and canvas.preview.split_image is None


# -- the window ---------------------------------------------------------------------------------

def test_layout_and_geometry_are_kept_between_runs(qtbot, data_with_models):
    win = open_window(qtbot, data_with_models)
    assert [s.objectName() for s in win.panes.splitters] == ["mainSplitter", "sidebarSplitter", "canvasSplitter"]
    assert win.gallery is not None and win.panes.canvas.indexOf(win.gallery) == 1
    # a size the offscreen screen (800×800) holds, or the window's minimum: what Qt restores as is
    width = max(win.minimumSizeHint().width(), 780)
    win.resize(width, 700)
    win.panes.main.setSizes([win.panes.sidebar.minimumSizeHint().width() + 40, 5000])
    win.panes.canvas.setSizes([300, 5000])  # the history enlarged into a grid
    win.panes.sidebar.setSizes([400, 5000])
    qtbot.waitUntil(lambda: win.height() == 700 and win.panes.canvas.sizes()[1] > 250)  # 200 as built
    sizes = [s.sizes() for s in win.panes.splitters]
    win.close()
    assert (data_with_models / "window-state.json").exists()
    again = open_window(qtbot, data_with_models)
    assert again.size().toTuple() == (width, 700)
    assert [s.sizes() for s in again.panes.splitters] == sizes
    again.close()
    (data_with_models / "window-state.json").write_text('{"geometry": "not base64!", "mainSplitter": 3}')
    damaged = open_window(qtbot, data_with_models)  # a damaged file only costs the layout
    assert damaged.height() != 700
    damaged.close()


def visible_controls(root: QWidget):
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QLabel)
    return [w for w in root.findChildren(QWidget) if isinstance(w, kinds) and w.isVisibleTo(root)]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_sidebar_narrowed_to_its_minimum_cuts_nothing_off(qtbot, window, language):
    window.language_requested.emit(language)
    window.panes.main.setSizes([0, 5000])  # as narrow as the splitter lets it be
    window.resize(1180, 500)  # short: the form scrolls instead of squeezing
    page = window.mode_tabs.widget(0)
    qtbot.waitUntil(lambda: window.panes.main.sizes()[0] == window.panes.sidebar.minimumSizeHint().width())
    assert window.panes.sidebar.minimumSizeHint().width() > 200
    for root in (page, window.queue):
        controls = visible_controls(root)
        assert len(controls) > (10 if root is page else 3)
        for widget in controls:
            if isinstance(widget, QLabel) and widget.wordWrap():
                continue
            assert widget.width() >= widget.minimumSizeHint().width(), widget.objectName() or type(widget)
            left = widget.mapTo(root, QPoint(0, 0)).x()
            assert 0 <= left and left + widget.width() <= root.width(), widget.objectName() or type(widget)
            shown = widget.visibleRegion().boundingRect()  # empty when scrolled out of sight (up or down)
            assert shown.isEmpty() or shown.width() == widget.width(), widget.objectName() or type(widget)
    assert window.generate_button.isVisible() and window.generate_button.visibleRegion().boundingRect().height() > 10


def test_a_vertical_scroll_area_is_never_narrower_than_its_content(qtbot):
    from PySide6.QtWidgets import QPushButton, QSplitter, QVBoxLayout

    from zimage_desktop.ui.scroll_area import VerticalScrollArea

    content = QWidget()
    column = QVBoxLayout(content)
    wide = QPushButton("a button with a rather long text that must never be cut off")
    column.addWidget(wide)
    for i in range(30):  # taller than the pane: the vertical bar shows
        column.addWidget(QLabel(f"row {i}"))
    scroll = VerticalScrollArea(content)
    splitter = QSplitter()
    splitter.addWidget(scroll)
    splitter.addWidget(QWidget())
    splitter.setCollapsible(0, False)
    qtbot.addWidget(splitter)
    splitter.resize(900, 300)
    splitter.show()
    splitter.setSizes([0, 900])
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().isVisible())
    assert scroll.width() == scroll.minimumSizeHint().width()
    assert content.width() <= scroll.viewport().width() and wide.width() >= wide.minimumSizeHint().width()
    assert not scroll.horizontalScrollBar().isVisible()


def test_each_job_shows_its_own_progress_in_the_queue(qtbot, window):
    window.prompt.setPlainText("progress per job")
    window.size_combo.select_custom()
    window.width_spin.setValue(1024)
    window.height_spin.setValue(1024)
    window.count_spin.setValue(4)
    window.generate()
    window.count_spin.setValue(1)
    window.generate()
    queue = window.queue
    qtbot.waitUntil(lambda: queue.current.isVisible() and queue.current_progress.value() > 0
                    and "step" in queue.current_progress.text() and queue.list.count() == 1, timeout=30000)
    assert queue.current_progress.maximum() == 1000  # the job's time, all four images (progress_text.BAR_MAX)
    assert "Image 1/4" in queue.current_progress.text() and "step" in queue.current_progress.text()
    waiting = queue.list.item(0)
    assert "1024×1024" in waiting.toolTip() and queue.list.visualItemRect(waiting).height() >= 2 * queue.fontMetrics().height()
    queue.cancel_all.click()
    qtbot.waitUntil(lambda: "cancelled" in [e.kind for e in window.events], timeout=60000)
    assert not queue.current.isVisible() and queue.list.count() == 0


def wait_for_lightness(qtbot, win, dark: bool):
    """The application palette reaches the widgets through posted events."""
    colour = lambda role: win.palette().color(role).lightness()  # noqa: E731
    qtbot.waitUntil(lambda: (colour(QPalette.ColorRole.Window) < 60 and colour(QPalette.ColorRole.WindowText) > 180)
                    if dark else colour(QPalette.ColorRole.Window) > 180)


def test_dark_scheme_gives_a_dark_window_and_the_theme_setting_wins(qtbot, window):
    app = QApplication.instance()
    theme = window.store.findChild(ThemeController)
    assert theme is not None and app.style().name().lower() == "fusion"
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the desktop turned dark
    assert theme.dark
    wait_for_lightness(qtbot, window, dark=True)
    assert window.grab().toImage().pixelColor(window.width() - 5, window.height() - 5).lightness() < 80
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not theme.dark
    wait_for_lightness(qtbot, window, dark=False)
    window.menus.themes["dark"].trigger()  # View ▸ Theme ▸ Dark: the setting, kept in settings.json
    assert window.settings.theme == "dark" and window.menus.themes["dark"].isChecked()
    wait_for_lightness(qtbot, window, dark=True)
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)  # a chosen theme ignores the desktop
    assert theme.dark
    window.store.update(theme="light")
    wait_for_lightness(qtbot, window, dark=False)



def test_the_settings_dialog_chooses_the_theme_too(qtbot, window):
    from zimage_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.paths, window.settings, window.machine, window)
    qtbot.addWidget(dialog)
    assert dialog.theme.currentData() == window.settings.theme
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    window.store.update(**dialog.changes())  # what the window does on OK
    assert window.settings.theme == "dark" and window.menus.themes["dark"].isChecked()
    wait_for_lightness(qtbot, window, dark=True)
    window.store.update(theme="system")


def test_settings_shortcut_and_view_menu(window):
    assert QKeySequence("Ctrl+,") in window.menus.settings.shortcuts()
    window.preview.show_image(solid("#123456"))
    window.menus.zoom.trigger()
    assert window.preview.zoom == 1.0 and window.menus.zoom.isChecked()
    window.menus.fit.trigger()
    assert window.preview.zoom is None and not window.menus.zoom.isChecked()
    assert window.panes.history_shown()
    window.menus.history.trigger()  # View ▸ History pane (Ctrl+H): the canvas takes its room
    assert not window.panes.history_shown() and window.panes.canvas.sizes()[1] == 0
    window.menus.history.trigger()
    assert window.panes.history_shown() and window.gallery.height() > 100


def test_a_live_preview_zooms_as_the_image_it_stands_for(qtbot):
    view = PreviewView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    view.nominal = QSize(1024, 768)
    view.show_image(solid("#808080", 128, 96))  # 1/8 of the image being made
    assert view.scale() == pytest.approx(400 / 1024, rel=0.05)
    view.set_zoom(1.0)
    assert view.label.size().toTuple() == (1024, 768)
