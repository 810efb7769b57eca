"""Bounded HTTP to one ComfyUI server: every answer has a size limit and a time limit, TLS is
checked, redirects are never followed (a token must not travel to another host), and a token is
sent only over HTTPS, to loopback, or to a host the user allowed.

No Qt and no third-party HTTP client: ``http.client`` does exactly what we ask and nothing more.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..errors import BadInputError, UserFacingError
from ..messages import msg

MAX_JSON_BYTES = 16 * 1024 * 1024  # /object_info of a big install is a few MB; /queue with many jobs more
MAX_IMAGE_BYTES = 256 * 1024 * 1024  # a 2048² 16-bit PNG is ~25 MB; far above any honest answer
DEFAULT_TIMEOUT_S = 30.0


class RemoteError(UserFacingError):
    """Something went wrong with a ComfyUI server. ``retriable``: the job may run elsewhere (the
    server is gone, slow or answers nonsense); otherwise the job itself failed there."""

    retriable = True


class ServerUnavailable(RemoteError):
    """The server cannot be reached, hung up, or did not answer in time."""


class BadAnswer(RemoteError):
    """The server answered something that is not what ComfyUI answers."""


class RemoteJobFailed(RemoteError):
    """The server ran the job and reported an error (missing node or file, out of memory)."""

    retriable = False


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# Private (RFC 1918, ULA), link-local, and 100.64/10 (carrier-grade NAT space, where VPN meshes
# such as Tailscale put a user's own machines). Not ipaddress's is_private: it also counts the
# documentation and reserved ranges.
LAN_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                        "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10"))
LAN_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal", ".localdomain", ".home")


def is_lan(host: str) -> bool:
    """Loopback, a private or link-local address, or a name that only a local network resolves
    (no dot, or .local/.lan/.home.arpa …): the hosts a user may allow a token over plain HTTP to."""
    host = host.strip("[]").lower().rstrip(".")
    if is_loopback(host):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return bool(host) and ("." not in host or host.endswith(LAN_SUFFIXES))
    return any(address in network for network in LAN_NETWORKS if network.version == address.version)


@dataclass(frozen=True)
class ServerConfig:
    """One ComfyUI server as the user configured it. ``token`` goes in ``header`` (``Authorization``
    gets "Bearer "); ``insecure_hosts`` are plain-HTTP hosts the user allowed a token to go to."""

    name: str
    url: str
    token: str = field(default="", repr=False)
    header: str = "Authorization"
    insecure_hosts: tuple[str, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadInputError(msg("remote.bad_url", "The server address {url} is not an http:// or https:// address.",
                                    url=self.url))
        if parts.query or parts.fragment:
            raise BadInputError(msg("remote.url_query", "The server address {url} must not have a query or fragment.",
                                    url=self.url))
        if self.token and not self.token_allowed:
            if not is_lan(parts.hostname):
                raise BadInputError(msg("remote.token_needs_https_public", "The access token for {name} is sent only "
                                        "over HTTPS to {host}, an address outside your network: use https://.",
                                        name=self.name, host=parts.hostname))
            raise BadInputError(msg("remote.token_needs_https", "The access token for {name} is sent only over HTTPS, to "
                                    "this computer, or to a host you allowed; {host} is none of these.",
                                    name=self.name, host=parts.hostname))
        if any(c in self.header for c in ":\r\n ") or not self.header:
            raise BadInputError(msg("remote.bad_header", "The header name {header!r} is not valid.", header=self.header))
        if any(c in self.token for c in "\r\n"):
            raise BadInputError(msg("remote.bad_token", "The access token for {name} must be one line.", name=self.name))

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def token_allowed(self) -> bool:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        # plain HTTP with a token: only to loopback, or to a LAN host the user allowed by name
        return parts.scheme == "https" or is_loopback(host) or (host in self.insecure_hosts and is_lan(host))

    @property
    def base_path(self) -> str:
        return urlsplit(self.url).path.rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        if not self.token:
            return {}
        value = f"Bearer {self.token}" if self.header.lower() == "authorization" else self.token
        return {self.header: value}

    def ws_url(self, client_id: str) -> str:
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{self.base_path}/ws?{urlencode({'clientId': client_id})}"


class Http:
    """One request per call; a fresh connection each time (a server that restarted is noticed)."""

    def __init__(self, server: ServerConfig) -> None:
        self.server = server

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        parts = urlsplit(self.server.url)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def request(self, method: str, path: str, *, query: dict[str, str] | None = None, body: bytes | None = None,
                content_type: str | None = None, limit: int = MAX_JSON_BYTES, timeout: float | None = None,
                ok: tuple[int, ...] = (200,)) -> tuple[int, bytes]:
        """(status, body). Raises ServerUnavailable (no answer in time, refused, reset), BadAnswer
        (bigger than ``limit``, or a status outside ``ok`` and not 400)."""
        name = self.server.name
        target = self.server.base_path + path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json, image/*", **self.server.auth_headers()}
        if content_type:
            headers["Content-Type"] = content_type
        conn = self._connection(timeout or self.server.timeout_s)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            length = resp.getheader("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise BadAnswer(msg("remote.answer_too_big", "{server} sent an answer of {size} bytes to {path}; at most "
                                    "{limit} are accepted.", server=name, size=int(length), path=path, limit=limit))
            data = resp.read(limit + 1)
            status = resp.status
        except ssl.SSLError as exc:
            raise ServerUnavailable(msg("remote.tls_failed", "The secure connection to {server} failed: {reason}.",
                                        server=name, reason=exc.reason or exc)) from None
        except (socket.timeout, TimeoutError):
            raise ServerUnavailable(msg("remote.timeout", "{server} did not answer within {seconds:g} s.", server=name,
                                        seconds=timeout or self.server.timeout_s)) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnavailable(msg("remote.unreachable", "{server} cannot be reached ({reason}).", server=name,
                                        reason=type(exc).__name__ if not str(exc) else str(exc)[:200])) from None
        finally:
            conn.close()
        if len(data) > limit:
            raise BadAnswer(msg("remote.answer_too_big", "{server} sent an answer of {size} bytes to {path}; at most "
                                "{limit} are accepted.", server=name, size=f"> {limit}", path=path, limit=limit))
        if status in (401, 403):
            raise BadAnswer(msg("remote.refused_access", "{server} refused access (HTTP {status}): check its access "
                                "token.", server=name, status=status))
        if status not in ok and status != 400:
            raise BadAnswer(msg("remote.http_status", "{server} answered HTTP {status} to {path}.", server=name,
                                status=status, path=path))
        return status, data

    def get_json(self, path: str, *, query: dict[str, str] | None = None, timeout: float | None = None) -> Any:
        status, data = self.request("GET", path, query=query, timeout=timeout)
        return self._json(path, status, data)

    def post_json(self, path: str, payload: Any, *, timeout: float | None = None) -> Any:
        status, data = self.request("POST", path, body=json.dumps(payload).encode(), content_type="application/json",
                                    timeout=timeout)
        return self._json(path, status, data) if data.strip() else {}

    def _json(self, path: str, status: int, data: bytes) -> Any:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            raise BadAnswer(msg("remote.not_json", "{server} answered {path} with something that is not ComfyUI's "
                                "JSON.", server=self.server.name, path=path)) from None
        if status == 400:
            raise RemoteJobFailed(msg("remote.rejected", "{server} rejected the job: {reason}.", server=self.server.name,
                                      reason=describe_rejection(value)))
        return value


def describe_rejection(value: Any) -> str:
    """ComfyUI's 400 answer ({"error": {...}, "node_errors": {...}}) in one short clause."""
    parts: list[str] = []
    if isinstance(value, dict):
        error = value.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            parts.append(error["message"])
        nodes = value.get("node_errors")
        if isinstance(nodes, dict):
            for node in list(nodes.values())[:3]:
                for err in (node.get("errors") or [])[:2] if isinstance(node, dict) else []:
                    if isinstance(err, dict):
                        parts.append(str(err.get("details") or err.get("message") or ""))
    text = "; ".join(p.strip() for p in parts if p and p.strip()) or "no reason given"
    return text[:300].rstrip(". ")


def multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file (what /upload/image takes)."""
    boundary = "----zimage" + uuid.uuid4().hex
    out = bytearray()
    for key, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n").encode()
    out += data + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
