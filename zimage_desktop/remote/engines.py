"""The user's engines: "This computer" plus ComfyUI servers, in the user's order.

Kept in ``<data dir>/engines.json`` (written atomically, beside settings.json) so that the list and
its order survive; access tokens go to the OS keyring (``keyring``: Keychain, Credential Manager,
Secret Service) when one is usable, else into that file in plain text, and ``token_storage`` says
which so the Engines page can tell the user. Our Hugging Face token is a different setting and is
never read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..config import Paths
from ..errors import BadInputError
from ..fsutil import atomic_open
from ..messages import Message, msg
from .http import ServerConfig, is_lan, is_loopback

LOCAL = "local"  # the entry that stands for this computer in the order
KEYRING_SERVICE = "zimage-desktop-comfyui"
MAX_SERVERS = 64


@dataclass(frozen=True)
class ServerEntry:
    """One configured server as stored (the token itself is in the keyring or ``plain_token``)."""

    name: str
    url: str
    header: str = "Authorization"
    insecure_hosts: tuple[str, ...] = ()
    enabled: bool = True
    has_token: bool = False
    plain_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class EngineList:
    servers: tuple[ServerEntry, ...] = ()
    order: tuple[str, ...] = (LOCAL,)  # names; LOCAL is this computer
    local_enabled: bool = True

    def ordered(self) -> list[str]:
        """Every engine once, in the user's order (ones missing from the order go last)."""
        names = [n for n in self.order if n == LOCAL or any(s.name == n for s in self.servers)]
        names += [n for n in [LOCAL, *(s.name for s in self.servers)] if n not in names]
        return names

    def server(self, name: str) -> ServerEntry | None:
        return next((s for s in self.servers if s.name == name), None)


def _keyring() -> Any | None:
    """The keyring module when a real backend is there (not the "fail" or plaintext ones)."""
    try:
        import keyring
        from keyring.backends import fail
    except Exception:  # not installed, or its backend discovery broke: plain text, and we say so
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def token_storage() -> str:
    """"keyring" or "plain" — where a token saved now would go (the Engines page says it)."""
    return "keyring" if _keyring() is not None else "plain"


def _path(paths: Paths):
    return paths.data / "engines.json"


def load(paths: Paths) -> EngineList:
    try:
        data = json.loads(_path(paths).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EngineList()
    if not isinstance(data, dict):
        return EngineList()
    servers: list[ServerEntry] = []
    for raw in (data.get("servers") or [])[:MAX_SERVERS] if isinstance(data.get("servers"), list) else []:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("url"), str):
            continue
        hosts = raw.get("insecure_hosts")
        servers.append(ServerEntry(
            raw["name"], raw["url"], header=str(raw.get("header") or "Authorization"),
            insecure_hosts=tuple(h for h in hosts if isinstance(h, str)) if isinstance(hosts, list) else (),
            enabled=raw.get("enabled") is not False, has_token=bool(raw.get("has_token")),
            plain_token=raw["token"] if isinstance(raw.get("token"), str) else ""))
    order = data.get("order")
    return EngineList(tuple(servers), tuple(n for n in order if isinstance(n, str)) if isinstance(order, list)
                      else (LOCAL,), data.get("local_enabled") is not False)


def save(paths: Paths, engines: EngineList, tokens: dict[str, str] | None = None) -> EngineList:
    """Write the list; ``tokens`` ({name: token}, "" to remove) go to the keyring, else plain text."""
    tokens = tokens or {}
    ring = _keyring()
    stored: list[ServerEntry] = []
    for entry in engines.servers:
        token = tokens.get(entry.name)
        has, plain = entry.has_token, entry.plain_token
        if token is not None:
            has, plain = bool(token), ""
            if ring is not None:
                if token:
                    ring.set_password(KEYRING_SERVICE, entry.name, token)
                else:
                    try:
                        ring.delete_password(KEYRING_SERVICE, entry.name)
                    except Exception:  # nothing stored: nothing to remove
                        pass
            else:
                plain = token
        stored.append(ServerEntry(entry.name, entry.url, entry.header, entry.insecure_hosts, entry.enabled, has, plain))
    result = EngineList(tuple(stored), engines.order, engines.local_enabled)
    payload = {"order": list(result.order), "local_enabled": result.local_enabled, "servers": [
        {"name": s.name, "url": s.url, "header": s.header, "insecure_hosts": list(s.insecure_hosts),
         "enabled": s.enabled, "has_token": s.has_token, **({"token": s.plain_token} if s.plain_token else {})}
        for s in stored]}
    paths.data.mkdir(parents=True, exist_ok=True)
    with atomic_open(_path(paths), "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, ensure_ascii=False)
    return result


def token_of(entry: ServerEntry) -> str:
    if entry.plain_token:
        return entry.plain_token
    ring = _keyring() if entry.has_token else None
    if ring is None:
        return ""
    try:
        return ring.get_password(KEYRING_SERVICE, entry.name) or ""
    except Exception:
        return ""


def server_config(entry: ServerEntry, timeout_s: float | None = None) -> ServerConfig:
    extra = {"timeout_s": timeout_s} if timeout_s else {}
    return ServerConfig(entry.name, entry.url, token=token_of(entry), header=entry.header,
                        insecure_hosts=entry.insecure_hosts, **extra)


def resolve(paths: Paths, value: str) -> ServerConfig:
    """``--engine``: a configured server's name, or a URL (with that server's token if it is one)."""
    engines = load(paths)
    entry = engines.server(value)
    if entry is None and value.startswith(("http://", "https://")):
        entry = next((s for s in engines.servers if s.url.rstrip("/") == value.rstrip("/")), None)
        if entry is None:
            parts = urlsplit(value)
            return ServerConfig(parts.netloc or value, value)
    if entry is None:
        names = ", ".join(s.name for s in engines.servers) or "none"
        raise BadInputError(msg("remote.no_such_engine", "There is no engine named {name} (configured: {names}); give "
                                "a server's name or its http(s):// address.", name=value, names=names))
    return server_config(entry)


def token_problem(entry: ServerEntry, token_set: bool | None = None) -> Message | None:
    """Why this server is not used, in one sentence: a token that would go over plain HTTP to a
    host that is not loopback and not allowed (``token_set``: a token typed but not saved yet)."""
    if not (entry.has_token if token_set is None else token_set):
        return None
    try:
        ServerConfig(entry.name, entry.url, token="set", header=entry.header, insecure_hosts=entry.insecure_hosts)
    except BadInputError as exc:
        return exc.message if isinstance(exc.message, Message) else None
    return None


def may_allow_plain_http(url: str) -> bool:
    """Whether the user may allow a token over plain HTTP to this address (a LAN host, not loopback:
    loopback needs no permission, and an address outside the network never gets one)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "http" and is_lan(host) and not is_loopback(host)
