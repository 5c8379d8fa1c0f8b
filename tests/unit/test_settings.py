"""Settings: DROPWIRE_* variables, secrets from *_FILE, and masking for `dropwire config`."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import BrokerSettings, DatabaseSettings, masked

pytestmark = pytest.mark.unit


def test_password_file_is_merged_into_the_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("DROPWIRE_DATABASE_URL", "postgresql+psycopg://app@db:5432/dropwire")
    monkeypatch.setenv("DROPWIRE_DATABASE_PASSWORD_FILE", str(secret))
    settings = DatabaseSettings()
    assert settings.url() == "postgresql+psycopg://app:s3cret@db:5432/dropwire"


def test_masked_hides_passwords_in_urls_and_secret_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPWIRE_BROKER_URL", "redis://:hunter2@redis:6379/0")
    monkeypatch.setenv("DROPWIRE_BROKER_PASSWORD", "hunter3")
    shown = masked(BrokerSettings())
    assert "hunter2" not in str(shown) and "hunter3" not in str(shown)
