"""Two downloads of one file at once, and a server that trickles (issue 25)."""

import hashlib
import threading
import time

from tests.fixtures import Fault
from zimage_desktop.models.download import Downloader
from zimage_desktop.models.sources import SourceConfig

TR = "files/diffusion_models/tiny_zimage_bf16.safetensors"


def _downloader(hub, folder, **kw):
    return Downloader(folder, SourceConfig(order=("hf",), hf_endpoint=hub.url, modelscope_endpoint=hub.url),
                      backoff=0.01, retries=1, disk_margin=0, **kw)


def test_two_downloads_of_one_file_at_once_share_no_part(hub, catalog, tmp_path):
    tr = catalog.components["transformer"].files[0]
    hub.faults[TR] = Fault(rate=1_000_000)  # about two seconds: long enough for the second to start
    models = tmp_path / "m"
    part = models / (tr.dest + ".part")
    reports, events = {}, []

    def run(name):
        reports[name] = _downloader(hub, models).download([tr], on_event=lambda e, n=name: events.append((n, e)))

    first = threading.Thread(target=run, args=("first",))
    first.start()
    deadline = time.monotonic() + 10
    while not part.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert part.exists()
    second = threading.Thread(target=run, args=("second",))
    second.start()
    first.join(30)
    second.join(30)
    assert reports["first"].downloaded == [tr.dest] and reports["second"].downloaded == [tr.dest]
    assert not reports["first"].failed and not reports["second"].failed
    data = (models / tr.dest).read_bytes()
    assert hashlib.sha256(data).hexdigest() == tr.sha256 and not part.exists()
    assert len([r for r in hub.requests_for(TR) if r.method == "GET"]) == 1  # the second waited, then found it done
    waits = [e.message for n, e in events if n == "second" and e.kind == "notice"]
    assert len(waits) == 1 and "being downloaded by another window or command" in str(waits[0])


def test_a_server_trickling_bytes_is_given_up_on(hub, catalog, tmp_path):
    tr = catalog.components["transformer"].files[0]
    hub.faults[TR] = Fault(rate=64 * 1024 / 0.8)  # one 64 KiB piece, then 0.8 s of nothing, again and again
    started = time.monotonic()
    report = _downloader(hub, tmp_path / "m", low_speed_bytes=200_000, low_speed_s=0.3).download([tr])
    assert time.monotonic() - started < 15
    assert "slower than 200,000 bytes/s" in str(report.failed[tr.dest])
    assert report.downloaded == []
