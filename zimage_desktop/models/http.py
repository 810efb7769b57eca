"""The HTTP session downloads use: bounded redirects, web addresses only, the token kept in scope."""

from __future__ import annotations

from ..messages import msg

from urllib.parse import urljoin, urlsplit

import requests

from .sources import SourceConfig, host_of, token_refusal

MAX_REDIRECTS = 10


class RedirectRefused(Exception):
    """The server redirected somewhere a download must not go."""


class ScopedSession(requests.Session):
    """Follows at most MAX_REDIRECTS redirects and only to http(s) (a ``file://`` target would
    otherwise surface as an obscure adapter error), and re-applies the token policy on every hop:
    requests drops the header when the host changes; this also drops it on a downgrade to HTTP or
    a hop to a host the policy refuses."""

    def __init__(self, sources: SourceConfig, kind: str) -> None:
        super().__init__()
        self.max_redirects = MAX_REDIRECTS
        self.sources, self.kind = sources, kind

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target and urlsplit(urljoin(resp.url, target)).scheme not in ("http", "https"):
            raise RedirectRefused(msg("http.server_redirected_non_web", "the server redirected to a non-web address "
                                      "({target})", target=target[:80]))
        return target

    def rebuild_auth(self, prepared_request, response) -> None:
        super().rebuild_auth(prepared_request, response)
        url = prepared_request.url or ""
        if "Authorization" in prepared_request.headers and (
                host_of(url) != host_of(response.request.url or "")
                or token_refusal(url, self.kind, self.sources) is not None):
            del prepared_request.headers["Authorization"]
