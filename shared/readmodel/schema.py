"""The stored tables as the read side sees them, and an engine to read them with.

SQLAlchemy Core ``table()`` constructs naming only the columns the read model reads, so a column the
store adds later (a story id, parse warnings) does not disturb it. Times come back as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

# A console connection waits this long for a busy SQLite writer before failing the request.
SQLITE_BUSY_SECONDS = 5
PG_CONNECT_TIMEOUT_SECONDS = 5

_UtcDateTime = sa.DateTime(timezone=True)
# Keys are 64-bit on PostgreSQL: a 32-bit bind would overflow on an id past 2**31 (the API takes any).
_Key = sa.BigInteger

documents = sa.table(
    "documents",
    sa.column("id", _Key),
    sa.column("sha256", sa.String),
    sa.column("name", sa.String),
    sa.column("size", sa.Integer),
    sa.column("encoding", sa.String),
    sa.column("section", sa.String),
    sa.column("article_count", sa.Integer),
    sa.column("received_at", _UtcDateTime),
    sa.column("stored_at", _UtcDateTime),
    sa.column("parser_version", sa.String),
    sa.column("model_version", sa.String),
)
articles = sa.table(
    "articles",
    sa.column("id", _Key),
    sa.column("document_id", _Key),
    sa.column("seq", sa.Integer),
    sa.column("role", sa.String),
    sa.column("section", sa.String),
    sa.column("headline", sa.String),
    sa.column("preamble", sa.String),
    sa.column("place_raw", sa.String),
    sa.column("place", sa.String),
    sa.column("country", sa.String),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("agencies", sa.String),
    sa.column("relative_time", sa.String),
    sa.column("published_at", _UtcDateTime),
    sa.column("subheads", sa.String),
    sa.column("body", sa.String),
)
entities = sa.table("entities", sa.column("id", _Key), sa.column("label"), sa.column("name"))
mentions = sa.table(
    "mentions",
    sa.column("id", _Key),
    sa.column("article_id", _Key),
    sa.column("entity_id", _Key),
    sa.column("start_offset", sa.Integer),
    sa.column("end_offset", sa.Integer),
    sa.column("surface", sa.String),
)
failures = sa.table(
    "failures",
    sa.column("id", _Key),
    sa.column("claim", sa.String),
    sa.column("name", sa.String),
    sa.column("stage", sa.String),
    sa.column("reason", sa.String),
    sa.column("detail", sa.String),
    sa.column("failed_at", _UtcDateTime),
)
heartbeats = sa.table("heartbeats", sa.column("stage"), sa.column("seen_at", _UtcDateTime))
articles_search = sa.table("articles_search", sa.column("rowid", _Key))


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
