"""Settings ▸ Engines: "This computer" plus ComfyUI servers, in the order jobs go to them.

Each server has a name, an address, an optional access token (and the header a reverse proxy
wants it in) and whether a token may go over plain HTTP to that host. "Test" asks the server in
the background (version, device and VRAM, queue, the model files a job would use, ComfyUI-GGUF).
Tokens go to the OS keyring when there is one; otherwise the page says they are kept in plain text.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
    QWidget,
)

from ..config import Paths
from ..errors import UserFacingError
from ..remote import engines as engine_list
from .status_line import in_ui_language

NAME_ROLE = Qt.ItemDataRole.UserRole


class EnginesPage(QWidget):
    tested = Signal(str, str)  # (engine name, the result in words) — from the test thread

    def __init__(self, paths: Paths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("enginesPage")
        self.paths = paths
        self.loaded = engine_list.load(paths)
        self.entries: dict[str, engine_list.ServerEntry] = {s.name: s for s in self.loaded.servers}
        self.tokens: dict[str, str] = {}  # typed here, saved on OK
        self.dirty = False
        self.list = QListWidget()
        self.list.setObjectName("enginesList")
        for name in self.loaded.ordered():
            self._add_item(name)
        self.list.currentItemChanged.connect(self._show_selected)
        self.add, self.remove, self.up, self.down, self.test = (QPushButton() for _ in range(5))
        self.test.setObjectName("engineTestButton")
        self.add.clicked.connect(self._add_server)
        self.remove.clicked.connect(self._remove_server)
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(1))
        self.test.clicked.connect(self._test)
        buttons = QHBoxLayout()
        for button in (self.add, self.remove, self.up, self.down, self.test):
            buttons.addWidget(button)
        self.name, self.url, self.header, self.token = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.url.setObjectName("engineUrlEdit")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.insecure = QCheckBox()
        self.enabled = QCheckBox()
        for edit in (self.name, self.url, self.header):
            edit.editingFinished.connect(self._store_fields)
        self.token.textEdited.connect(self._store_token)
        for box in (self.insecure, self.enabled):
            box.toggled.connect(self._store_fields)
        self.form = QFormLayout()
        self.labels = {key: QLabel() for key in ("name", "url", "header", "token")}
        self.form.addRow(self.labels["name"], self.name)
        self.form.addRow(self.labels["url"], self.url)
        self.form.addRow(self.labels["header"], self.header)
        self.form.addRow(self.labels["token"], self.token)
        self.form.addRow(self.insecure)
        self.form.addRow(self.enabled)
        self.result = QLabel()
        self.result.setObjectName("engineTestResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.token_note = QLabel()  # a token that would go over plain HTTP: why the server is not used
        self.token_note.setObjectName("engineTokenNote")
        self.token_note.setWordWrap(True)
        self.token_note.hide()
        self.storage = QLabel()
        self.storage.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addLayout(self.form)
        layout.addWidget(self.token_note)
        layout.addWidget(self.result)
        layout.addWidget(self.storage)
        self.tested.connect(self._tested)
        self.retranslate()
        self.list.setCurrentRow(0)

    # -- the list ----------------------------------------------------------------------------

    def _add_item(self, name: str) -> None:
        item = QListWidgetItem()
        item.setData(NAME_ROLE, name)
        self.list.addItem(item)
        self._label(item)

    def _label(self, item: QListWidgetItem) -> None:
        name = item.data(NAME_ROLE)
        if name == engine_list.LOCAL:
            item.setText(self.tr("This computer"))
            return
        entry = self.entries[name]
        unused = engine_list.token_problem(entry, self._token_set(entry)) is not None
        item.setText(f"{entry.name} — {entry.url}" + ("" if entry.enabled else self.tr(" (off)"))
                     + (self.tr(" (not used: token over plain HTTP)") if unused else ""))

    def _token_set(self, entry: engine_list.ServerEntry) -> bool:
        typed = self.tokens.get(entry.name)
        return entry.has_token if typed is None else bool(typed)

    def _show_token_note(self) -> None:
        """One sentence when the selected server's token would go over plain HTTP (the server is
        not used then), and the "allow" box only where a user may allow it: a LAN address."""
        entry = self._selected()
        problem = engine_list.token_problem(entry, self._token_set(entry)) if entry else None
        self.token_note.setText(in_ui_language(problem) if problem else "")
        self.token_note.setVisible(problem is not None)
        self.insecure.setEnabled(entry is not None and engine_list.may_allow_plain_http(entry.url))
        item = self.list.currentItem()
        if item is not None and entry is not None:
            self._label(item)

    def _selected(self) -> engine_list.ServerEntry | None:
        item = self.list.currentItem()
        return self.entries.get(item.data(NAME_ROLE)) if item else None

    def _show_selected(self) -> None:
        entry = self._selected()
        for widget in (self.name, self.url, self.header, self.token, self.insecure, self.remove, self.test):
            widget.setEnabled(entry is not None)
        item = self.list.currentItem()
        local = item is not None and item.data(NAME_ROLE) == engine_list.LOCAL
        self.enabled.setEnabled(entry is not None or local)
        for widget in (self.name, self.url, self.header, self.token, self.insecure, self.enabled):
            widget.blockSignals(True)
        self.name.setText(entry.name if entry else "")
        self.url.setText(entry.url if entry else "")
        self.header.setText(entry.header if entry else "")
        self.token.setText("")
        self.token.setPlaceholderText(self.tr("stored — type to replace") if entry and entry.has_token
                                      else self.tr("optional"))
        self.insecure.setChecked(bool(entry and entry.url and any(h in entry.url for h in entry.insecure_hosts)))
        self.enabled.setChecked(entry.enabled if entry else (self.loaded.local_enabled if local else False))
        for widget in (self.name, self.url, self.header, self.token, self.insecure, self.enabled):
            widget.blockSignals(False)
        self.result.setText("")
        self._show_token_note()

    def _add_server(self) -> None:
        base, n = self.tr("ComfyUI server"), 1
        while f"{base} {n}" in self.entries:
            n += 1
        name = f"{base} {n}"
        self.entries[name] = engine_list.ServerEntry(name, "http://127.0.0.1:8188")
        self._add_item(name)
        self.list.setCurrentRow(self.list.count() - 1)
        self.dirty = True

    def _remove_server(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        del self.entries[entry.name]
        self.tokens[entry.name] = ""  # out of the keyring too
        self.list.takeItem(self.list.currentRow())
        self.dirty = True

    def _move(self, delta: int) -> None:
        row = self.list.currentRow()
        if row < 0 or not 0 <= row + delta < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(row + delta, item)
        self.list.setCurrentRow(row + delta)
        self.dirty = True

    def _store_fields(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        if item.data(NAME_ROLE) == engine_list.LOCAL:
            if self.enabled.isChecked() != self.loaded.local_enabled:
                self.loaded = engine_list.EngineList(self.loaded.servers, self.loaded.order, self.enabled.isChecked())
                self.dirty = True
            return
        old = self.entries[item.data(NAME_ROLE)]
        name = self.name.text().strip() or old.name
        if name != old.name and name in self.entries or name == engine_list.LOCAL:
            name = old.name
        url = self.url.text().strip()
        host = url.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
        entry = engine_list.ServerEntry(name, url, self.header.text().strip() or "Authorization",
                                        (host,) if self.insecure.isChecked() and host else (),
                                        self.enabled.isChecked(), old.has_token, old.plain_token)
        if entry != old:
            del self.entries[old.name]
            self.entries[name] = entry
            if name != old.name and old.name in self.tokens:
                self.tokens[name] = self.tokens.pop(old.name)
            item.setData(NAME_ROLE, name)
            self._label(item)
            self.dirty = True
        self._show_token_note()

    def _store_token(self, text: str) -> None:
        entry = self._selected()
        if entry is not None:
            self.tokens[entry.name] = text.strip()
            self.dirty = True
            self._show_token_note()

    # -- test --------------------------------------------------------------------------------

    def _test(self) -> None:
        self._store_fields()
        entry = self._selected()
        if entry is None:
            return
        token = self.tokens.get(entry.name)
        if token is not None:
            entry = engine_list.ServerEntry(entry.name, entry.url, entry.header, entry.insecure_hosts, entry.enabled,
                                            bool(token), token)
        self.result.setText(self.tr("Asking %1…").replace("%1", entry.name))
        threading.Thread(target=self._run_test, args=(entry,), daemon=True).start()

    def _run_test(self, entry: engine_list.ServerEntry) -> None:
        from ..remote.server_check import test_server

        report, files, problem = test_server(entry)
        gib = 1024**3
        if report.error:
            text = in_ui_language(report.error)
        else:
            text = (self.tr("ComfyUI %1 · %2 · %3 GiB (%4 free) · queue %5 · ComfyUI-GGUF: %6")
                    .replace("%1", report.version).replace("%2", report.device)
                    .replace("%3", f"{report.vram_total / gib:.1f}").replace("%4", f"{report.vram_free / gib:.1f}")
                    .replace("%5", str(report.queue)).replace("%6", self.tr("yes") if report.gguf else self.tr("no")))
            text += "\n" + (self.tr("Model files: %1").replace("%1", ", ".join(files.values())) if files
                            else in_ui_language(problem))
        self.tested.emit(entry.name, text)

    def _tested(self, name: str, text: str) -> None:
        entry = self._selected()
        if entry is not None and entry.name == name:
            self.result.setText(text)

    # -- saving ------------------------------------------------------------------------------

    def engine_list(self) -> engine_list.EngineList:
        order = tuple(self.list.item(i).data(NAME_ROLE) for i in range(self.list.count()))
        return engine_list.EngineList(tuple(self.entries[n] for n in order if n in self.entries), order,
                                      self.loaded.local_enabled)

    def save(self) -> bool:
        """Write engines.json (tokens to the keyring); True when anything changed."""
        self._store_fields()
        if not self.dirty:
            return False
        try:
            engine_list.save(self.paths, self.engine_list(), self.tokens)
        except (OSError, UserFacingError):
            return False
        self.dirty = False
        return True

    def retranslate(self) -> None:
        self.add.setText(self.tr("Add server"))
        self.remove.setText(self.tr("Remove"))
        self.up.setText(self.tr("Up"))
        self.down.setText(self.tr("Down"))
        self.test.setText(self.tr("Test"))
        for key, text in (("name", self.tr("Name")), ("url", self.tr("Address")),
                          ("header", self.tr("Token header")), ("token", self.tr("Access token"))):
            self.labels[key].setText(text)
        self.insecure.setText(self.tr("Allow the token over plain HTTP to this host (trusted network only)"))
        self.enabled.setText(self.tr("Use this engine"))
        self.list.setToolTip(self.tr("Jobs go to the first free engine in this order."))
        self.storage.setText(self.tr("Access tokens are kept in the system keyring.")
                             if engine_list.token_storage() == "keyring" else
                             self.tr("No system keyring was found: access tokens are stored in plain text in %1.")
                             .replace("%1", str(self.paths.data / "engines.json")))
        self.insecure.setToolTip(self.tr("Only for an address on your own network; elsewhere use https://."))
        for i in range(self.list.count()):
            self._label(self.list.item(i))
        if self.list.currentItem() is not None:
            self._show_token_note()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
