"""``dropwire``: one console script for operators and for the services' containers.

Start-up is kept short for the commands operators type often: ``main()`` imports only the module
that defines the command asked for (``dropwire articles`` never loads spaCy or Celery), and every
module imports its heavy libraries inside its commands. ``dropwire --help``, an unknown command and
``from dropwire.cli import app`` load them all.

Before any command runs, the ``DROPWIRE_*`` settings are checked once (``shared.config_check``); a
problem prints one line per setting and exits 2. An operator's problem met while running (a database
down or missing, a port taken) prints one line and exits 2 (fix a setting) or 3 (a dependency did
not answer); see docs/troubleshooting.md.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

HELP = "Turn dropped Dutch news-wire files into clean, queryable, monitored data."

# Each module defines ``register(app)`` and adds its own commands.
COMMAND_MODULES = (
    "services.enrich.cli",  # parse
    "services.enrich.ner_cli",  # ner
    "services.enrich.worker_cli",  # enrich (the Celery worker)
    "services.store.cli",  # store, db, articles, entities, stories
    "services.ingest.cli",  # ingest, failed
    "services.console.cli",  # console
    "dropwire.commands",  # run, status, config, version
    "dropwire.journeys",  # trace, import
    "dropwire.bench",  # bench
)

# Which module defines a command, so that one command's start-up loads only what it needs. A
# command missing here still works: main() then loads every module.
COMMAND_HOME = {
    "parse": "services.enrich.cli",
    "ner": "services.enrich.ner_cli",
    "enrich": "services.enrich.worker_cli",
    "store": "services.store.cli",
    "db": "services.store.cli",
    "articles": "services.store.cli",
    "entities": "services.store.cli",
    "stories": "services.store.cli",
    "ingest": "services.ingest.cli",
    "failed": "services.ingest.cli",
    "console": "services.console.cli",
    "run": "dropwire.commands",
    "status": "dropwire.commands",
    "config": "dropwire.commands",
    "version": "dropwire.commands",
    "trace": "dropwire.journeys",
    "import": "dropwire.journeys",
    "bench": "dropwire.bench",
}

# Commands with subcommands: an error names both words (``dropwire db upgrade: ...``).
GROUPS = frozenset({"db", "failed", "stories"})

# Commands that run whatever the settings say (they print, they do not use them).
NO_SETTINGS_CHECK = frozenset({"version"})


def build_app(modules: tuple[str, ...] = COMMAND_MODULES) -> typer.Typer:
    """The typer app with the commands of ``modules``."""
    app = typer.Typer(
        name="dropwire",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def _group() -> None:
        """Keeps ``dropwire COMMAND`` a group even when only one command is loaded."""

    for name in modules:
        importlib.import_module(name).register(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the full app, for tests and the reference generator
        return build_app()
    raise AttributeError(name)


def _command(argv: list[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    command = _command(args)
    home = COMMAND_HOME.get(command or "")
    wants_help = not args or "--help" in args
    if command and command not in NO_SETTINGS_CHECK and not wants_help:
        from shared.config_check import EXIT_CONFIG, problems

        found = problems()
        if found:
            for line in found:
                typer.echo(f"dropwire: {line}", err=True)
            raise SystemExit(EXIT_CONFIG)
    app = build_app((home,) if home else COMMAND_MODULES)
    try:
        app(args=args, prog_name="dropwire")
    except Exception as exc:
        from shared.config_check import explain

        known = explain(exc)
        if known is None:
            raise
        code, line = known
        words = [a for a in args if not a.startswith("-")][: 2 if command in GROUPS else 1]
        typer.echo(f"dropwire {' '.join(words)}: {line}", err=True)
        raise SystemExit(code) from None


if __name__ == "__main__":
    main()
