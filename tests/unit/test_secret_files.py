"""Secrets from ``*_FILE`` settings reach the URLs the services connect with, for broker and database."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from shared.settings import BrokerSettings, DatabaseSettings, masked

pytestmark = pytest.mark.unit

# Characters a URL must percent-encode: the password must still arrive intact.
AWKWARD = "p@ss:w/rd%#?"


def test_broker_password_file_reaches_a_redis_url_without_user_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DROPWIRE_BROKER_PASSWORD_FILE on a URL with no user name (the usual Redis form) gives redis-py
    exactly that password; `masked` shows neither it nor the file's text."""
    secret = tmp_path / "broker"
    secret.write_text(AWKWARD + "\n")
    monkeypatch.setenv("DROPWIRE_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("DROPWIRE_BROKER_PASSWORD_FILE", str(secret))
    settings = BrokerSettings()
    client = redis.Redis.from_url(settings.url())
    assert client.connection_pool.connection_kwargs["password"] == AWKWARD
    assert client.connection_pool.connection_kwargs["host"] == "redis"
    assert AWKWARD not in str(masked(settings))


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://app@db:5432/dropwire", "postgresql+psycopg://db/dropwire"]
)
def test_database_password_file_reaches_the_url_with_or_without_user_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """DROPWIRE_DATABASE_PASSWORD_FILE is merged into the database URL, user name kept, password intact."""
    secret = tmp_path / "database"
    secret.write_text(AWKWARD + "\n")
    monkeypatch.setenv("DROPWIRE_DATABASE_URL", url)
    monkeypatch.setenv("DROPWIRE_DATABASE_PASSWORD_FILE", str(secret))
    parsed = make_url(DatabaseSettings().url())
    assert parsed.password == AWKWARD
    assert (parsed.username or None, parsed.host, parsed.database) == (
        make_url(url).username,
        "db",
        "dropwire",
    )
    assert AWKWARD not in str(masked(DatabaseSettings()))


def test_a_variable_set_directly_wins_over_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DROPWIRE_BROKER_PASSWORD itself takes precedence over DROPWIRE_BROKER_PASSWORD_FILE."""
    secret = tmp_path / "broker"
    secret.write_text("from-file")
    monkeypatch.setenv("DROPWIRE_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("DROPWIRE_BROKER_PASSWORD", "direct")
    monkeypatch.setenv("DROPWIRE_BROKER_PASSWORD_FILE", str(secret))
    assert (
        redis.Redis.from_url(BrokerSettings().url()).connection_pool.connection_kwargs["password"] == "direct"
    )
