"""Command-line entry points of this service (registered by ``dropwire.cli``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this service's commands to ``app``."""
