"""The size list (issue 29 item 13): grouped by shape under headings that cannot be chosen, the common
1024 tier first in each group, "Custom size…" at the top, a popup that scrolls instead of running past
the window, and draft sizes when the plan is slow."""

from dataclasses import replace

from PySide6.QtCore import Qt

from zimage_desktop.engine.sizes import BASE_1024, drafts_useful, grouped
from zimage_desktop.ui.size_combo import HEADING, SizeCombo
from zimage_desktop.ui.worker import Loaded


def rows(combo):
    return [(combo.itemText(i).strip(), bool(combo.itemData(i, HEADING))) for i in range(combo.count())]


def test_groups_by_shape_with_the_common_sizes_first(qtbot):
    combo = SizeCombo()
    qtbot.addWidget(combo)
    assert combo.itemText(0) == "Custom size…"
    assert combo.headings() == ["Square", "Landscape", "Portrait"]
    assert combo.chosen() == (1024, 1024) and not combo.is_custom()
    model = combo.model()
    for i in range(combo.count()):  # a heading is shown but can never be chosen
        enabled = bool(model.item(i).flags() & Qt.ItemFlag.ItemIsEnabled)
        assert enabled == (not combo.itemData(i, HEADING))
    # every official 1024-tier size is there, each one first in its group before the slower tiers
    texts = [t for t, heading in rows(combo) if not heading]
    for w, h, _ in BASE_1024:
        assert any(t.startswith(f"{w}×{h} ") for t in texts)
    for shape, items in grouped():
        tiers = [p.tier for p in items]
        assert tiers == sorted(tiers), shape
    landscape = next(items for shape, items in grouped() if shape == "landscape")
    assert (landscape[0].width, landscape[0].height) == (1152, 896)
    assert all("slower" in combo.itemText(i) for i in range(combo.count()) if "1536×1536" in combo.itemText(i))
    assert all("·" not in t.split()[0] for t in texts)  # no cryptic "1024 ·" tier prefix any more


def test_popup_scrolls_instead_of_running_past_the_window(qtbot):
    combo = SizeCombo()
    qtbot.addWidget(combo)
    combo.show()
    combo.showPopup()
    popup = combo.view().window()
    qtbot.waitUntil(popup.isVisible)
    row = combo.view().sizeHintForRow(1)
    assert popup.height() <= row * (combo.maxVisibleItems() + 2)  # not all 37 rows at once
    combo.hidePopup()


def test_keys_skip_headings_and_choosing_custom_keeps_the_numbers(qtbot):
    combo = SizeCombo()
    qtbot.addWidget(combo)
    combo.select(1024, 1024)
    qtbot.keyClick(combo, Qt.Key.Key_Up)  # the Square heading above 1024² is skipped
    assert combo.is_custom()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.chosen() == (1024, 1024)
    assert not combo.select(1000, 1000) and combo.is_custom()


def test_draft_sizes_only_when_the_plan_is_slow(qtbot, window):
    # the tiny model runs on this machine's CPU: the draft sizes are offered, first
    plan = next(e.plan for e in window.events if e.kind == "loaded")
    assert plan.device == "cpu"
    combo = window.size_combo
    assert combo.headings()[0].startswith("Draft")
    assert combo.chosen() == (1024, 1024)  # offering drafts does not change the chosen size
    combo.select(512, 512)
    values = window.form.values()
    assert (values["width"], values["height"]) == (512, 512)
    request = window.build_request() if window.prompt.setPlainText("a cat") is None else None
    assert (request.width, request.height) == (512, 512)
    # a GPU that holds the whole model: no drafts; the draft size that was chosen stays as a custom size
    window.on_worker_event(Loaded(plan=replace(plan, device="cuda", offload="none")))
    assert combo.headings() == ["Square", "Landscape", "Portrait"]
    assert combo.is_custom()
    assert (window.width_spin.value(), window.height_spin.value()) == (512, 512)


def test_which_plans_are_slow():
    assert drafts_useful("cpu", "none")
    assert drafts_useful("cuda", "group")  # the 4 GB profile streams the transformer
    assert not drafts_useful("cuda", "none") and not drafts_useful("cuda", "model")
