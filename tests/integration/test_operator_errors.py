"""A database that is down, missing or unmigrated costs one line and a documented exit code.

``articles``, ``entities`` and ``db upgrade`` run as subprocesses against the real PostgreSQL on
localhost (a database that does not exist on it, a port nothing listens on).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from shared.config_check import EXIT_CONFIG, EXIT_UNREACHABLE
from tests.unit.test_config_check import run_cli

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", [["articles"], ["entities"], ["db", "upgrade"]])
def test_database_that_does_not_exist_is_one_line_and_exit_2(
    pg_admin: str, tmp_path: Path, command: list[str]
) -> None:
    """No such database is permanent: one line saying so and how to fix it, exit 2."""
    url = pg_admin.rsplit("/", 1)[0] + "/dropwire_no_such_db"
    result = run_cli(*command, tmp_path=tmp_path, DROPWIRE_DATABASE_URL=url.replace("+psycopg", ""))
    assert result.returncode == EXIT_CONFIG, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "does not exist" in lines[0] and "createdb" in lines[0]


@pytest.mark.parametrize("command", [["articles"], ["entities"], ["db", "upgrade"]])
def test_database_down_is_one_line_and_exit_3(tmp_path: Path, command: list[str]) -> None:
    """Nothing listening: transient, one line naming the cause and the fix, exit 3."""
    url = f"postgres://postgres@127.0.0.1:{_free_port()}/x"
    result = run_cli(*command, tmp_path=tmp_path, DROPWIRE_DATABASE_URL=url)
    assert result.returncode == EXIT_UNREACHABLE, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach" in lines[0] and "DROPWIRE_DATABASE_URL" in lines[0]


def test_unmigrated_database_says_run_db_upgrade(pg_url: str, tmp_path: Path) -> None:
    """A database without the tables: permanent, the fix is `dropwire db upgrade`."""
    result = run_cli("articles", tmp_path=tmp_path, DROPWIRE_DATABASE_URL=pg_url)
    assert result.returncode == EXIT_CONFIG, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "dropwire db upgrade" in line


def test_store_gives_up_at_once_on_a_missing_database(pg_admin: str, tmp_path: Path) -> None:
    """The store's start-up wait retries an unreachable server, not a database that does not exist."""
    url = pg_admin.rsplit("/", 1)[0] + "/dropwire_no_such_db"
    result = run_cli("store", "--wait", "60", tmp_path=tmp_path, DROPWIRE_DATABASE_URL=url)
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert "does not exist" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "command", [["ingest"], ["store"], ["enrich", "--concurrency", "1"]], ids=["ingest", "store", "enrich"]
)
def test_a_broker_refusing_the_password_is_one_line_and_exit_2(
    tmp_path: Path, sqlite_url: str, command: list[str]
) -> None:
    """A wrong Redis password is permanent: the service stops with one line naming the fix, instead of
    retrying for ever."""
    from services.store.db import upgrade
    from tests.redis_server import RedisServer

    upgrade(sqlite_url)
    (tmp_path / "spool").mkdir()
    (tmp_path / "redis").mkdir()
    broker = RedisServer(tmp_path / "redis", password="right-secret")
    broker.start()
    try:
        result = run_cli(
            *command,
            tmp_path=tmp_path,
            DROPWIRE_BROKER_URL=broker.url,
            DROPWIRE_BROKER_PASSWORD="wrong-secret",
            DROPWIRE_DATABASE_URL=sqlite_url,
            DROPWIRE_METRICS_PORT="0",
            DROPWIRE_LOG_LEVEL="ERROR",
            DROPWIRE_HEARTBEAT_SECONDS="0",
        )
    finally:
        broker.stop()
    assert result.returncode == EXIT_CONFIG, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"dropwire {command[0]}: broker:") and "DROPWIRE_BROKER_PASSWORD" in last
    assert "wrong-secret" not in result.stderr
