"""Scrolling a long form with the mouse wheel must not change the combo and spin boxes that pass
under the pointer: without focus they hand the wheel to the scroll area around them; once the user
clicked or tabbed into one, the wheel changes it as usual."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return super().eventFilter(watched, event)
        area = watched.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:
            # Handed on explicitly: Qt passes only spontaneous wheel events to the parents.
            QCoreApplication.sendEvent(area.verticalScrollBar(), event)
        return True


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guards every combo and spin box under ``root``; the wheel no longer gives them focus either."""
    guard = WheelGuard(root)
    for widget in [*root.findChildren(QComboBox), *root.findChildren(QAbstractSpinBox)]:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(guard)
    return guard
