"""The read side of the store's database: typed queries for the console, its JSON API and the CLI.

SQLAlchemy Core against the stored tables (``documents``, ``articles``, ``entities``, ``mentions``,
``failures``, ``heartbeats``, ``stories``), naming only the columns it reads, so a column the store adds later does
not disturb it. It never writes. It lives in ``shared`` because services never import each other: the
store owns the schema (its models and Alembic migrations), this module only reads it.

Times come back as aware UTC datetimes on both backends (SQLite hands back naive UTC).

Search (``search``) uses migration 0004: on PostgreSQL the generated column ``articles.search_vector``
(``to_tsvector('dutch', …)`` of headline, preamble and body) and its GIN index; on SQLite the FTS5
table ``articles_search`` of Snowball Dutch stems (``shared.search_text``).

The package's names load on first use (PEP 562): the CLI's read-only commands import
``shared.readmodel.schema`` and ``shared.readmodel.clauses`` only, and must not pay for the console's
pydantic records and the search module on start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.readmodel.queries import DEFAULT_LIMIT, MAX_LIMIT, ReadModel
    from shared.readmodel.records import (
        ArticleRecord,
        Counts,
        DocumentDetail,
        DocumentSummary,
        EntityArticle,
        EntityCount,
        EntityDetail,
        FailureRecord,
        Filters,
        HeartbeatAge,
        MentionRecord,
        RatePoint,
        SearchHit,
    )
    from shared.readmodel.schema import open_engine

# Where each exported name lives.
_HOME = {
    "DEFAULT_LIMIT": "queries",
    "MAX_LIMIT": "queries",
    "ReadModel": "queries",
    "open_engine": "schema",
}


def __getattr__(name: str) -> Any:
    """Load ``name`` from its module on first use (records unless ``_HOME`` says otherwise)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME.get(name, 'records')}"), name)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ArticleRecord",
    "Counts",
    "DocumentDetail",
    "DocumentSummary",
    "EntityArticle",
    "EntityCount",
    "EntityDetail",
    "FailureRecord",
    "Filters",
    "HeartbeatAge",
    "MentionRecord",
    "RatePoint",
    "ReadModel",
    "SearchHit",
    "open_engine",
]
