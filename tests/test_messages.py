"""Every message of the Qt-free layers has a stable id and a Chinese text with the same placeholders,
and raise sites go through the catalog instead of passing bare English."""

import ast
import errno
import json
import re
from pathlib import Path

import pytest

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import BadInputError, UserFacingError
from zimage_desktop.errors_os import describe_failure
from zimage_desktop.messages import Message, catalog, clause, joined, msg, placeholders, render, resolve_language

ROOT = Path(__file__).resolve().parent.parent / "zimage_desktop"
ERROR_BASES = {"UserFacingError", "Exception"}  # the family is found from these by walking the class definitions


def _trees():
    for path in sorted(ROOT.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def source_messages() -> dict[str, str]:
    """id -> English template of every msg(...) call in the package."""
    found: dict[str, str] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "msg":
                id_arg, template_arg = node.args[:2]
                assert isinstance(id_arg, ast.Constant) and isinstance(template_arg, ast.Constant), \
                    f"{path.name}:{node.lineno}: msg() needs a literal id and English text"
                assert found.setdefault(id_arg.value, template_arg.value) == template_arg.value, \
                    f"{path.name}:{node.lineno}: id {id_arg.value!r} is used for two different texts"
    return found


def error_classes() -> set[str]:
    """UserFacingError and every class derived from it in the package, plus the downloader's
    internal reasons (their text reaches the user inside a DownloadError)."""
    parents: dict[str, set[str]] = {}
    for _, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                parents[node.name] = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
    family = {"UserFacingError", "_SourceFailed", "_Retry", "RedirectRefused"}
    while True:
        more = {name for name, bases in parents.items() if bases & family} - family
        if not more:
            return family
        family |= more


def _is_bare_text(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    if isinstance(node, ast.BinOp):
        return _is_bare_text(node.left) or _is_bare_text(node.right)
    return isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "format"


def test_every_message_has_a_chinese_text_with_the_same_placeholders():
    english, chinese = source_messages(), catalog("zh_CN")
    assert len(english) > 150
    missing = sorted(set(english) - set(chinese))
    assert not missing, f"add these ids to resources/messages_zh_CN.json: {missing}"
    stale = sorted(set(chinese) - set(english))
    assert not stale, f"ids no longer used, remove them from messages_zh_CN.json: {stale}"
    for key, template in english.items():
        assert placeholders(chinese[key]) == placeholders(template), key
        if re.search(r"\b[a-z]{3,}\b", re.sub(r"\{[^}]*\}", "", template)):  # English words, not only names and numbers
            assert re.search(r"[\u4e00-\u9fff]", chinese[key]), key


def test_user_facing_errors_are_never_raised_with_bare_english():
    family = error_classes()
    assert {"BadInputError", "ModelFilesError", "HistoryError", "DownloadError", "SaveError"} <= family
    bare = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in family and node.args
                    and _is_bare_text(node.args[0])):
                bare.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert not bare, f"wrap these messages in msg(id, English, **params): {bare}"


def test_an_error_is_english_in_str_and_chinese_when_rendered():
    with pytest.raises(BadInputError) as caught:
        GenerationRequest(prompt="   ")
    exc = caught.value
    assert str(exc) == "The prompt is empty: describe the image you want."
    assert exc.render("en") == str(exc)
    assert exc.render("zh_CN") == catalog("zh_CN")["request.prompt_empty_describe_image"]
    assert render(exc, "zh_CN") == exc.render("zh_CN") and render("plain", "zh_CN") == "plain"


def test_reasons_inside_a_sentence_render_in_the_same_language():
    sentence = describe_failure(OSError(errno.ENOSPC, "No space left on device", "/data/x.png"))
    assert str(sentence) == "A file could not be used (/data/x.png): the disk is full."
    zh = render(sentence, "zh_CN")
    assert "/data/x.png" in zh and "磁盘已满" in zh and "disk" not in zh
    inner = msg("request.prompt_empty_describe_image", "The prompt is empty: describe the image you want.")
    both = joined([clause(inner), inner], " / ")
    assert str(both) == "The prompt is empty: describe the image you want / " + inner
    assert render(both, "zh_CN") == catalog("zh_CN")[inner.id].rstrip("。") + " / " + catalog("zh_CN")[inner.id]
    assert isinstance(both, Message) and isinstance(UserFacingError(both).message, Message)


@pytest.mark.parametrize("env, system, want", [
    ({"LANG": "zh_CN.UTF-8"}, None, "zh_CN"),
    ({"LANG": "en_US.UTF-8"}, "zh_CN", "en"),
    ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, None, "zh_CN"),
    ({"LANG": "C.UTF-8"}, "zh_CN", "zh_CN"),
    ({}, "en_GB", "en"),
])
def test_system_language_resolves_to_a_supported_one(monkeypatch, env, system, want):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert resolve_language("system", system) == want
    assert resolve_language("en", system) == "en" and resolve_language("zh_CN", system) == "zh_CN"


@pytest.mark.parametrize("setting, lang, expected", [
    ("system", "zh_CN.UTF-8", "error: 提示词是空的：请描述你想要的画面。"),
    ("system", "en_US.UTF-8", "error: The prompt is empty: describe the image you want."),
    ("en", "zh_CN.UTF-8", "error: The prompt is empty: describe the image you want."),
    ("zh_CN", "en_US.UTF-8", "error: 提示词是空的：请描述你想要的画面。"),
])
def test_cli_errors_follow_the_language_setting_then_the_system(tmp_path, monkeypatch, capsys, setting, lang, expected):
    from zimage_desktop.cli import main

    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", lang)
    (tmp_path / "settings.json").write_text(f'{{"language": "{setting}"}}')
    assert main(["generate", "--prompt", "   ", "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == expected


def test_no_message_id_is_translated_in_two_catalog_files():
    """Features keep their Chinese in ``messages_zh_CN.d/<feature>.json``; one id lives in one file only."""
    root = Path(__file__).resolve().parent.parent / "resources"
    files = [root / "messages_zh_CN.json", *sorted((root / "messages_zh_CN.d").glob("*.json"))]
    seen: dict[str, str] = {}
    for path in files:
        for key in json.loads(path.read_text(encoding="utf-8")):
            assert key not in seen, f"{key} is in both {seen[key]} and {path.name}"
            seen[key] = path.name
