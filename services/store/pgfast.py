"""PostgreSQL's fast paths of the batch write: COPY for articles, mentions and story keys, entity keys as arrays.

The same rows as the portable statements in ``services.store.batch`` would write, on the batch's own
connection and transaction; SQLite takes the portable path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.store.models import ArticleRow

_PG_INSERT_ENTITIES = sa.text(
    "INSERT INTO entities (label, name) "
    "SELECT label, name FROM unnest(CAST(:labels AS text[]), CAST(:names AS text[])) AS k(label, name) "
    "ORDER BY label, name ON CONFLICT (label, name) DO NOTHING RETURNING id, label, name"
)
_PG_SELECT_ENTITIES = sa.text(
    "SELECT e.id, e.label, e.name FROM entities e "
    "JOIN unnest(CAST(:labels AS text[]), CAST(:names AS text[])) AS k(label, name) USING (label, name)"
)


def copy_articles(conn: Connection, values: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """PostgreSQL: take the ids from the table's sequence in one query, then COPY the rows with them
    (bodies make articles the heaviest rows; COPY moves them without per-row statement overhead)."""
    ids = (
        conn.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, :n)"),
            {"n": len(values)},
        )
        .scalars()
        .all()
    )
    columns = ("id", *(c.name for c in ArticleRow.__table__.columns if c.name != "id"))
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
    with raw.cursor() as cursor, cursor.copy(f"COPY articles ({', '.join(columns)}) FROM STDIN") as copy:
        for art_id, row in zip(ids, values, strict=True):
            row["id"] = art_id
            copy.write_row(tuple(row[c] for c in columns))
    return {(row["document_id"], row["seq"]): row["id"] for row in values}


def upsert_entities(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> tuple[dict[tuple[str, str], int], int]:
    """PostgreSQL: the keys travel as two arrays (two parameters, however many keys), inserted in
    sorted order; the look-up of those that existed is a second statement, so it also sees rows a
    concurrent batch committed while this insert waited on them."""
    arrays = {"labels": [k[0] for k in keys], "names": [k[1] for k in keys]}
    inserted = conn.execute(_PG_INSERT_ENTITIES, arrays).all()
    ids = {(label, name): ent_id for ent_id, label, name in inserted}
    if len(ids) < len(keys):
        missing = [k for k in keys if k not in ids]
        arrays = {"labels": [k[0] for k in missing], "names": [k[1] for k in missing]}
        ids.update(
            {(label, name): ent_id for ent_id, label, name in conn.execute(_PG_SELECT_ENTITIES, arrays)}
        )
    return ids, len(inserted)


def copy_mentions(conn: Connection, values: list[dict[str, Any]]) -> None:
    """PostgreSQL: mentions are the bulk of every batch and need no ids back, so they go in by COPY
    (several times faster than multi-row INSERTs), on the batch's own connection and transaction."""
    columns = ("article_id", "entity_id", "start_offset", "end_offset", "surface")
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
    with raw.cursor() as cursor, cursor.copy(f"COPY mentions ({', '.join(columns)}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(tuple(row[c] for c in columns))


def copy_keys(conn: Connection, values: list[dict[str, Any]]) -> int:
    """PostgreSQL: COPY the new keys into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING
    from it; how many went in. A batch has thousands of keys: per-row parameters cost more than the
    index itself (profiled)."""
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS story_keys_new"
            " (key bigint, story_id bigint, article_id bigint) ON COMMIT DELETE ROWS"
        )
        with cursor.copy("COPY story_keys_new (key, story_id, article_id) FROM STDIN") as copy:
            for row in values:
                copy.write_row((row["key"], row["story_id"], row["article_id"]))
        cursor.execute(
            "INSERT INTO story_keys (key, story_id, article_id)"
            " SELECT key, story_id, article_id FROM story_keys_new ON CONFLICT (key) DO NOTHING"
        )
        inserted = int(cursor.rowcount)
        cursor.execute("DELETE FROM story_keys_new")
    return inserted


def copy_journey(conn: Connection, values: list[dict[str, Any]]) -> None:
    """PostgreSQL: a batch's journey rows by COPY (one per document, no ids needed back)."""
    columns = ("sha256", "claim", "kind", "at", "steps")
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY journey_events ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(tuple(row[c] for c in columns))
