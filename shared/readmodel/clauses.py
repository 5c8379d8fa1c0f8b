"""Query pieces both read layers build from: the console's ``ReadModel`` and the CLI's reads
(``services.store.reads``). Core only, and no pydantic: the CLI's read-only commands import this and
must start light (``tests/unit/test_cli_start_imports.py``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.readmodel.schema import articles, documents, entities, failures, mentions

#: The tables ``counts_query`` counts, in the order of the ``Counts`` records' fields.
COUNTED = (documents, articles, entities, mentions, failures)


def counts_query() -> sa.Select[Any]:
    """One row: the number of rows in each of ``COUNTED``."""
    return sa.select(*(sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in COUNTED))


def failures_query(limit: int) -> sa.Select[Any]:
    """The latest ``limit`` failures, newest first (ties: the later recorded)."""
    return sa.select(*failures.c).order_by(failures.c.failed_at.desc(), failures.c.id.desc()).limit(limit)


def published_or_received() -> sa.ColumnElement[Any]:
    """An article's time: its publication time, or its document's receipt when the page gave none
    (needs ``documents`` joined)."""
    return sa.func.coalesce(articles.c.published_at, documents.c.received_at)


def with_document(query: sa.Select[Any]) -> sa.Select[Any]:
    """``query`` over ``articles`` joined with each article's document, adding its ``sha256`` and its
    name as ``document_name``."""
    return query.add_columns(documents.c.sha256, documents.c.name.label("document_name")).join(
        documents, documents.c.id == articles.c.document_id
    )


def at_place(place: str) -> sa.ColumnElement[bool]:
    """The article's dateline place is ``place``, canonical or as written, in any case."""
    wanted = place.lower()
    return sa.or_(sa.func.lower(articles.c.place) == wanted, sa.func.lower(articles.c.place_raw) == wanted)


def mentions_entity(name: str) -> sa.Exists:
    """The article (``articles``, correlated) mentions an entity of canonical name ``name``, any case."""
    return (
        sa.exists()
        .where(mentions.c.article_id == articles.c.id)
        .where(mentions.c.entity_id == entities.c.id)
        .where(sa.func.lower(entities.c.name) == name.lower())
    )
