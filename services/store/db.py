"""Engines, migrations and the start-up wait: everything that touches a database URL.

* ``make_engine(url)``: SQLite gets WAL (readers never block the one writer), a busy timeout (a
  second writer waits instead of failing with "database is locked") and enforced foreign keys;
  PostgreSQL gets ``pool_pre_ping`` so a connection broken by a database restart is replaced
  instead of failing the next batch.
* Engines are never created at import time nor shared across ``fork``: each process builds its own
  after start-up (a forking caller must ``engine.dispose(close=False)`` in the child).
* ``upgrade(url)``: Alembic to head, programmatically, from the migrations shipped inside this
  package (works from an installed wheel). On PostgreSQL an advisory lock serialises workers that
  migrate at the same time.
* ``wait_for_database(url, timeout)``: the explicit start-up step that waits for the server.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from shared.logging import get_logger
from shared.search_text import register_sqlite_functions
from shared.settings import mask_url

log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# A writer waits this long for SQLite's lock before "database is locked": longer than any batch.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connect attempts give up after this long, so a down server is reported instead of hanging a batch.
PG_CONNECT_TIMEOUT_SECONDS = 5
# A few connections per process: one per consumer thread plus the CLI's queries.
PG_POOL_SIZE = 5
# Start-up: wait this long for the database to come up before giving up (containers start unordered).
DEFAULT_WAIT_SECONDS = 60.0
# Arbitrary constant key of the advisory lock that serialises concurrent ``upgrade`` calls.
MIGRATION_LOCK_KEY = 0x64726F70  # "drop"


def is_sqlite(url: str | sa.URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` with the pragmas or pool settings its backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=PG_POOL_SIZE,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    cursor.close()
    register_sqlite_functions(dbapi_connection)  # the search triggers of migration 0004 call it


def wait_for_database(url: str, timeout: float = DEFAULT_WAIT_SECONDS) -> None:
    """Block until ``SELECT 1`` succeeds on ``url`` (the shared retry policy, ``shared.retry``).

    A server that is down is waited for with capped backoff, reported every half minute, and given up
    with ``DependencyUnavailable`` after ``timeout``; a database that does not exist or refuses the
    credentials raises ``DependencyFailed`` at once (waiting would not help).
    """
    from shared.retry import retry

    engine = make_engine(url)

    def ping() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        retry(
            ping,
            what=f"database {mask_url(url)}",
            retry_on=(sa.exc.OperationalError, sa.exc.InterfaceError),
            deadline_seconds=timeout,
            say=lambda event, fields: log.warning(event, **fields),
        )
    finally:
        engine.dispose()


def alembic_config(url: str) -> Any:
    """The Alembic configuration for ``url``, pointing at the migrations inside this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "sqlalchemy.url", make_url(url).render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (idempotent: at head it does nothing)."""
    from alembic import command

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin: noise
    # Migrating: say which revisions run ("Running upgrade 0003 -> 0004"), quiet again afterwards.
    migration_log = logging.getLogger("alembic.runtime.migration")
    migration_log.setLevel(max(logging.INFO, logging.getLogger().level))
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
            try:
                config = alembic_config(url)
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                conn.commit()
            finally:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                    conn.commit()
    finally:
        engine.dispose()
        migration_log.setLevel(logging.NOTSET)
    log.info("db.upgraded", revision=revision)


def current_revision(url: str) -> str | None:
    """The Alembic revision the database at ``url`` is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision among the migrations shipped with this code."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    return head
