"""The Hugging Face token goes only over HTTPS, only to Hugging Face or a mirror the user allowed,
never to ModelScope and never across a redirect to another host (issue 13)."""

import shutil
import subprocess

import pytest

from tests.fixtures import Fault, HubServer, tiny_catalog_data
from zimage_desktop.config import Paths, Settings
from zimage_desktop.errors import BadInputError
from zimage_desktop.models.catalog import parse_catalog
from zimage_desktop.models.download import Downloader
from zimage_desktop.models.sources import SourceConfig, token_refusal, validate_endpoint

TOKEN = "hf_secret_token_value"
VAE = "files/vae/tiny_ae.safetensors"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a loopback HTTPS certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def https_hub(certificate, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate[0])
    with HubServer(tls=certificate) as server:
        yield server


@pytest.fixture
def http_hub():
    with HubServer() as server:
        yield server


def _vae(hub, tiny_models):
    catalog = parse_catalog(tiny_catalog_data(tiny_models.comfy, hub))
    return catalog.components["vae"].files[0]


def _download(hub, tiny_models, tmp_path, order=("hf",), **config):
    f = _vae(hub, tiny_models)
    events = []
    sources = SourceConfig(order=order, hf_endpoint=hub.url, modelscope_endpoint=hub.url, hf_token=TOKEN, **config)
    report = Downloader(tmp_path / "m", sources, backoff=0.01, disk_margin=0).download([f], events.append)
    return f, report, events


def test_policy_in_words():
    hf = SourceConfig(hf_token=TOKEN)
    assert token_refusal("https://huggingface.co/a/b/resolve/main/x", "hf", hf) is None
    assert "HTTPS" in token_refusal("http://huggingface.co/a/b/resolve/main/x", "hf", hf)
    assert "not allowed" in token_refusal("https://hf-mirror.com/a/b/resolve/main/x", "hf", hf)
    allowed = SourceConfig(hf_token=TOKEN, token_hosts=frozenset({"hf-mirror.com"}))
    assert token_refusal("https://hf-mirror.com/a/b/resolve/main/x", "hf", allowed) is None
    assert token_refusal("http://hf-mirror.com/a/b/resolve/main/x", "hf", allowed) is not None
    assert token_refusal("https://huggingface.co/x", "modelscope", allowed) is not None


def test_plain_http_mirror_never_receives_the_token_even_when_allowed(http_hub, tiny_models, tmp_path):
    f, report, events = _download(http_hub, tiny_models, tmp_path, token_hosts=frozenset({"127.0.0.1"}))
    assert report.downloaded == [f.dest]
    assert http_hub.log and all(r.authorization is None for r in http_hub.log)
    notices = [e.message for e in events if e.kind == "notice"]
    assert notices == ["The Hugging Face token was not sent to 127.0.0.1: the address does not use HTTPS."]
    assert notices[0] in report.messages and TOKEN not in " ".join(report.messages)


def test_https_mirror_gets_the_token_only_when_the_user_allowed_it(https_hub, tiny_models, tmp_path):
    f, report, events = _download(https_hub, tiny_models, tmp_path / "a")
    assert report.downloaded == [f.dest]
    assert all(r.authorization is None for r in https_hub.log)
    assert any("not allowed to receive the token" in e.message for e in events if e.kind == "notice")

    https_hub.log.clear()
    f, report, events = _download(https_hub, tiny_models, tmp_path / "b", token_hosts=frozenset({"127.0.0.1"}))
    assert report.downloaded == [f.dest]
    assert [r.authorization for r in https_hub.log] == [f"Bearer {TOKEN}"]
    assert not [e for e in events if e.kind == "notice"]


def test_modelscope_never_receives_the_token(https_hub, tiny_models, tmp_path):
    f, report, _ = _download(https_hub, tiny_models, tmp_path, order=("modelscope",),
                             token_hosts=frozenset({"127.0.0.1"}))
    assert report.downloaded == [f.dest]
    assert [r.kind for r in https_hub.log] == ["modelscope"]
    assert https_hub.log[0].authorization is None


def test_token_is_dropped_on_a_redirect_to_another_host(https_hub, tiny_models, tmp_path):
    port = https_hub.httpd.server_address[1]
    https_hub.faults[VAE] = Fault(redirect_to=f"https://localhost:{port}/other/repo/resolve/main/{VAE}", redirects=1)
    https_hub.add("other/repo", VAE, (tiny_models.comfy / "vae" / "tiny_ae.safetensors").read_bytes())
    f, report, _ = _download(https_hub, tiny_models, tmp_path, token_hosts=frozenset({"127.0.0.1", "localhost"}))
    assert report.downloaded == [f.dest]
    assert [(r.status, r.host.split(":")[0], r.authorization) for r in https_hub.log] == [
        (302, "127.0.0.1", f"Bearer {TOKEN}"), (200, "localhost", None)]


def test_endpoint_without_scheme_is_refused_before_any_request(http_hub, tiny_models, tmp_path):
    f = _vae(http_hub, tiny_models)
    with pytest.raises(BadInputError, match="not a web address"):
        Downloader(tmp_path / "m", SourceConfig(hf_endpoint="hf-mirror.com")).download([f])
    with pytest.raises(BadInputError):
        validate_endpoint("ftp://example.org")
    assert not http_hub.log


def test_settings_allow_the_mirror_only_when_switched_on(tmp_path):
    from zimage_desktop.models.sources import source_config

    paths = Paths(tmp_path)
    off = source_config(Settings(), paths, endpoint="https://hf-mirror.com")
    assert off.token_hosts == frozenset()
    on = source_config(Settings(hf_token_to_mirror=True), paths, endpoint="https://hf-mirror.com")
    assert on.token_hosts == frozenset({"hf-mirror.com"})
    # the switch names the mirror in the settings, not whatever --endpoint says
    other = source_config(Settings(hf_token_to_mirror=True), paths, endpoint="https://evil.example")
    assert other.token_hosts == frozenset({"hf-mirror.com"})
    assert token_refusal("https://evil.example/x", "hf", other) is not None


def test_settings_dialog_names_the_switch_and_keeps_it_off_by_default(qtbot, tmp_path):
    from PySide6.QtWidgets import QCheckBox

    from zimage_desktop.ui.settings_dialog import SettingsDialog
    from zimage_desktop.ui.settings_store import SettingsStore

    dialog = SettingsDialog(Paths(tmp_path), Settings())
    qtbot.addWidget(dialog)
    box = dialog.findChild(QCheckBox, "tokenToMirrorCheck")
    assert box is not None and not box.isChecked() and "token" in box.text()
    assert dialog.changes()["hf_token_to_mirror"] is False
    box.setChecked(True)
    store = SettingsStore(Paths(tmp_path))
    store.update(**dialog.changes())  # what the window does on OK
    assert Settings.load(Paths(tmp_path)).hf_token_to_mirror is True
