"""The stored tables as every reader sees them, and an engine to read them with.

One set of SQLAlchemy Core ``table()`` constructs for both read layers: the console's ``ReadModel``
and the CLI's reads (``services.store.reads``: ``dropwire status|articles|entities|stories|failed``).
Core, not the store's ORM models, because importing ``sqlalchemy.orm`` cost the read-only commands
about a tenth of their start-up (BENCHMARKS.md, "Start time of the read-only commands"), and because
``shared`` must not import ``services``. Each table names only the columns some reader reads, with
the models' types (``DateTime`` turns SQLite's text back into datetimes);
``tests/unit/test_readmodel_schema.py`` holds them to the models. Times come back as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

# A console connection waits this long for a busy SQLite writer before failing the request.
SQLITE_BUSY_SECONDS = 5
PG_CONNECT_TIMEOUT_SECONDS = 5

_Time = sa.DateTime(timezone=True)
# Keys are 64-bit on PostgreSQL: a 32-bit bind would overflow on an id past 2**31 (the API and the
# command line take any).
_Key = sa.BigInteger
_Sha = sa.CHAR(64)
_Stage = sa.String(16)

documents = sa.table(
    "documents",
    sa.column("id", _Key),
    sa.column("sha256", _Sha),
    sa.column("name", sa.Text),
    sa.column("size", sa.Integer),
    sa.column("encoding", sa.String(32)),
    sa.column("section", sa.Text),
    sa.column("article_count", sa.Integer),
    sa.column("received_at", _Time),
    sa.column("stored_at", _Time),
    sa.column("parser_version", sa.String(64)),
    sa.column("model_version", sa.String(128)),
    sa.column("parse_warnings", sa.Text),
)
articles = sa.table(
    "articles",
    sa.column("id", _Key),
    sa.column("document_id", _Key),
    sa.column("seq", sa.Integer),
    sa.column("role", sa.String(8)),
    sa.column("section", sa.Text),
    sa.column("headline", sa.Text),
    sa.column("preamble", sa.Text),
    sa.column("place_raw", sa.Text),
    sa.column("place", sa.Text),
    sa.column("country", sa.CHAR(2)),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("agencies", sa.Text),
    sa.column("relative_time", sa.Text),
    sa.column("published_at", _Time),
    sa.column("subheads", sa.Text),
    sa.column("body", sa.Text),
    sa.column("headline_version", sa.Integer),
    sa.column("story_id", _Key),
    sa.column("story_version", sa.Integer),
)
entities = sa.table(
    "entities", sa.column("id", _Key), sa.column("label", sa.String(8)), sa.column("name", sa.Text)
)
mentions = sa.table(
    "mentions",
    sa.column("id", _Key),
    sa.column("article_id", _Key),
    sa.column("entity_id", _Key),
    sa.column("start_offset", sa.Integer),
    sa.column("end_offset", sa.Integer),
    sa.column("surface", sa.Text),
)
failures = sa.table(
    "failures",
    sa.column("id", _Key),
    sa.column("sha256", _Sha),
    sa.column("claim", sa.Text),
    sa.column("name", sa.Text),
    sa.column("stage", _Stage),
    sa.column("reason", sa.String(32)),
    sa.column("detail", sa.Text),
    sa.column("failed_at", _Time),
)
heartbeats = sa.table(
    "heartbeats",
    sa.column("stage", _Stage),
    sa.column("sha256", _Sha),
    sa.column("seen_at", _Time),
    sa.column("mtime", _Time),
)
stories = sa.table(
    "stories",
    sa.column("id", _Key),
    sa.column("headline", sa.Text),
    sa.column("place", sa.Text),
    sa.column("first_seen", _Time),
    sa.column("last_seen", _Time),
    sa.column("sightings", sa.Integer),
    sa.column("versions", sa.Integer),
    sa.column("fullest_article_id", _Key),
    sa.column("newest_article_id", _Key),
    sa.column("merged_into", _Key),
)
# The SQLite search index (migration 0004): an FTS5 table, not a model, so not in MODEL_TABLES.
articles_search = sa.table("articles_search", sa.column("rowid", _Key))

#: Every table that mirrors a store model, for the test that holds them to the models.
MODEL_TABLES = (documents, articles, entities, mentions, failures, heartbeats, stories)


def open_engine(url: str) -> Engine:
    """An engine for reading ``url`` (PostgreSQL through psycopg 3; SQLite waiting for a busy writer)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(
        parsed, pool_pre_ping=True, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}
    )


def aware(value: datetime | None) -> datetime | None:
    """A time read back from either backend as aware UTC (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
