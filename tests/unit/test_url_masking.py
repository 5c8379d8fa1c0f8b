"""No secret in a URL is ever printed: user-info passwords (even with an unencoded ``@``), passwords
and tokens in the query string, in `dropwire config`, `dropwire status` and the store's log line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dropwire.cli import app
from shared.settings import mask_url

pytestmark = [pytest.mark.unit]

SECRET = "hunter2secret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://dw:hunter2secret@db:5432/dw", "postgresql+psycopg://dw:***@db:5432/dw"),
        ("postgresql://dw:hun@ter2secret@db/dw", "postgresql://dw:***@db/dw"),
        ("redis://:hunter2secret@redis:6379/0", "redis://:***@redis:6379/0"),
        (
            "postgresql://db/dw?user=dw&password=hunter2secret&sslmode=require",
            "postgresql://db/dw?user=dw&password=***&sslmode=require",
        ),
        ("redis://redis:6379/0?auth_token=hunter2secret#frag", "redis://redis:6379/0?auth_token=***#frag"),
        ("postgresql://dw:pa?ss/hunter2secret@db/dw", "postgresql://dw:***@db/dw"),
        ("sqlite:///var/dropwire.db", "sqlite:///var/dropwire.db"),
        ("postgresql://dw@db/dw", "postgresql://dw@db/dw"),
    ],
)
def test_every_secret_in_a_url_is_masked_and_the_rest_kept(url: str, shown: str) -> None:
    """Passwords in the user-info and secret-looking query values become ***; host, user and the
    other parameters stay readable."""
    assert mask_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://dw@127.0.0.1:1/dw?password=hunter2secret",
        "postgresql://dw:hun@ter2secret@127.0.0.1:1/dw",
    ],
)
def test_config_and_status_never_print_a_password(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """`dropwire config` and `dropwire status` (with the database unreachable) show the URL masked."""
    monkeypatch.setenv("DROPWIRE_DATABASE_URL", url)
    monkeypatch.setenv("DROPWIRE_BROKER_URL", "redis://:hunter2secret@127.0.0.1:1/0?password=hunter2secret")
    monkeypatch.setenv("DROPWIRE_SPOOL_DIR", str(tmp_path))
    config = CliRunner().invoke(app, ["config"])
    assert config.exit_code == 0 and SECRET not in config.output
    assert "***" in json.loads(config.output)["database"]["database_url"]
    status = CliRunner().invoke(app, ["status", "--json"])
    assert SECRET not in status.output
