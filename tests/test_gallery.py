"""The gallery over 10,000 history rows, offscreen: paging, visible-only thumbnails, search."""

import pytest
from PIL import Image

from zimage_desktop.devkit.history import fill_history
from zimage_desktop.history.saving import write_thumbnail
from zimage_desktop.history.store import HistoryStore
from zimage_desktop.ui.gallery import GalleryView
from zimage_desktop.ui.gallery_model import PAGE


def rss_mb():
    from pathlib import Path

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture
def big_gallery(qtbot, tmp_path):
    image = Image.effect_noise((512, 512), 64).convert("RGB")
    image.save(tmp_path / "img.png")
    write_thumbnail(image, tmp_path / "thumb.jpg")
    store = HistoryStore(tmp_path / "h.sqlite3")
    fill_history(store, 10_000, tmp_path / "img.png", tmp_path / "thumb.jpg")
    view = GalleryView(store, tmp_path / "trash")
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    yield view
    view.shutdown()


def test_scrolling_10k_rows_pages_and_loads_only_visible_thumbnails(qtbot, big_gallery):
    view = big_gallery
    assert view.model.total == 10_000 and view.model.rowCount() == PAGE  # never all rows at once
    rss_before = rss_mb()
    bar = view.view.verticalScrollBar()
    requested = set()
    for i in range(2000):
        # a page down at a time for the first rows, then jumps to the end (as a user dragging the bar)
        bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()) if i < 30 else bar.maximum())
        qtbot.wait(1)
        requested |= view.model.pending | set(view.model.cache)
        if view.model.rowCount() == 10_000 and bar.value() == bar.maximum():
            break
    assert view.model.rowCount() == 10_000
    assert bar.value() == bar.maximum()
    # Thumbnails were read for the rows scrolled past on screen, a small share of all rows.
    assert 0 < len(requested) < 5_000
    assert len(view.model.cache) <= view.model.cache_size
    assert rss_mb() - rss_before < 150
    newest = view.model.rows[0]
    assert newest.prompt.endswith("#9999")


def test_search_over_10k_rows(qtbot, big_gallery):
    view = big_gallery
    view.search.setText("新春特惠")
    qtbot.waitUntil(lambda: 0 < view.model.total < 10_000, timeout=30000)
    assert all("新春特惠" in r.prompt for r in view.model.rows)
    assert view.last_search_ms < 200  # generous in CI; bench/history_scale.py measures the median


def test_shape_and_date_filters_in_the_view(qtbot, big_gallery):
    view = big_gallery
    view.shape_filter.setCurrentIndex(view.shape_filter.findData("portrait"))
    assert view.model.total == 0
    view.shape_filter.setCurrentIndex(view.shape_filter.findData("square"))
    assert view.model.total == 10_000
    view.date_filter.setCurrentIndex(view.date_filter.findData(7))  # the synthetic rows are from 2023
    assert view.model.total == 0
