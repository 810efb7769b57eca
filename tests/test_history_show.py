"""``zimage-desktop history show ID``: a listing a person reads (local time, one field a line, the
poster's fields as an indented block, no JSON or Python dict), and ``--json`` for scripts."""

import json
import re
import time

from zimage_desktop.cli import main
from zimage_desktop.config import Paths
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.history.store import HistoryStore

CREATED = 1_795_714_900.71


def _poster_image(data_dir):
    store = HistoryStore(Paths(data_dir).history_db)
    request = GenerationRequest(prompt='海报，标题文字"新春特惠"\n金色粗体，居中', seed=2**64 - 1, width=1024, height=1024,
                                original_prompt="spring sale poster",
                                extra={"poster": {"headline": "新春特惠", "format": "square_post"}})
    parent = store.add(request, data_dir / "a.png", created=CREATED - 60)
    child = store.add(request, data_dir / "b.png", model={"name": "Z-Image-Turbo", "profile": "8gb"},
                      timings={"encode_s": 0.1234, "total_s": 3.2}, parent_id=parent, created=CREATED)
    store.close()
    return parent, child


def test_show_is_an_aligned_listing_with_local_time(data_dir, capsys):
    parent, child = _poster_image(data_dir)
    assert main(["history", "show", str(child)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "{" not in out and "}" not in out and "created 1795714900" not in out
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(CREATED))
    assert f"created    {stamp}" in lines and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamp)
    assert 'prompt     海报，标题文字"新春特惠"' in lines
    assert "           金色粗体，居中" in lines  # the prompt's second line, under the first
    assert "original   spring sale poster" in lines
    assert any(row.split() == ["seed", str(2**64 - 1)] for row in lines)
    assert "size       1024x1024" in lines
    assert "poster" in lines and "  headline 新春特惠" in lines and "  format   square_post" in lines
    assert "  name    Z-Image-Turbo" in lines and "  profile 8gb" in lines
    assert "timings    encode 0.12 s · total 3.20 s" in lines
    assert f"lineage    {parent} → {child}" in lines and "favourite  no" in lines


def test_show_json_is_unchanged(data_dir, capsys):
    _, child = _poster_image(data_dir)
    assert main(["history", "show", str(child), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == child and shown["created"] == CREATED and shown["seed"] == 2**64 - 1
    assert shown["request"]["extra"]["poster"]["headline"] == "新春特惠"


def test_show_names_the_negative_prompt_and_cfg_without_terminal_controls(data_dir, capsys):
    store = HistoryStore(Paths(data_dir).history_db)
    request = GenerationRequest(prompt="a lighthouse", seed=1, negative_prompt="blurry\x1b]0;owned\x07, 水印", cfg=4.5)
    image = store.add(request, data_dir / "c.png", created=CREATED)
    store.close()
    assert main(["history", "show", str(image)]) == 0
    lines = capsys.readouterr().out.splitlines()
    negative = next(row for row in lines if row.startswith("negative"))
    assert "\x1b" not in negative and "\x07" not in negative and "水印" in negative
    assert any(row.split() == ["cfg", "4.5"] for row in lines)
