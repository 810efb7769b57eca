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
from urllib.parse import quote

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

    def __repr__(self) -> str:  # never show the token
        return (f"SourceConfig(order={self.order}, hf_endpoint={self.hf_endpoint!r}, "
                f"modelscope_endpoint={self.modelscope_endpoint!r}, hf_token={'set' if self.hf_token else None})")

    def name(self, kind: str) -> str:
        if kind == "hf" and self.hf_endpoint.rstrip("/") != HF_ENDPOINT:
            return f"Hugging Face mirror {self.hf_endpoint}"
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


def request_headers(loc: SourceLocation, config: SourceConfig) -> dict[str, str]:
    headers = {"User-Agent": "zimage-desktop"}
    if loc.kind == "hf" and config.hf_token:
        headers["Authorization"] = f"Bearer {config.hf_token}"
    return headers


def sha256_from_headers(headers) -> str | None:
    """Hugging Face sends the sha256 of LFS files as X-Linked-Etag (or ETag on the CDN)."""
    for name in ("X-Linked-Etag", "ETag"):
        value = (headers.get(name) or "").strip().removeprefix("W/").strip('"')
        if _SHA256.match(value):
            return value
    return None


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
