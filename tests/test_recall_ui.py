"""Partial recall in the window: a file without a prompt still gives its seed, steps and size (the
typed prompt stays), and Shift while dropping lets the user pick which settings to take."""

import json

from PIL import Image, PngImagePlugin
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from zimage_desktop.history.metadata import read_png_metadata


def _comfy_png(tmp_path, text_input, name="comfy.png"):
    """A ComfyUI graph whose prompt comes from a node we cannot read (a web request node)."""
    graph = {"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
             "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
             "3": {"class_type": "KSampler", "inputs": {"seed": 9001, "steps": 12, "cfg": 1, "sampler_name": "euler",
                                                        "scheduler": "simple", "positive": ["6", 0],
                                                        "negative": ["7", 0], "latent_image": ["5", 0]}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": text_input}},
             "7": {"class_type": "CLIPTextEncode", "inputs": {"text": ""}},
             "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1152, "height": 896, "batch_size": 1}}}
    if isinstance(text_input, list):
        graph["20"] = {"class_type": "PromptFromURL //custom", "inputs": {"url": "https://example.invalid/p"}}
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    path = tmp_path / name
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_without_a_prompt_the_known_fields_are_kept(tmp_path):
    found = read_png_metadata(_comfy_png(tmp_path, ["20", 0]))
    assert found.request is None
    assert found.known == {"seed", "steps", "size", "sampler"}
    assert (found.values["seed"], found.values["steps"], found.values["width"], found.values["height"]) == \
        (9001, 12, 1152, 896)
    assert any("No prompt was found; the seed, steps, size, sampler found were taken" in n for n in found.notes)


def _drop(qtbot, window, path, shift=False):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    with qtbot.waitSignal(window.dropped_read, timeout=5000):
        window.dropEvent(event)


def test_dropping_a_file_without_a_prompt_keeps_the_typed_prompt(qtbot, window, tmp_path):
    window.prompt.setPlainText("my own words")
    _drop(qtbot, window, _comfy_png(tmp_path, ["20", 0]))
    assert window.prompt.toPlainText() == "my own words"
    assert (window.seed_spin.value(), window.steps_spin.value()) == (9001, 12)
    assert (window.width_spin.value(), window.height_spin.value()) == (1152, 896)
    assert window.size_combo.currentData() == (1152, 896)  # on the size list, not custom
    assert "No prompt was found" in window.status.text()


def test_shift_drop_takes_only_the_ticked_fields(qtbot, window, tmp_path):
    window.prompt.setPlainText("keep me")
    window.seed_spin.setValue(5)
    seen = {}

    def answer():
        from zimage_desktop.ui.recall_fields import RecallFieldsDialog

        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, RecallFieldsDialog):
            QTimer.singleShot(50, answer)
            return
        seen["fields"] = set(dialog.boxes)
        dialog.boxes["prompt"].setChecked(False)
        dialog.boxes["seed"].setChecked(False)
        dialog.accept()

    QTimer.singleShot(50, answer)
    _drop(qtbot, window, _comfy_png(tmp_path, "a glass teapot", name="full.png"), shift=True)
    qtbot.waitUntil(lambda: "fields" in seen, timeout=5000)
    assert seen["fields"] == {"prompt", "seed", "steps", "size", "sampler"}
    assert window.prompt.toPlainText() == "keep me" and window.seed_spin.value() == 5
    assert window.steps_spin.value() == 12 and (window.width_spin.value(), window.height_spin.value()) == (1152, 896)


def test_a_size_off_the_list_is_custom_with_the_snap_note(qtbot, tmp_path):
    from zimage_desktop.ui.parameters_form import ParametersForm

    text = "a bridge\nSteps: 9, Sampler: Euler, Seed: 1, Size: 1000x700"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)
    path = tmp_path / "odd.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    found = read_png_metadata(path)
    assert any("1000×700 was snapped to 992×704" in n for n in found.notes), found.notes
    form = ParametersForm()
    qtbot.addWidget(form)
    form.apply(found.request)
    assert form.size_combo.currentData() is None  # "Custom size…"
    assert (form.width_spin.value(), form.height_spin.value()) == (992, 704)
    form.apply_fields({"width": 896, "height": 1152}, {"size"})
    assert form.size_combo.currentData() == (896, 1152)
