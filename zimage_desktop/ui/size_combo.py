"""The size list: "Custom size…" first, then the presets grouped by shape under headings that cannot
be chosen (draft sizes first when the plan is slow), each item "1248×832  3:2 · photo".

``currentData()`` is ``(width, height)`` for a preset and ``None`` for "Custom size…".
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from ..engine.sizes import SizePreset, grouped

HEADING = Qt.ItemDataRole.UserRole + 1  # the shape key on a heading row
DEFAULT_SIZE = (1024, 1024)
VISIBLE_ROWS = 16  # the popup scrolls instead of running past the window


class SizeCombo(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sizeCombo")
        self.setMaxVisibleItems(VISIBLE_ROWS)
        # Fusion shows every item at once, centred on the current one (past the screen with 40
        # rows); a list popup honours maxVisibleItems and scrolls.
        self.setStyleSheet("QComboBox { combobox-popup: 0; }")
        self.with_drafts = False
        self._presets: dict[int, SizePreset] = {}
        self._fill()

    # -- content ------------------------------------------------------------------------

    def _fill(self) -> None:
        chosen = self.chosen() if self.count() else DEFAULT_SIZE
        self.blockSignals(True)
        model = QStandardItemModel(self)
        self._presets = {}
        model.appendRow(QStandardItem())  # "Custom size…", labelled in retranslate
        for shape, items in grouped(self.with_drafts):
            heading = QStandardItem()
            heading.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading: shown, never chosen
            heading.setData(shape, HEADING)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            model.appendRow(heading)
            for p in items:
                item = QStandardItem()
                item.setData((p.width, p.height), Qt.ItemDataRole.UserRole)
                self._presets[model.rowCount()] = p
                model.appendRow(item)
        self.setModel(model)  # the old model was the combo's child: setModel deletes it
        self.retranslate()
        self.blockSignals(False)
        if chosen is None:
            self.select_custom()
        else:
            self.select(*chosen)

    def set_drafts(self, on: bool) -> None:
        """Offer the draft sizes (a slow plan) or not; the chosen size stays chosen."""
        if on != self.with_drafts:
            self.with_drafts = on
            self._fill()

    def select(self, width: int, height: int) -> bool:
        """Choose the preset of that size; "Custom size…" when there is none (returns False)."""
        # findData compares QVariants; the stored pair comes back as a Python tuple, compared here
        index = next((i for i, p in self._presets.items() if (p.width, p.height) == (width, height)), -1)
        if index < 0:
            self.select_custom()
            return False
        self.setCurrentIndex(index)
        return True

    def chosen(self) -> tuple[int, int] | None:
        """The chosen preset's (width, height); None for "Custom size…"."""
        p = self._presets.get(self.currentIndex())
        return (p.width, p.height) if p is not None else None

    def select_custom(self) -> None:
        self.setCurrentIndex(0)

    def is_custom(self) -> bool:
        return self.currentIndex() == 0

    def headings(self) -> list[str]:
        return [self.itemText(i) for i in range(self.count()) if self.itemData(i, HEADING)]

    # -- words --------------------------------------------------------------------------

    def retranslate(self) -> None:
        shapes = {"draft": self.tr("Draft — quick looks on a slow machine"), "square": self.tr("Square"),
                  "landscape": self.tr("Landscape"), "portrait": self.tr("Portrait")}
        uses = {"square": "", "photo": self.tr("photo"), "screen": self.tr("screen"), "phone": self.tr("phone"),
                "cinema": self.tr("cinema"), "banner": self.tr("banner")}
        self.setItemText(0, self.tr("Custom size…"))
        for i in range(1, self.count()):
            shape = self.itemData(i, HEADING)
            if shape:
                self.setItemText(i, shapes[shape])
                continue
            p = self._presets[i]
            use = uses.get(p.use, "")
            slow = self.tr("slower") if p.tier > 1024 else ""
            self.setItemText(i, "   " + p.label + "".join(f" · {word}" for word in (use, slow) if word))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
