"""Alembic migrations on the real PostgreSQL and on SQLite: they build the schema the models describe,
repeat harmlessly, run concurrently, go down and up again, and work through ``dropwire db upgrade``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from services.store.db import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from services.store.models import Base

pytestmark = pytest.mark.integration

TABLES = {
    "documents",
    "articles",
    "entities",
    "mentions",
    "failures",
    "heartbeats",
    "stories",
    "story_keys",
    "journey_events",
    "alembic_version",
}
# Migration 0004's search index has no model: the generated column and its GIN index on PostgreSQL,
# FTS5 and its shadow tables on SQLite.
SEARCH_INDEX = "ix_articles_search"
SEARCH_COLUMN = "search_vector"
SQLITE_SEARCH_TABLES = {
    f"articles_search{part}" for part in ("", "_data", "_idx", "_content", "_docsize", "_config")
}


def not_search(name: str | None, type_: str, parent_names: object) -> bool:
    return name not in (SEARCH_INDEX, SEARCH_COLUMN) and name not in SQLITE_SEARCH_TABLES


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url"))


def schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": not_search})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - SQLITE_SEARCH_TABLES
    finally:
        engine.dispose()


def test_upgrade_builds_exactly_the_models_schema(db_url: str) -> None:
    """After `upgrade` the database is at head and autogenerate finds nothing between it and the models."""
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == head_revision() is not None
    assert tables(db_url) == TABLES
    assert schema_diff(db_url) == []


def test_upgrade_is_idempotent(db_url: str) -> None:
    """A second upgrade at head changes nothing and keeps the rows."""
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO entities (label, name) VALUES ('PER', 'Mark Rutte')"))
    upgrade(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM entities")).scalar_one() == 1
    engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    """Every revision downgrades cleanly to an empty database and upgrades again."""
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        config = alembic_config(db_url)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        conn.commit()
    engine.dispose()
    assert tables(db_url) == {"alembic_version"}
    upgrade(db_url)
    assert schema_diff(db_url) == []


def test_concurrent_upgrades_on_postgres_both_succeed(pg_url: str) -> None:
    """Two workers started with --migrate at once: the advisory lock serialises them, neither fails."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(pg_url)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert current_revision(pg_url) == head_revision()


def test_db_upgrade_command(db_url: str, tmp_path: Path) -> None:
    """`dropwire db upgrade` migrates the database named by DROPWIRE_DATABASE_URL and says where it is."""
    env = {**os.environ, "DROPWIRE_DATABASE_URL": db_url, "DROPWIRE_LOG_FORMAT": "json"}
    dropwire = Path(sys.executable).with_name("dropwire")
    result = subprocess.run(
        [str(dropwire), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database at revision {head_revision()}"
    assert schema_diff(db_url) == []


def test_migrations_ship_inside_the_package() -> None:
    """The migration scripts live inside the installed package (found without the source checkout)."""
    import services.store

    package = Path(services.store.__file__).resolve().parent
    assert package / "migrations" == MIGRATIONS_DIR
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py")) == [
        "0001_initial_schema.py",
        "0002_parse_warnings.py",
        "0003_stories.py",
        "0004_search.py",
        "0005_journey.py",
        "0006_story_keys_lean.py",
    ]
