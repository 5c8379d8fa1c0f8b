"""Full-text search of articles in Dutch: a GIN index on PostgreSQL, an FTS5 table on SQLite.

PostgreSQL: ``articles.search_vector``, a stored generated ``tsvector`` column of headline (weight A),
preamble (weight B) and body in the ``dutch`` configuration, and a GIN index on it. The server computes
it on every write (and for the rows already there when the column is added); ranking reads it instead of
parsing every matching body again (an expression index alone made a common word's search take seconds
at 100,000 articles). The store's models do not name the column: it is the read side's.

SQLite: ``articles_search``, an FTS5 table whose rowid is the article's id and whose columns hold the
Snowball Dutch stems of headline and preamble + body (``shared.search_text.stems``). Triggers on
``articles`` keep it current in the writer's own transaction; they call ``dropwire_stems``, which every
writing connection registers (``services.store.db.make_engine``).

Both back-fill the articles already stored.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from shared.search_text import register_sqlite_functions

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PG_INDEX = "ix_articles_search"
PG_COLUMN = "search_vector"
PG_DOCUMENT = (
    "setweight(to_tsvector('dutch'::regconfig, coalesce(headline, '')), 'A')"
    " || setweight(to_tsvector('dutch'::regconfig, coalesce(preamble, '')), 'B')"
    " || to_tsvector('dutch'::regconfig, body)"
)
SQLITE_ROW = (
    "dropwire_stems({row}.headline), "
    "dropwire_stems(coalesce({row}.preamble, '') || ' ' || {row}.body)"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE articles ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED")
        op.execute(f"CREATE INDEX {PG_INDEX} ON articles USING gin ({PG_COLUMN})")
        return
    driver = bind.connection.driver_connection
    assert driver is not None  # a live connection: Alembic runs the migration on it
    register_sqlite_functions(driver)
    op.execute("CREATE VIRTUAL TABLE articles_search USING fts5(headline, body)")
    op.execute(
        "INSERT INTO articles_search (rowid, headline, body) "
        f"SELECT id, {SQLITE_ROW.format(row='articles')} FROM articles"
    )
    op.execute(
        "CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN "
        "INSERT INTO articles_search (rowid, headline, body) "
        f"VALUES (new.id, {SQLITE_ROW.format(row='new')}); END"
    )
    op.execute(
        "CREATE TRIGGER articles_search_delete AFTER DELETE ON articles BEGIN "
        "DELETE FROM articles_search WHERE rowid = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER articles_search_update AFTER UPDATE OF headline, preamble, body ON articles BEGIN "
        "DELETE FROM articles_search WHERE rowid = old.id; "
        "INSERT INTO articles_search (rowid, headline, body) "
        f"VALUES (new.id, {SQLITE_ROW.format(row='new')}); END"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        op.execute(f"ALTER TABLE articles DROP COLUMN IF EXISTS {PG_COLUMN}")
        return
    for trigger in ("articles_search_insert", "articles_search_delete", "articles_search_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS articles_search")
