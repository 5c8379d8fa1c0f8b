"""``dropwire console``: the operator console's web server (registered by ``dropwire.cli``)."""

from __future__ import annotations

import signal
from types import FrameType

import typer


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def console() -> None:
    """Serve the operator console: overview, documents, search, entities, failures, JSON API under /api/.

    Binds 127.0.0.1:9104 by default (DROPWIRE_CONSOLE_HOST/PORT). Any other address needs
    DROPWIRE_CONSOLE_TOKEN (or DROPWIRE_CONSOLE_TOKEN_FILE), then required on every request.
    """
    import uvicorn

    from services.console.server import build
    from services.console.settings import TokenRequired, require_token_off_loopback
    from shared.logging import configure_logging, get_logger
    from shared.settings import ConsoleSettings, LogSettings

    logs = LogSettings()
    configure_logging(logs.log_level, logs.log_format, service="console")
    settings = ConsoleSettings()
    try:
        require_token_off_loopback(settings)
    except TokenRequired as exc:
        typer.echo(f"dropwire console: {exc}", err=True)
        raise typer.Exit(2) from exc
    app, close = build(settings)
    log = get_logger("services.console")
    log.info(
        "console.started",
        host=settings.console_host,
        port=settings.console_port,
        token_required=settings.console_token is not None,
    )
    # uvicorn shuts down on SIGTERM, then raises the signal again once it has put back the handler it
    # found: with the default one the process died there (exit 143, `close()` skipped under
    # `docker stop`). This handler makes that a normal exit through the `finally` below.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        typer.echo(
            f"dropwire console on http://{settings.console_host}:{settings.console_port}/  (Ctrl-C to stop)",
            err=True,
        )
        uvicorn.run(
            app, host=settings.console_host, port=settings.console_port, log_level="warning", access_log=False
        )
    finally:
        close()
        log.info("console.stopped")


def register(app: typer.Typer) -> None:
    """Add ``console`` to ``app``."""
    app.command()(console)
