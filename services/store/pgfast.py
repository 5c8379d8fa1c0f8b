"""PostgreSQL's fast paths of the batch write: COPY for articles, mentions and story keys; entity keys
and story figures as arrays.

The same rows as the portable statements in ``services.store.batch`` would write, on the batch's own
connection and transaction; SQLite takes the portable path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from psycopg.errors import UniqueViolation
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


# The story index's primary key: the constraint a key already indexed violates.
KEYS_PRIMARY_KEY = "pk_story_keys"
# The batch's story figures, new stories and stored ones alike, in one statement: a new story's row goes
# in complete (its id from ``story_ids``), a stored story's figures grow by what joined it (relative,
# the same update as ``services.store.storydb``'s portable statement). ``versions`` starts at the
# highest version seen, like ``newest_version``.
_PG_UPSERT_STORIES = sa.text(
    "INSERT INTO stories AS s (id, sightings, first_seen, last_seen, fullest_article_id, fullest_chars,"
    " newest_article_id, newest_version, versions, headline, place) "
    "SELECT story, n, first, last, fullest, chars, newest, version, version, hl, pl "
    "FROM unnest(CAST(:story AS bigint[]), CAST(:n AS int[]), CAST(:first AS timestamptz[]),"
    " CAST(:last AS timestamptz[]), CAST(:fullest AS bigint[]), CAST(:chars AS int[]),"
    " CAST(:newest AS bigint[]), CAST(:version AS int[]), CAST(:hl AS text[]), CAST(:pl AS text[]))"
    " AS t(story, n, first, last, fullest, chars, newest, version, hl, pl) "
    "ON CONFLICT (id) DO UPDATE SET sightings = s.sightings + excluded.sightings,"
    " first_seen = LEAST(s.first_seen, excluded.first_seen),"
    " last_seen = GREATEST(s.last_seen, excluded.last_seen),"
    " fullest_article_id = CASE WHEN excluded.fullest_chars > s.fullest_chars"
    " THEN excluded.fullest_article_id ELSE s.fullest_article_id END,"
    " fullest_chars = GREATEST(s.fullest_chars, excluded.fullest_chars),"
    " newest_article_id = CASE WHEN excluded.newest_version >= s.newest_version"
    " THEN excluded.newest_article_id ELSE s.newest_article_id END,"
    " newest_version = GREATEST(s.newest_version, excluded.newest_version),"
    " versions = GREATEST(s.versions, excluded.versions),"
    " headline = COALESCE(s.headline, excluded.headline), place = COALESCE(s.place, excluded.place)"
)


def copy_keys(conn: Connection, rows: Sequence[tuple[int, int, int]]) -> bool:
    """PostgreSQL: the new story keys ``(key, story_id, article_id)`` by COPY, on the batch's own
    transaction; False when one of them was already in the index (the transaction is then aborted:
    the caller rolls the batch back and runs it again).

    Keys are written under the story lock after a look-up that found none of them, so a key already
    there means a writer outside the lock: the primary key still refuses it. COPY has no ON CONFLICT,
    but it costs about half of ``INSERT ... SELECT unnest(...) ON CONFLICT DO NOTHING`` per key
    (4,000 keys: 24 against 45 ms, measured), and keys are most of what a new story writes."""
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY story_keys (key, story_id, article_id) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    except UniqueViolation as exc:
        if exc.diag.constraint_name != KEYS_PRIMARY_KEY:
            raise
        return False
    return True


_FIGURES = ("story", "n", "first", "last", "fullest", "chars", "newest", "version", "hl", "pl")
_INTEGERS = {"story", "n", "fullest", "chars", "newest", "version"}
_TIMES = {"first", "last"}


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers, to send as text and CAST: psycopg dumps a list of ints
    element by element, which cost more than the statement it fed (profiled)."""
    return "{" + ",".join(map(str, values)) + "}"


def _quoted(value: str | None) -> str:
    if value is None:
        return "NULL"
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def text_array(values: Iterable[str | None]) -> str:
    """A PostgreSQL array literal of texts (NULL for None), to send as text and CAST, for the same
    reason as ``int_array``: every element double-quoted, backslashes and quotes escaped."""
    return "{" + ",".join(map(_quoted, values)) + "}"


def _figure_arrays(figures: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for c in _FIGURES:
        if c in _INTEGERS:
            out[c] = int_array(r[c] for r in figures)
        elif c in _TIMES:  # aware datetimes, ISO 8601 with their offset
            out[c] = text_array(r[c].isoformat() for r in figures)
        else:
            out[c] = text_array(r[c] for r in figures)
    return out


def select_by_ids(conn: Connection, query: str, values: Iterable[int]) -> list[tuple[Any, ...]]:
    """PostgreSQL: ``query`` with its one parameter (``%s``) the integer array ``values`` as text, on
    the batch's own transaction; the rows as the driver's tuples."""
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cursor:
        cursor.execute(query, (int_array(values),))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def story_ids(conn: Connection, count: int) -> list[int]:
    """PostgreSQL: ``count`` new story ids from the table's sequence, in one query."""
    query = sa.text("SELECT nextval(pg_get_serial_sequence('stories', 'id')) FROM generate_series(1, :n)")
    return list(conn.execute(query, {"n": count}).scalars())


def upsert_stories(conn: Connection, figures: list[dict[str, Any]]) -> None:
    """PostgreSQL: the figures of every story a batch touched, one row per story, sorted by id, in one
    statement from array literals: the new stories (ids from ``story_ids``) inserted complete, the
    stored ones updated (one statement instead of an insert and an update; the arrays as text, since
    psycopg's dump of lists of texts and times cost more than the statement, profiled)."""
    if figures:
        conn.execute(_PG_UPSERT_STORIES, _figure_arrays(figures))


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
