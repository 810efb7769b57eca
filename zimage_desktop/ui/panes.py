"""How the main window is divided: the sidebar (parameters over the queue) beside the canvas over
the history. Every pane is resizable, the history can be dragged up into a grid or down to
nothing, and the sizes — with the window's own geometry — are kept between runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLayout, QMainWindow, QSplitter, QVBoxLayout, QWidget

from .scroll_area import VerticalScrollArea
from .window_state import restore_layout, save_layout

HISTORY_HEIGHT = 200  # a strip of thumbnails with their captions


def prompt_page(form: QWidget, buttons: QLayout) -> QWidget:
    """The form scrolls; the buttons below it stay in reach however short the window is."""
    page = QWidget()
    column = QVBoxLayout(page)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(VerticalScrollArea(form), 1)
    column.addLayout(buttons)
    buttons.setContentsMargins(6, 4, 6, 6)
    return page


class MainPanes:
    def __init__(self, window: QMainWindow, state_file: Path, *, tabs: QWidget, queue: QWidget, center: QWidget,
                 gallery: QWidget | None) -> None:
        self.window, self.state_file = window, state_file
        self.sidebar = QSplitter(Qt.Orientation.Vertical)
        self.sidebar.setObjectName("sidebarSplitter")
        self.sidebar.addWidget(tabs)
        self.sidebar.addWidget(queue)
        self.sidebar.setStretchFactor(0, 1)
        self.sidebar.setCollapsible(0, False)
        self.sidebar.setSizes([520, 160])
        self.canvas = QSplitter(Qt.Orientation.Vertical)
        self.canvas.setObjectName("canvasSplitter")
        self.canvas.addWidget(center)
        self.canvas.setCollapsible(0, False)
        self.gallery = gallery
        if gallery is not None:
            self.canvas.addWidget(gallery)
            self.canvas.setStretchFactor(0, 1)
            self.canvas.setSizes([520, HISTORY_HEIGHT])
        self.main = QSplitter()
        self.main.setObjectName("mainSplitter")
        self.main.addWidget(self.sidebar)
        self.main.addWidget(self.canvas)
        self.main.setCollapsible(0, False)
        self.main.setCollapsible(1, False)
        self.main.setStretchFactor(1, 1)
        self.main.setSizes([420, 760])
        window.setCentralWidget(self.main)
        restore_layout(state_file, window, self.splitters)

    @property
    def splitters(self) -> list[QSplitter]:
        return [self.main, self.sidebar, self.canvas]

    def save(self) -> None:
        save_layout(self.state_file, self.window, self.splitters)

    def history_shown(self) -> bool:
        return self.gallery is not None and self.canvas.sizes()[1] > 0

    def show_history(self, on: bool) -> None:
        if self.gallery is None or on == self.history_shown():
            return
        total = sum(self.canvas.sizes())
        height = min(HISTORY_HEIGHT, total // 2) if on else 0
        self.canvas.setSizes([total - height, height])
