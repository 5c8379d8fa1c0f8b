"""Command-line entry points of this service (registered by ``dropwire.cli``).

* ``dropwire store [--concurrency N] [--migrate]``: the store worker on queue ``store``.
* ``dropwire db upgrade`` / ``dropwire db current``: Alembic migrations of the configured database.
* ``dropwire articles [--entity NAME] [--place PLACE] [--since WHEN]``: stored articles, newest first.
* ``dropwire entities --top N [--label PER] [--by stories|mentions]``: the entities in the most stories.
* ``dropwire stories [--since WHEN] [--entity NAME] [--json]``: stories, newest first;
  ``dropwire stories show ID``: one story's articles; ``dropwire stories rebuild``: assign stories to
  articles stored before they existed (idempotent, resumable).

Every command reads ``DROPWIRE_DATABASE_URL`` (and the broker for the worker); heavy imports happen
inside the commands, since every ``dropwire`` invocation imports this module to register them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer

db_app = typer.Typer(
    help="Database schema: migrations to the configured DROPWIRE_DATABASE_URL.", no_args_is_help=True
)
stories_app = typer.Typer(
    help="Stories: one wire item and its versions, however many pages carried it.",
    invoke_without_command=True,
)


class Label(StrEnum):
    """The labels the NER model and the gazetteer give (CoNLL-2002's four)."""

    PER = "PER"
    LOC = "LOC"
    ORG = "ORG"
    MISC = "MISC"


class RankBy(StrEnum):
    stories = "stories"
    mentions = "mentions"


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
    """The full repository (writes too): loads the story index (datasketch, scipy), so ~1 s."""
    from services.store.db import make_engine
    from services.store.repository import Repository
    from shared.settings import DatabaseSettings

    return Repository(make_engine(DatabaseSettings().url()))


def _reads() -> Any:
    """The read queries alone, for the commands that only read: they start without the story index."""
    from services.store.db import make_engine
    from services.store.reads import Reads
    from shared.settings import DatabaseSettings

    reads = Reads()
    reads.engine = make_engine(DatabaseSettings().url())
    return reads


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
    from shared.config_check import EXIT_CONFIG
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
    except SchemaNotAtHead as exc:  # a database down or missing: one line from dropwire.cli.main
        typer.echo(f"dropwire store: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
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
    repo = _reads()
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
            "headline_version": a.headline_version,
            "story_id": a.story_id,
            "story_version": a.story_version,
        }
        typer.echo(json.dumps(record, ensure_ascii=False))


def entities(
    top: int = typer.Option(10, "--top", "-n", min=1, help="How many entities."),
    label: Annotated[Label | None, typer.Option("--label", help="Only entities of this label.")] = None,
    by: Annotated[
        RankBy,
        typer.Option(
            "--by", help="Rank by distinct stories (a brief on 13 pages counts once) or by mentions."
        ),
    ] = RankBy.stories,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List the entities in the most stories (or with the most mentions: --by mentions)."""
    repo = _reads()
    rows = repo.top_entities(top, label=label.value if label else None, by=by.value)
    repo.engine.dispose()
    if not as_json:
        from shared.terminal import Column, print_table

        print_table(
            [
                Column("stories", "right"),
                Column("mentions", "right"),
                Column("articles", "right"),
                Column("label"),
                Column("entity", flexible=True),
            ],
            ((e.stories, e.mentions, e.articles, e.label, e.name) for e in rows),
        )
        return
    for e in rows:
        typer.echo(
            json.dumps(
                {
                    "label": e.label,
                    "name": e.name,
                    "stories": e.stories,
                    "mentions": e.mentions,
                    "articles": e.articles,
                },
                ensure_ascii=False,
            )
        )


def _story_record(s: Any) -> dict[str, Any]:
    return {
        "story_id": s.id,
        "headline": s.headline,
        "place": s.place,
        "first_seen": s.first_seen.isoformat(),
        "last_seen": s.last_seen.isoformat(),
        "sightings": s.sightings,
        "versions": s.versions,
        "fullest_article_id": s.fullest_article_id,
        "newest_article_id": s.newest_article_id,
    }


@stories_app.callback()
def stories(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", help="Seen at or after: ISO date/time or a span (2h, 7d)."
    ),
    entity: str | None = typer.Option(None, "--entity", help="Canonical entity name, e.g. 'Philips'."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="Most stories to show."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List stories, newest first: first seen, place, sightings, versions, headline."""
    if ctx.invoked_subcommand is not None:
        return
    repo = _reads()
    rows = repo.stories_list(entity=entity, since=parse_since(since) if since else None, limit=limit)
    repo.engine.dispose()
    if not as_json:
        from shared.terminal import Column, print_table

        print_table(
            [
                Column("story", "right"),
                Column("first seen (UTC)"),
                Column("place"),
                Column("sightings", "right"),
                Column("versions", "right"),
                Column("headline", flexible=True),
            ],
            (
                (
                    s.id,
                    s.first_seen.strftime("%Y-%m-%d %H:%M"),
                    s.place or "-",
                    s.sightings,
                    s.versions,
                    s.headline or "-",
                )
                for s in rows
            ),
        )
        return
    for s in rows:
        typer.echo(json.dumps(_story_record(s), ensure_ascii=False))


@stories_app.command("show")
def stories_show(
    story_id: int = typer.Argument(..., help="The story's id (from `dropwire stories`)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """The articles of one story, in the order they were stored."""
    repo = _reads()
    rows = repo.story_articles(story_id)
    repo.engine.dispose()
    if not rows:
        typer.echo(f"no story {story_id}", err=True)
        raise typer.Exit(1)
    for a in rows:
        if as_json:
            record = {
                "article_id": a.id,
                "doc_id": a.sha256,
                "document": a.document_name,
                "seq": a.seq,
                "role": a.role,
                "headline": a.headline,
                "story_version": a.story_version,
                "body": a.body,
            }
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            typer.echo(
                f"v{a.story_version or '-'}  {a.role:5}  {a.document_name[:30]:30}  {a.headline or a.body[:60]}"
            )


@stories_app.command("rebuild")
def stories_rebuild(
    chunk: int = typer.Option(
        500, "--chunk", min=1, help="Articles per transaction (progress is kept per chunk)."
    ),
) -> None:
    """Assign a story to every stored article that has none (after upgrading an older database).

    Safe to repeat and to interrupt: assigned articles are never touched again, the next run goes on
    where the last one stopped. Progress goes to stderr."""
    _configure_logging()
    repo = _repository()

    def report(p: Any) -> None:
        typer.echo(f"{p.assigned}/{p.total} articles assigned, {p.new_stories} new stories", err=True)

    try:
        result = repo.rebuild_stories(chunk=chunk, progress=report)
        left = repo.unassigned_articles()  # > 0 only if articles without a story arrived meanwhile
    finally:
        repo.engine.dispose()
    typer.echo(json.dumps({"assigned": result.assigned, "new_stories": result.new_stories, "left": left}))


def register(app: typer.Typer) -> None:
    """Add this service's commands to ``app``."""
    app.command()(store)
    app.add_typer(db_app, name="db")
    app.command()(articles)
    app.command()(entities)
    app.add_typer(stories_app, name="stories")
