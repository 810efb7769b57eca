"""The Edit tab's keys on the canvas: brush size ([ ]), undo/redo of the layer being drawn, the
tools (B brush, X eraser, R rectangle) and Ctrl+Enter to submit, also from the Edit panel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut

from .mask_editor import BRUSH, ERASER, RECTANGLE

if TYPE_CHECKING:
    from .edit_flow import EditFlow


def canvas_shortcuts(flow: EditFlow) -> list[QShortcut]:
    """Keys while the canvas has focus (a click on it gives it focus): the gallery's Ctrl+Z, bound
    to the thumbnails only, keeps undoing deletes there. Returns the canvas's shortcuts."""
    canvas = flow.window.canvas
    keys: tuple[tuple[Any, Any], ...] = (
        ("[", lambda: flow._layer().smaller()), ("]", lambda: flow._layer().bigger()),
        (QKeySequence.StandardKey.Undo, lambda: flow._layer().undo_stack.undo()),
        (QKeySequence.StandardKey.Redo, lambda: flow._layer().undo_stack.redo()),
        ("Ctrl+Shift+Z", lambda: flow._layer().undo_stack.redo()),
        ("B", lambda: flow._pick_tool(BRUSH)), ("X", lambda: flow._pick_tool(ERASER)),
        ("R", lambda: flow._pick_tool(RECTANGLE)), ("Ctrl+Return", flow.submit),
    )
    shortcuts: list[QShortcut] = []
    seen: set[str] = set()
    for key, slot in keys:
        sequence = QKeySequence(key)
        if sequence.toString() in seen:  # Redo is Ctrl+Shift+Z on some platforms already
            continue
        seen.add(sequence.toString())
        shortcut = QShortcut(sequence, canvas, slot)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcuts.append(shortcut)
    panel_submit = QShortcut(QKeySequence("Ctrl+Return"), flow.panel, flow.submit)
    panel_submit.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    flow.window.preview.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return shortcuts
