"""Can a download source be reached at all? Asked once per source before any file starts.

Offline, every file would otherwise wait for its connect timeout and retry with growing pauses,
source after source, for minutes. One TCP connection per source (to its proxy when one is set,
as requests would use), all at once and bounded by one deadline (name resolution has no timeout
of its own), tells "no network" from "this file failed" within seconds. A connection is enough:
the servers' answers to real requests are the download's business, and a probe that sent one
would count against the servers' rate limits and show up in their logs.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import requests.utils

from ..messages import msg

DEFAULT_PORTS = {"http": 80, "https": 443}


def address_for(url: str) -> tuple[str, int]:
    """Where a request for ``url`` connects first: its proxy from the environment, else its host."""
    proxies = requests.utils.get_environ_proxies(url)
    scheme = urlsplit(url).scheme
    target = proxies.get(scheme) or proxies.get("all") or url
    parts = urlsplit(target if "://" in target else f"http://{target}")
    return parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 443)


def _no_answer(host: str, timeout: float) -> str:
    return msg("reach.no_answer", "{host} did not answer within {seconds} s", host=host, seconds=f"{timeout:.0f}")


def why_unreachable(url: str, timeout: float) -> str | None:
    """None when a TCP connection to the source (or its proxy) opens within ``timeout``; else why not."""
    return _connect(url, timeout)[1]


def _connect(url: str, timeout: float) -> tuple[float, str | None]:
    """(seconds the connection took, None) or (0, why it could not be made)."""
    host, port = address_for(url)
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return time.perf_counter() - started, None
    except socket.gaierror:
        return 0.0, msg("reach.name_not_found", "the name {host} could not be looked up", host=host)
    except ConnectionRefusedError:
        return 0.0, msg("reach.refused", "{host} refused the connection", host=host)
    except TimeoutError:
        return 0.0, _no_answer(host, timeout)
    except OSError as exc:
        return 0.0, msg("reach.os_error", "{host}: {reason}", host=host, reason=exc.strerror or exc)


def probe_sources(urls: dict[str, str], timeout: float) -> dict[str, str | None]:
    """For each source (key) one URL it serves; returns why each cannot be reached (None: it can)."""
    return {key: why for key, (_, why) in measure_sources(urls, timeout).items()}


def measure_sources(urls: dict[str, str], timeout: float) -> dict[str, tuple[float, str | None]]:
    """For each source (key) one URL it serves: (seconds its connection took, None), or (0, why it
    cannot be reached). The time to connect is the round trip to the nearest server of the source —
    what tells a mainland connection to ModelScope from one that crosses the border to Hugging Face.
    All probes run at once; any still running after ``timeout`` (e.g. a hanging name lookup)
    counts as unreachable, so the answer comes within ``timeout`` plus a little."""
    results: dict[str, tuple[float, str | None]] = {}
    lock = threading.Lock()

    def probe(key: str, url: str) -> None:
        answer = _connect(url, timeout)
        with lock:
            results[key] = answer

    threads = [threading.Thread(target=probe, args=item, daemon=True, name=f"probe-{item[0]}")
               for item in urls.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        finished = dict(results)
    return {key: finished[key] if key in finished else (0.0, _no_answer(address_for(url)[0], timeout))
            for key, url in urls.items()}
