"""Fixtures for the real services every integration and end-to-end test talks to.

A fixture for a real service (Redis, PostgreSQL, the team folder) skips with a clear reason on a
machine without it, but FAILS under CI (``CI=true``): a green run must never hide a missing service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dropwire.stack import leased_redis_db

if TYPE_CHECKING:
    from services.store.repository import Repository

REPO_ROOT = Path(__file__).resolve().parents[1]
TEAM_FOLDER = REPO_ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

REDIS_HOST = os.environ.get("DROPWIRE_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("DROPWIRE_TEST_REDIS_PORT", "6379"))
PG_ADMIN_URL = os.environ.get(
    "DROPWIRE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, why: str) -> None:
    """Skip on a laptop, fail under CI: a missing service must never pass silently there."""
    message = f"{what} is not available: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def team_folder() -> Path:
    """The team folder ``../shared`` beside the checkout (seeds, data). Tests only, never run time."""
    if not (TEAM_FOLDER / "seeds").is_dir():
        unavailable("the team folder ../shared", f"{TEAM_FOLDER} has no seeds/")
    return TEAM_FOLDER


@pytest.fixture(scope="session")
def seeds_dir(team_folder: Path) -> Path:
    return team_folder / "seeds"


@pytest.fixture(scope="session")
def redis_server() -> str:
    """Base URL of the real Redis on localhost (no db number)."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT}", str(exc))
    finally:
        client.close()
    return f"redis://{REDIS_HOST}:{REDIS_PORT}"


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A Redis URL with a database number of this test's own, empty before and after (leased: several
    pytest processes may run at once)."""
    try:
        with leased_redis_db(redis_server) as url:
            yield url
    except TimeoutError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def pg_admin() -> str:
    """SQLAlchemy URL of the maintenance database of the real PostgreSQL on localhost."""
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        unavailable("PostgreSQL at 127.0.0.1:5432", str(exc.orig))
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    from dropwire.stack import fresh_postgres

    with fresh_postgres(pg_admin) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    return f"sqlite:///{tmp_path / 'dropwire.db'}"


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The database ``repo`` opens: SQLite; a module re-binds it to run the same cases elsewhere
    (``tests/integration/test_store_postgres.py``: PostgreSQL)."""
    return sqlite_url


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    """The store's ``Repository`` on a database of this test's own, migrated to head."""
    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository

    upgrade(db_url)
    engine = make_engine(db_url)
    yield Repository(engine)
    engine.dispose()
