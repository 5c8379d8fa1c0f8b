"""``dropwire``: one console script for operators and for the services' containers."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="dropwire",
    help="Turn dropped Dutch news-wire files into clean, queryable, monitored data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines ``register(app)`` and adds its own commands.
COMMAND_MODULES = (
    "services.enrich.cli",  # parse
    "services.enrich.ner_cli",  # ner
    "services.enrich.worker_cli",  # enrich (the Celery worker)
    "services.store.cli",  # store, db, articles, entities
    "services.ingest.cli",  # ingest, failed
    "services.console.cli",  # console
    "dropwire.commands",  # run, status, config, version
    "dropwire.journeys",  # trace, import
    "dropwire.bench",  # bench
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()
