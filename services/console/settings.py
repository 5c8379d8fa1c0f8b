"""The rule that guards a console bound off loopback (the settings are ``shared.settings.ConsoleSettings``)."""

from __future__ import annotations

import ipaddress

from shared.settings import ConsoleSettings

LOOPBACK_NAMES = ("localhost",)


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
    """Refuse a token that is blank, and an address beyond loopback without a token."""
    if settings.console_token is not None and not settings.console_token.get_secret_value().strip():
        raise TokenRequired("DROPWIRE_CONSOLE_TOKEN is set but empty: give it a value or unset it")
    if settings.console_token is None and not is_loopback(settings.console_host):
        raise TokenRequired(
            f"refusing to listen on {settings.console_host} without DROPWIRE_CONSOLE_TOKEN "
            "(or DROPWIRE_CONSOLE_TOKEN_FILE): the console shows every stored document"
        )
