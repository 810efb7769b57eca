"""Hostile or broken servers: excess bytes without Content-Length, bad redirects, bad endpoints.
One failing file never stops the others (issue 13)."""

import pytest

from tests.fixtures import Fault
from zimage_desktop.models.download import Downloader
from zimage_desktop.models.sources import SourceConfig

VAE = "files/vae/tiny_ae.safetensors"
TR = "files/diffusion_models/tiny_zimage_bf16.safetensors"


class _CountingFile:
    """A real part file that remembers how many bytes reached it."""

    def __init__(self, path, mode, counts):
        self.fh = open(path, mode)
        self.key, self.counts = (str(path), len(counts)), counts  # one count per opening

    def write(self, data):
        self.counts[self.key] = self.counts.get(self.key, 0) + len(data)
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def _downloader(hub, folder, counts=None, order=("hf",)):
    counts = {} if counts is None else counts
    return Downloader(folder, SourceConfig(order=order, hf_endpoint=hub.url, modelscope_endpoint=hub.url),
                      backoff=0.01, retries=1, disk_margin=0,
                      open_part=lambda path, mode: _CountingFile(path, mode, counts))


@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_excess_bytes_without_content_length_stop_at_the_expected_size(hub, catalog, tmp_path, framing):
    f = catalog.components["vae"].files[0]
    hub.faults[VAE] = Fault(framing=framing, extra=b"\0" * (8 * 1024 * 1024))
    counts = {}
    report = _downloader(hub, tmp_path / "m", counts).download([f])
    assert "more than the expected" in report.failed[f.dest]
    assert max(counts.values()) <= f.size + 1  # not the 8 MB the server wanted to send
    assert not (tmp_path / "m" / f.dest).exists() and not list((tmp_path / "m").rglob("*.part"))


@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_honest_server_without_content_length_still_works(hub, catalog, tmp_path, framing):
    f = catalog.components["vae"].files[0]
    hub.faults[VAE] = Fault(framing=framing)
    report = _downloader(hub, tmp_path / "m").download([f])
    assert report.downloaded == [f.dest]


def test_bad_redirects_fail_their_file_only(hub, catalog, tmp_path):
    vae = catalog.components["vae"].files[0]
    tr = catalog.components["transformer"].files[0]
    te = catalog.components["text-encoder"].files[0]
    hub.faults[VAE] = Fault(redirect_to="file:///etc/passwd")
    hub.faults[TR] = Fault(redirect_to=f"{hub.url}/test/tiny-zimage/resolve/main/{TR}")  # a loop
    report = _downloader(hub, tmp_path / "m").download([vae, tr, te])
    assert report.downloaded == [te.dest]
    assert "non-web address" in report.failed[vae.dest]
    assert "more than 10 redirects" in report.failed[tr.dest]
    assert len(hub.requests_for(TR)) == 2 * 11  # each source: the request and 10 redirects, no more
    assert not any("unexpected" in m for m in report.failed.values())


def test_cli_download_bad_endpoint_is_bad_input(tmp_path, capsys, data_dir):
    from zimage_desktop.cli import main

    code = main(["models", "download", "vae", "--endpoint", "hf-mirror.com", "--models", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "not a web address" in err and "unexpected" not in err


def _closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli_download(tmp_path, catalog_data, endpoint, *names):
    import json

    from zimage_desktop.cli import main

    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_data))
    return main(["models", "download", *names, "--catalog", str(path), "--models", str(tmp_path / "m"),
                 "--endpoint", endpoint, "--modelscope-endpoint", endpoint])


def test_cli_prints_each_failure_once(hub, tiny_models, tmp_path, capsys, data_dir):
    from tests.fixtures import tiny_catalog_data

    data = tiny_catalog_data(tiny_models.comfy, hub)
    hub.faults[VAE] = Fault(always_status=404)
    code = _cli_download(tmp_path, data, hub.url, "vae", "text-encoder")
    out, err = capsys.readouterr()
    assert code == 1
    assert err.count("vae/tiny_ae.safetensors could not be downloaded") == 1, err
    assert err.count("vae/tiny_ae.safetensors from Hugging Face mirror") == 1  # "…; trying ModelScope."
    assert "from ModelScope failed" not in err  # the last source's reason is in the one final line
    assert "1 downloaded, 0 already present, 1 failed" in out


def test_cli_offline_fails_at_once_with_one_line(hub, tiny_models, tmp_path, capsys, data_dir):
    import time

    from tests.fixtures import tiny_catalog_data

    data = tiny_catalog_data(tiny_models.comfy, hub)
    started = time.monotonic()
    code = _cli_download(tmp_path, data, f"http://127.0.0.1:{_closed_port()}", "vae", "transformer")
    err = capsys.readouterr().err
    assert time.monotonic() - started < 10
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "No download source can be reached" in lines[0] and "refused" in lines[0], err
    assert not list((tmp_path / "m").rglob("*.part"))


def test_an_unreachable_source_is_left_out_without_retries(hub, catalog, tmp_path):
    vae = catalog.components["vae"].files[0]
    dead = f"http://127.0.0.1:{_closed_port()}"
    events = []
    report = Downloader(tmp_path / "m", SourceConfig(order=("hf", "modelscope"), hf_endpoint=dead,
                                                     modelscope_endpoint=hub.url),
                        backoff=5, disk_margin=0).download([vae], events.append)
    assert report.downloaded == [vae.dest]
    notices = [e.message for e in events if e.kind == "notice"]
    assert len(notices) == 1 and "cannot be reached" in notices[0] and "refused" in notices[0]
    assert not any(e.kind == "source_failed" for e in events)  # no retry against the dead source
    assert [r.kind for r in hub.requests_for(VAE)] == ["modelscope"]
