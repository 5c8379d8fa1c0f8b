"""Command-line entry points of this service (registered by ``dropwire.cli``).

* ``dropwire store [--concurrency N] [--migrate]``: the store worker on queue ``store``.
* ``dropwire db upgrade`` / ``dropwire db current``: Alembic migrations of the configured database.
* ``dropwire articles [--entity NAME] [--place PLACE] [--since WHEN]``: stored articles, newest first.
* ``dropwire entities --top N [--label PER]``: the most mentioned entities.

Every command reads ``DROPWIRE_DATABASE_URL`` (and the broker for the worker); heavy imports happen
inside the commands, since every ``dropwire`` invocation imports this module to register them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

db_app = typer.Typer(
    help="Database schema: migrations to the configured DROPWIRE_DATABASE_URL.", no_args_is_help=True
)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``--since``: an ISO date or time (UTC unless it says otherwise), or a span back from now: 30m, 2h, 7d."""
    match = _DURATION.match(value.strip().lower())
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            "use an ISO date/time (2026-11-21, 2026-11-21T09:30) or a span (30m, 2h, 7d)"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _repository() -> Any:
    from services.store.db import make_engine
    from services.store.repository import Repository
    from shared.settings import DatabaseSettings

    return Repository(make_engine(DatabaseSettings().url()))


def _configure_logging() -> None:
    from shared.logging import configure_logging
    from shared.settings import LogSettings

    logs = LogSettings()
    configure_logging(logs.log_level, logs.log_format, service="store")


def store(
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Consumer threads (1 on SQLite)."),
    migrate: bool = typer.Option(False, "--migrate", help="Run `db upgrade` before consuming."),
    wait: float = typer.Option(60.0, "--wait", min=0, help="Seconds to wait for the database at start-up."),
) -> None:
    """Run the store worker: write enriched documents to the database in batches, report to ingest."""
    from services.store.worker import DEFAULT_METRICS_PORT, SchemaNotAtHead, WorkerConfig, run
    from shared.errors import DependencyUnavailable
    from shared.settings import BrokerSettings, DatabaseSettings, MetricsSettings

    _configure_logging()
    db, metrics = DatabaseSettings(), MetricsSettings()
    config = WorkerConfig(
        broker_url=BrokerSettings().url(),
        database_url=db.url(),
        batch_size=db.batch_size,
        batch_seconds=db.batch_seconds,
        concurrency=concurrency,
        migrate=migrate,
        wait_seconds=wait,
        metrics_host=metrics.metrics_host,
        metrics_port=DEFAULT_METRICS_PORT if metrics.metrics_port is None else metrics.metrics_port,
    )
    try:
        healthy = run(config)
    except (SchemaNotAtHead, DependencyUnavailable) as exc:
        typer.echo(f"dropwire store: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not healthy:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database to the newest schema (safe to repeat; concurrent runs are serialised)."""
    from services.store.db import current_revision, upgrade
    from shared.settings import DatabaseSettings

    _configure_logging()
    url = DatabaseSettings().url()
    upgrade(url, revision)
    typer.echo(f"database at revision {current_revision(url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one this code knows."""
    from services.store.db import current_revision, head_revision
    from shared.settings import DatabaseSettings

    typer.echo(json.dumps({"current": current_revision(DatabaseSettings().url()), "head": head_revision()}))


def articles(
    entity: str | None = typer.Option(None, "--entity", help="Canonical entity name, e.g. 'Mark Rutte'."),
    place: str | None = typer.Option(None, "--place", help="Dateline place, canonical or as written."),
    since: str | None = typer.Option(None, "--since", help="ISO date/time or a span back from now (2h, 7d)."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="Most articles to show."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List stored articles, newest first."""
    repo = _repository()
    rows = repo.articles(entity=entity, place=place, since=parse_since(since) if since else None, limit=limit)
    repo.engine.dispose()
    if not as_json:
        from shared.terminal import Column, print_table

        print_table(
            [Column("published (UTC)"), Column("place"), Column("role"), Column("headline", flexible=True)],
            (
                (
                    a.published_at.strftime("%Y-%m-%d %H:%M") if a.published_at else "-",
                    a.place or a.place_raw or "-",
                    a.role,
                    a.headline or a.body[:80],
                )
                for a in rows
            ),
        )
        return
    for a in rows:
        record = {
            "doc_id": a.sha256,
            "document": a.document_name,
            "seq": a.seq,
            "role": a.role,
            "section": a.section,
            "headline": a.headline,
            "place_raw": a.place_raw,
            "place": a.place,
            "country": a.country,
            "lat": a.lat,
            "lon": a.lon,
            "agencies": list(a.agencies),
            "relative_time": a.relative_time,
            "published_at": a.published_at.isoformat() if a.published_at else None,
            "body": a.body,
        }
        typer.echo(json.dumps(record, ensure_ascii=False))


def entities(
    top: int = typer.Option(10, "--top", "-n", min=1, help="How many entities."),
    label: str | None = typer.Option(None, "--label", help="Only PER, LOC, ORG or MISC."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List the most mentioned entities."""
    repo = _repository()
    rows = repo.top_entities(top, label=label)
    repo.engine.dispose()
    if not as_json:
        from shared.terminal import Column, print_table

        print_table(
            [
                Column("mentions", "right"),
                Column("articles", "right"),
                Column("label"),
                Column("entity", flexible=True),
            ],
            ((e.mentions, e.articles, e.label, e.name) for e in rows),
        )
        return
    for e in rows:
        typer.echo(
            json.dumps(
                {"label": e.label, "name": e.name, "mentions": e.mentions, "articles": e.articles},
                ensure_ascii=False,
            )
        )


def register(app: typer.Typer) -> None:
    """Add this service's commands to ``app``."""
    app.command()(store)
    app.add_typer(db_app, name="db")
    app.command()(articles)
    app.command()(entities)
