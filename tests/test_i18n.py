"""Every user-visible string of the UI has a Simplified Chinese translation, and it is compiled."""

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "resources" / "translations" / "zimage_desktop_zh_CN.ts"
QM = TS.with_suffix(".qm")


def _messages(path):
    out = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.find("name").text
        for msg in context.iter("message"):
            tr = msg.find("translation")
            forms = [n.text for n in tr.iter("numerusform")] if msg.get("numerus") == "yes" else [tr.text]
            out[(name, msg.find("source").text)] = (tr.get("type"), forms)
    return out


def test_committed_translations_are_complete():
    for key, (kind, forms) in _messages(TS).items():
        assert kind not in ("unfinished", "vanished", "obsolete"), key
        assert all(f and f.strip() for f in forms), key



def test_compiled_translations_match_the_source(tmp_path):
    lrelease = shutil.which("pyside6-lrelease")
    if lrelease is None:
        pytest.skip("pyside6-lrelease not installed")
    subprocess.run([lrelease, str(TS), "-qm", str(tmp_path / "x.qm")], check=True, capture_output=True)
    assert (tmp_path / "x.qm").read_bytes() == QM.read_bytes(), "run pyside6-lrelease on the .ts file"


def test_every_ui_string_is_in_the_translation_file(tmp_path):
    lupdate = shutil.which("pyside6-lupdate")
    if lupdate is None:
        pytest.skip("pyside6-lupdate not installed")
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (ROOT / "zimage_desktop" / "ui").glob("*.py")) + [str(ROOT / "zimage_desktop" / "app.py")]
    subprocess.run([lupdate, *sources, "-ts", str(fresh)], check=True, capture_output=True)
    missing = set(_messages(fresh)) - set(_messages(TS))
    assert not missing, f"strings missing from {TS.name} (run pyside6-lupdate, translate, pyside6-lrelease): {sorted(missing)}"
