"""Commands that span services: run, status, config, bench, version."""

from __future__ import annotations

import json

import typer

from shared import __version__
from shared.settings import (
    BrokerSettings,
    DatabaseSettings,
    IngestSettings,
    LogSettings,
    MetricsSettings,
    NerSettings,
    SpoolSettings,
    masked,
)


def config() -> None:
    """Print the effective settings (from DROPWIRE_* variables and defaults), secrets masked."""
    groups = {
        "spool": SpoolSettings(),
        "ingest": IngestSettings(),
        "broker": BrokerSettings(),
        "database": DatabaseSettings(),
        "metrics": MetricsSettings(),
        "logging": LogSettings(),
        "ner": NerSettings(),
    }
    typer.echo(json.dumps({k: masked(v) for k, v in groups.items()}, indent=2, default=str))


def version() -> None:
    """Print dropwire's version."""
    typer.echo(__version__)


def register(app: typer.Typer) -> None:
    """Add the cross-service commands to ``app``."""
    app.command()(config)
    app.command()(version)
