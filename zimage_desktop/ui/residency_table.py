"""The plan's residency table as a widget: one row per component (its form, its size as held,
where it is while loading and in each phase), then the predicted VRAM and RAM per phase and their
peaks. Settings and the model manager show the same widget for the plan they describe."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from ..engine.planner import MemoryPlan
from .plan_text import residency_cells


class ResidencyTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("residencyTable")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.verticalHeader().hide()

    def show_plan(self, plan: MemoryPlan | None, width: int = 1024, height: int = 1024) -> None:
        """Fill the table for ``plan`` at this image size (nothing when there is no plan yet)."""
        if plan is None:
            self.clear_plan()
            return
        headers, rows = residency_cells(plan, width, height)
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.setItem(r, c, QTableWidgetItem(text))
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Tall enough for every row (five at most): a table that scrolls hides the peaks.
        height = self.horizontalHeader().sizeHint().height() + sum(self.rowHeight(r) for r in range(self.rowCount()))
        self.setFixedHeight(height + 2 * self.frameWidth() + 2)

    def clear_plan(self) -> None:
        self.setRowCount(0)
        self.setColumnCount(0)

    def cell_texts(self) -> list[list[str]]:
        """The table as text, row by row (headers first): what a reader of the dialog sees."""
        def text(item: QTableWidgetItem | None) -> str:
            return item.text() if item is not None else ""

        headers = [text(self.horizontalHeaderItem(c)) for c in range(self.columnCount())]
        return [headers] + [[text(self.item(r, c)) for c in range(self.columnCount())] for r in range(self.rowCount())]
