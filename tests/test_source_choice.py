"""The first download source is the one that answers, fastest first, with the language/region only as
a hint (issue 29 item 5). Real connections to the loopback hub and to a closed port."""

import socket

from zimage_desktop.config import Paths, Settings
from zimage_desktop.models.download import Downloader
from zimage_desktop.models.reachability import measure_sources
from zimage_desktop.models.sources import SourceConfig, hint_order, in_mainland_china, rank_sources, source_config


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ranking_fastest_first_the_hint_breaks_near_ties():
    # from the mainland: Hugging Face crosses the border (300 ms), ModelScope is near (20 ms)
    assert rank_sources(("hf", "modelscope"), {"hf": 0.30, "modelscope": 0.02}) == ("modelscope", "hf")
    # elsewhere, a ModelScope hint does not hold a far server ahead of a near one
    assert rank_sources(("modelscope", "hf"), {"hf": 0.01, "modelscope": 0.25}) == ("hf", "modelscope")
    # a near tie keeps the hint's order either way
    assert rank_sources(("modelscope", "hf"), {"hf": 0.020, "modelscope": 0.050}) == ("modelscope", "hf")
    assert rank_sources(("hf", "modelscope"), {"hf": 0.050, "modelscope": 0.020}) == ("hf", "modelscope")
    # a source that did not answer is not tried first, whatever the hint
    assert rank_sources(("modelscope", "hf"), {"hf": 0.4}) == ("hf",)


def test_the_hint_comes_from_the_language_and_the_region():
    assert hint_order("zh_CN", {}) == ("modelscope", "hf")
    assert hint_order("en", {"LANG": "zh_CN.UTF-8"}) == ("modelscope", "hf")
    assert hint_order("en", {"TZ": "Asia/Shanghai"}) == ("modelscope", "hf")
    assert hint_order("en", {"LANG": "zh_TW.UTF-8", "TZ": "Asia/Taipei"}) == ("hf", "modelscope")
    assert not in_mainland_china("en", {"LANG": "en_US.UTF-8"})


def test_automatic_is_the_default_and_a_choice_stays_a_choice(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    paths = Paths.resolve(str(tmp_path))
    assert Settings().download_source == "auto"
    auto = source_config(Settings(language="zh_CN"), paths)
    assert auto.auto and auto.order == ("modelscope", "hf")
    chosen = source_config(Settings(language="zh_CN", download_source="hf"), paths)
    assert not chosen.auto and chosen.order == ("hf", "modelscope")


def test_measures_how_long_each_source_takes_to_answer(hub):
    dead = f"http://127.0.0.1:{closed_port()}"
    measured = measure_sources({"hf": hub.url, "modelscope": dead}, timeout=3)
    seconds, why = measured["hf"]
    assert why is None and 0 < seconds < 3
    assert measured["modelscope"][0] == 0 and "refused" in measured["modelscope"][1]


def _download(tmp_path, hub, catalog, config):
    downloader = Downloader(tmp_path / "models", config, probe_timeout=3)
    report = downloader.download(list(catalog.components["vae"].files))
    return report, [s for s in hub.log if s.status in (200, 206)]


def test_automatic_downloads_from_the_source_that_answers(tmp_path, hub, catalog):
    dead = f"http://127.0.0.1:{closed_port()}"
    # the hint says ModelScope (a Chinese UI) but it does not answer here: Hugging Face is first,
    # and no file waits for ModelScope's retries
    report, served = _download(tmp_path / "a", hub, catalog,
                               SourceConfig(order=("modelscope", "hf"), hf_endpoint=hub.url,
                                            modelscope_endpoint=dead, auto=True))
    assert served and {s.kind for s in served} == {"hf"}
    assert any("Hugging Face" in m and "answered fastest" in m for m in report.messages)
    assert not report.failed
    hub.log.clear()
    # both answer about as fast (loopback): the hint decides, and the files come from ModelScope
    report, served = _download(tmp_path / "b", hub, catalog,
                               SourceConfig(order=("modelscope", "hf"), hf_endpoint=hub.url,
                                            modelscope_endpoint=hub.url, auto=True))
    assert served and {s.kind for s in served} == {"modelscope"}
    assert any("ModelScope" in m for m in report.messages)
