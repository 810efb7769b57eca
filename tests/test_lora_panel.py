"""The window's LoRA list: what the loras folder holds, on/off and strength into the request,
trigger words into the prompt, thumbnails, search, and recall naming the missing ones."""

import json
import shutil

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from zimage_desktop.app import run_app
from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.devkit.tiny import build_tiny_pipeline
from zimage_desktop.engine.request import GenerationRequest, LoraRef


@pytest.fixture
def window(qtbot, data_with_models):
    loras = data_with_models / "models" / "loras"
    pipe = build_tiny_pipeline(0)
    tl.write_peft_lora(pipe.transformer, loras / "ink_style.safetensors", 2, 2.0, seed=4,
                       metadata={"ss_tag_frequency": json.dumps({"img": {"inkwash": 5, "brush strokes": 2}})})
    Image.new("RGB", (64, 48), "red").save(loras / "ink_style.preview.png")
    tl.write_sdxl(loras / "xl_thing.safetensors")
    win = run_app(str(data_with_models), exec_loop=False)
    qtbot.addWidget(win)
    yield win
    win.close()


def _item(panel, name):
    items = [panel.list.item(i) for i in range(panel.list.count())]
    return next(item for item in items if item.data(Qt.ItemDataRole.UserRole) == name)


def test_lora_list_builds_the_request_and_inserts_trigger_words(window, qtbot):
    panel = window.form.loras
    assert panel.list.count() == 2
    ink, xl = _item(panel, "ink_style"), _item(panel, "xl_thing")
    assert not ink.icon().isNull()  # the preview beside the file
    assert not xl.flags() & Qt.ItemFlag.ItemIsUserCheckable  # an SDXL LoRA cannot be switched on
    panel.search.setText("inkwash")  # trigger words are searched too
    assert not ink.isHidden() and xl.isHidden()
    panel.search.clear()
    panel.list.setCurrentItem(ink)
    panel.strength.setValue(-75)  # moving the slider switches it on
    window.prompt.setPlainText("a mountain")
    window.prompt.moveCursor(window.prompt.textCursor().MoveOperation.End)
    panel._word_clicked("0")
    assert window.prompt.toPlainText() == "a mountain, inkwash"
    request = window.build_request()
    assert request.loras == (LoraRef("ink_style", -0.75),)
    ink.setCheckState(Qt.CheckState.Unchecked)
    assert window.build_request().loras == ()


def test_recall_restores_found_loras_and_names_missing_ones(window):
    request = GenerationRequest(prompt="a cat", seed=3, loras=(LoraRef("ink_style", 0.4), LoraRef("gone", 1.0, "0123456789")))
    window.apply_request(request)
    assert window.form.loras.values() == (LoraRef("ink_style", 0.4),)
    from PySide6.QtWidgets import QLabel

    assert "gone" in window.findChild(QLabel, "statusLabel").text()


def test_a_dropped_lora_is_offered_for_the_loras_folder(window, tmp_path):
    panel = window.form.loras
    source = tmp_path / "new_style.safetensors"
    shutil.copy(window.settings.models_path(window.paths) / "loras" / "ink_style.safetensors", source)
    asked = []
    said = panel.offer_import(source, confirm=lambda q: asked.append(q) or True)
    assert asked and "new_style" in said
    assert {panel.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.list.count())} >= {"new_style"}
    xl = tmp_path / "xl.safetensors"
    tl.write_sdxl(xl)
    assert "SDXL" in panel.offer_import(xl, confirm=lambda q: pytest.fail("an SDXL LoRA must not be offered"))
