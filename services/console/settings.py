"""The console's settings (``DROPWIRE_CONSOLE_*``), and the rule that guards a console bound off loopback."""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr

from shared.settings import _FileSecrets, _prefixed

# Beside the services' metrics ports (ingest 9101, enrich 9102, store 9103).
DEFAULT_PORT = 9104
LOOPBACK_NAMES = ("localhost",)


class ConsoleSettings(_FileSecrets):
    """The operator console's web server."""

    model_config = _prefixed("DROPWIRE_CONSOLE_")

    host: str = Field("127.0.0.1", description="Bind address; anything but loopback requires a token.")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="HTTP port of the pages, API and /metrics.")
    token: SecretStr | None = Field(
        None, description="Required on every request when set; required to bind off loopback (or _FILE)."
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TokenRequired(ValueError):
    """The console was asked to listen beyond loopback without DROPWIRE_CONSOLE_TOKEN."""


def require_token_off_loopback(settings: ConsoleSettings) -> None:
    if settings.token is None and not is_loopback(settings.host):
        raise TokenRequired(
            f"refusing to listen on {settings.host} without DROPWIRE_CONSOLE_TOKEN "
            "(or DROPWIRE_CONSOLE_TOKEN_FILE): the console shows every stored document"
        )
