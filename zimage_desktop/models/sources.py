"""Where files come from: Hugging Face (or any mirror speaking its protocol) and ModelScope.

Hugging Face URLs are built with ``huggingface_hub.hf_hub_url`` (so a custom endpoint such as a
mirror works the same way); ModelScope uses its public file API. The transfer itself is done by
models.download for both, so both get the same resume, hashing, stall and bandwidth handling.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import quote, urlsplit

from ..errors import BadInputError
from ..messages import msg
from .catalog import SourceLocation

HF_ENDPOINT = "https://huggingface.co"
MODELSCOPE_ENDPOINT = "https://www.modelscope.cn"
SOURCE_NAMES = {"hf": "Hugging Face", "modelscope": "ModelScope"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SourceConfig:
    """Which sources to try, in order, and how to reach them."""

    order: tuple[str, ...] = ("hf", "modelscope")
    hf_endpoint: str = HF_ENDPOINT
    modelscope_endpoint: str = MODELSCOPE_ENDPOINT
    hf_token: str | None = None
    # Hosts besides huggingface.co that the user allowed to receive the token (a mirror they trust).
    token_hosts: frozenset[str] = frozenset()
    # "Automatic": ``order`` is only the hint (language/region); the download puts the source that
    # answers, and answers fastest, first (``rank_sources``).
    auto: bool = False

    def __repr__(self) -> str:  # never show the token
        return (f"SourceConfig(order={self.order}, hf_endpoint={scrub(self.hf_endpoint)!r}, "
                f"modelscope_endpoint={scrub(self.modelscope_endpoint)!r}, hf_token={'set' if self.hf_token else None}, "
                f"token_hosts={sorted(self.token_hosts)}, auto={self.auto})")

    def name(self, kind: str) -> str:
        if kind == "hf" and self.hf_endpoint.rstrip("/") != HF_ENDPOINT:
            return msg("sources.hf_mirror", "Hugging Face mirror {address}", address=scrub(self.hf_endpoint))
        return SOURCE_NAMES.get(kind, kind)


def file_url(loc: SourceLocation, config: SourceConfig) -> str:
    if loc.kind == "hf":
        from huggingface_hub import hf_hub_url

        return hf_hub_url(loc.repo, loc.path, revision=loc.revision, endpoint=config.hf_endpoint.rstrip("/"))
    if loc.kind == "modelscope":
        base = config.modelscope_endpoint.rstrip("/")
        return (f"{base}/api/v1/models/{quote(loc.repo)}/repo?Revision={quote(loc.revision, safe='')}"
                f"&FilePath={quote(loc.path, safe='')}")
    raise ValueError(f"unknown source kind {loc.kind}")


HF_ADDRESS = msg("sources.hf_address", "The Hugging Face address")
MODELSCOPE_ADDRESS = msg("sources.modelscope_address", "The ModelScope address")


_USERINFO = re.compile(r"(?<=//)[^/@\s'\"]+@")
_SECRET_QUERY = re.compile(r"(?i)([?&;](?:token|access_token|api[_-]?key|key|secret|password|passwd|pwd|auth|sig|"
                           r"signature|x-amz-signature|credential)=)[^&;#\s'\"]+")


def scrub(text: str) -> str:
    """``text`` with any credential inside a web address (``user:password@``, ``?token=…``) shown
    as ``***``: an address the user typed may hold one, and messages and logs must not repeat it."""
    return _SECRET_QUERY.sub(r"\1***", _USERINFO.sub("***@", text))


def validate_endpoint(url: str, what: str = msg("sources.download_address", "The download address")) -> str:
    """An endpoint must be an http(s) URL with a host; checked before any download starts."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError(msg("sources.web_address_write_like", "{what} {url!r} is not a web address; write it like "
                                "https://hf-mirror.com.", what=what, url=scrub(url)))
    return url.strip()


def token_refusal(url: str, kind: str, config: SourceConfig) -> str | None:
    """Why the token must not go with a request to ``url`` (None: it may). The token goes only over
    HTTPS, only to Hugging Face itself or a host the user allowed, and never to ModelScope."""
    if kind != "hf":
        return msg("sources.token_hf_only", "the token is for Hugging Face only")
    parts = urlsplit(url)
    if parts.scheme != "https":
        return msg("sources.token_not_https", "the address does not use HTTPS")
    host = (parts.hostname or "").lower()
    if host == urlsplit(HF_ENDPOINT).hostname or host in {h.lower() for h in config.token_hosts}:
        return None
    return f"{host} is not Hugging Face and was not allowed to receive the token in the settings"


def request_headers(loc: SourceLocation, config: SourceConfig, url: str | None = None) -> dict[str, str]:
    headers = {"User-Agent": "zimage-desktop"}
    if config.hf_token and token_refusal(url or file_url(loc, config), loc.kind, config) is None:
        headers["Authorization"] = f"Bearer {config.hf_token}"
    return headers


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def sha256_from_headers(headers) -> str | None:
    """Hugging Face sends the sha256 of LFS files as X-Linked-Etag (or ETag on the CDN)."""
    for name in ("X-Linked-Etag", "ETag"):
        value = (headers.get(name) or "").strip().removeprefix("W/").strip('"')
        if _SHA256.match(value):
            return value
    return None


# A source must connect this much faster than the one the language/region hint puts before it to
# jump ahead: round trips within one region differ by tens of milliseconds, across the border from
# mainland China by hundreds, so a near tie keeps the hint's order.
HINT_MARGIN_S = 0.1
CHINA_TIMEZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi",
                             "Asia/Kashgar", "PRC"})


def in_mainland_china(language: str, env: Mapping[str, str] | None = None) -> bool:
    """The hint: a Chinese (simplified) UI, a zh_CN locale or a mainland time zone. Only a hint — the
    probe decides; a Hong Kong or Taiwan locale reaches Hugging Face well and is not counted."""
    env = os.environ if env is None else env
    if language == "zh_CN":
        return True
    locale = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    return locale.replace("-", "_").startswith("zh_CN") or env.get("TZ", "").lstrip(":") in CHINA_TIMEZONES


def hint_order(language: str, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    return ("modelscope", "hf") if in_mainland_china(language, env) else ("hf", "modelscope")


def rank_sources(hinted: Sequence[str], seconds: Mapping[str, float], margin: float = HINT_MARGIN_S) -> tuple[str, ...]:
    """The sources that answered (``seconds``: how long each took to connect), fastest first; each
    place down the hint's order costs ``margin``, so the hint decides near ties. Sources that did not
    answer are left out."""
    place = {kind: i for i, kind in enumerate(hinted)}
    answered = [kind for kind in hinted if kind in seconds] + sorted(set(seconds) - set(hinted))
    return tuple(sorted(answered, key=lambda kind: seconds[kind] + margin * place.get(kind, len(hinted))))


def source_config(settings, paths, endpoint: str | None = None, source: str | None = None,
                  modelscope_endpoint: str | None = None) -> SourceConfig:
    """The sources for the CLI and the model manager from the settings. The token may go to the
    mirror named in the settings only when the user switched that on; never to another endpoint.
    "auto" (the default) orders the sources by the language/region hint and lets the download's
    probe put the one that answers fastest first."""
    code = source or settings.download_source
    hf_endpoint = endpoint or (settings.hf_mirror if code == "mirror" else None) or os.environ.get("HF_ENDPOINT") \
        or HF_ENDPOINT
    token_hosts = frozenset({host_of(settings.hf_mirror)} - {""}) if settings.hf_token_to_mirror else frozenset()
    order = hint_order(settings.shown_language) if code == "auto" else \
        ("modelscope", "hf") if code == "modelscope" else ("hf", "modelscope")
    return SourceConfig(order=order, auto=code == "auto",
                        hf_endpoint=validate_endpoint(hf_endpoint, HF_ADDRESS),
                        modelscope_endpoint=validate_endpoint(modelscope_endpoint or os.environ.get("MODELSCOPE_ENDPOINT")
                                                              or MODELSCOPE_ENDPOINT, MODELSCOPE_ADDRESS),
                        hf_token=os.environ.get("HF_TOKEN") or load_token(paths.data), token_hosts=token_hosts)


# -- the Hugging Face token ------------------------------------------------------------------


def token_file(data_dir: Path) -> Path:
    return Path(data_dir) / "hf_token"


def save_token(data_dir: Path, token: str) -> None:
    """Stored readable by the user only (0600); never logged or printed."""
    path = token_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token.strip())
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def load_token(data_dir: Path) -> str | None:
    try:
        token = token_file(data_dir).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None
