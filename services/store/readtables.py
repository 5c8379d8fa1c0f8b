"""The stored tables as the store's read half (``reads.Reads``) queries them: SQLAlchemy Core only.

Why not the models: ``services.store.models`` are ORM classes, and importing ``sqlalchemy.orm`` for
them cost ``dropwire status|articles|entities`` about a tenth of their start-up (BENCHMARKS.md, "Start
time of the read-only commands"), for queries that are Core anyway. These lightweight ``sa.table()``
constructs name only the columns the reads use, with the models' types (the ``DateTime`` type turns
SQLite's text back into datetimes); ``tests/unit/test_readtables.py`` holds them to the models.
"""

from __future__ import annotations

import sqlalchemy as sa

_Time = sa.DateTime(timezone=True)
# Keys are 64-bit on PostgreSQL: a 32-bit bind (a story id given on the command line) could overflow.
_Key = sa.BigInteger

documents = sa.table(
    "documents",
    sa.column("id", _Key),
    sa.column("sha256", sa.CHAR(64)),
    sa.column("name", sa.Text),
    sa.column("received_at", _Time),
    sa.column("stored_at", _Time),
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
    sa.column("place_raw", sa.Text),
    sa.column("place", sa.Text),
    sa.column("country", sa.CHAR(2)),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("agencies", sa.Text),
    sa.column("relative_time", sa.Text),
    sa.column("published_at", _Time),
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
)
failures = sa.table(
    "failures",
    sa.column("id", _Key),
    sa.column("sha256", sa.CHAR(64)),
    sa.column("claim", sa.Text),
    sa.column("name", sa.Text),
    sa.column("stage", sa.String(16)),
    sa.column("reason", sa.String(32)),
    sa.column("detail", sa.Text),
    sa.column("failed_at", _Time),
)
heartbeats = sa.table(
    "heartbeats",
    sa.column("stage", sa.String(16)),
    sa.column("sha256", sa.CHAR(64)),
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

#: Every read table, for the test that holds them to the models.
ALL = (documents, articles, entities, mentions, failures, heartbeats, stories)
