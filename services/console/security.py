"""Who may use the console: the access token, the CSRF token of actions, the host a browser asked for.

* With ``DROPWIRE_CONSOLE_TOKEN`` set, every request but ``/healthz``, ``/readyz`` and the login page
  must carry it: ``Authorization: Bearer TOKEN`` (scripts, the API, Prometheus) or the cookie the login
  page sets (browsers). Compared in constant time.
* Without a token the console listens on loopback only, and answers only requests whose ``Host`` is a
  loopback name: a web page elsewhere that rebinds its own name to 127.0.0.1 gets a 403.
* Every POST carries a CSRF token (form field ``csrf`` or header ``X-CSRF-Token``): an HMAC of a random
  per-process key, which a page from another origin cannot read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from services.console.settings import is_loopback

COOKIE = "dropwire_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
# Paths that never need the token: liveness and readiness carry no data; the login page takes the token.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/login", "/static/console.css"})


@dataclass(frozen=True)
class Guard:
    token: str | None
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def csrf_token(self) -> str:
        return hmac.new(self.key, b"csrf", hashlib.sha256).hexdigest()

    def csrf_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token().encode())

    def cookie_value(self) -> str:
        """What the login cookie holds: a digest of the token, so the token itself never sits in a cookie."""
        assert self.token is not None
        return hmac.new(self.key, self.token.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, presented: str | None) -> bool:
        if not self.token or not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.token.encode())

    def allowed(self, path: str, authorization: str | None, cookie: str | None) -> bool:
        """Whether a request may proceed (the Host check is separate: ``host_ok``)."""
        if self.token is None or path in OPEN_PATHS:
            return True
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self.token_ok(credential.strip()):
            return True
        return cookie is not None and hmac.compare_digest(cookie.encode(), self.cookie_value().encode())

    def host_ok(self, host_header: str | None) -> bool:
        """Without a token, only requests addressed to a loopback name (DNS-rebinding guard)."""
        if self.token is not None:
            return True
        if not host_header:
            return False
        host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
        return is_loopback(host.strip("[]"))
