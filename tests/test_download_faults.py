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
