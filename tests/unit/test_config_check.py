"""Setup mistakes end in one line per problem naming the variable and what it accepts (exit 2).

The CLI runs as a subprocess, as an operator would start it, with a clean ``DROPWIRE_*`` environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config_check import EXIT_CONFIG
from shared.settings import DatabaseSettings, with_installed_driver

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_")}
    clean |= {
        "PYTHONPATH": str(ROOT),
        "DROPWIRE_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite",
        "DROPWIRE_SPOOL_DIR": str(tmp_path / "spool"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "from dropwire.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )


def test_each_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    """Three mistakes at once give three lines, each naming its variable; nothing else is printed."""
    result = run_cli(
        "articles",
        tmp_path=tmp_path,
        DROPWIRE_BATCH_SIZE="abc",
        DROPWIRE_LOG_LEVEL="verbose",
        DROPWIRE_NER_MODEL=str(tmp_path / "no-such-model"),
    )
    assert result.returncode == EXIT_CONFIG
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert "DROPWIRE_BATCH_SIZE='abc'" in lines[0] and "integer" in lines[0]
    assert "DROPWIRE_LOG_LEVEL='verbose'" in lines[1] and "DEBUG" in lines[1]
    assert "DROPWIRE_NER_MODEL=" in lines[2] and "unset it" in lines[2]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["config"], ["status"], ["entities"], ["db", "upgrade"]])
def test_every_command_checks_settings_before_it_runs(tmp_path: Path, command: list[str]) -> None:
    """`dropwire config` no longer passes a log level the services would crash on."""
    result = run_cli(*command, tmp_path=tmp_path, DROPWIRE_LOG_LEVEL="verbose")
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip().splitlines() == [
        "dropwire: DROPWIRE_LOG_LEVEL='verbose': use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    ]


def test_a_driver_that_is_not_installed_is_refused_with_the_fix(tmp_path: Path) -> None:
    """``postgresql+psycopg2://`` (psycopg 3 is what is installed) is one line saying what to write."""
    result = run_cli(
        "articles", tmp_path=tmp_path, DROPWIRE_DATABASE_URL="postgresql+psycopg2://u@localhost/db"
    )
    assert result.returncode == EXIT_CONFIG
    (line,) = result.stderr.strip().splitlines()
    assert "DROPWIRE_DATABASE_URL" in line and "postgresql://" in line


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    """A ``*_FILE`` pointing nowhere names the variable instead of a FileNotFoundError traceback."""
    missing = tmp_path / "pw"
    result = run_cli("config", tmp_path=tmp_path, DROPWIRE_DATABASE_PASSWORD_FILE=str(missing))
    assert result.returncode == EXIT_CONFIG
    (line,) = result.stderr.strip().splitlines()
    assert "DROPWIRE_DATABASE_PASSWORD_FILE" in line and "cannot read" in line


def test_metrics_port_in_use_is_one_line(tmp_path: Path) -> None:
    """A metrics port held by another process: exit 2, the variable to change, no traceback."""
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = run_cli(
            "store",
            "--migrate",
            tmp_path=tmp_path,
            DROPWIRE_METRICS_PORT=str(port),
            DROPWIRE_LOG_LEVEL="ERROR",
        )
    assert result.returncode == EXIT_CONFIG, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DROPWIRE_METRICS_PORT" in lines[0], result.stderr


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "POSTGRES"])
def test_usual_postgres_spellings_name_the_installed_driver(scheme: str) -> None:
    """The URL forms people copy from elsewhere work: the installed driver (psycopg 3) is filled in."""
    url = f"{scheme}://u:p@db:5432/dropwire"
    assert with_installed_driver(url) == "postgresql+psycopg://u:p@db:5432/dropwire"
    assert DatabaseSettings(database_url=url).url().startswith("postgresql+psycopg://")


def test_other_urls_are_left_alone() -> None:
    """SQLite and an explicit psycopg URL pass unchanged."""
    for url in ("sqlite:///./var/x.db", "postgresql+psycopg://u@h/d"):
        assert with_installed_driver(url) == url


def test_config_prints_the_values_in_use_not_null(tmp_path: Path) -> None:
    """Defaults a service fills in (its metrics port, the shipped NER model) are shown, not null."""
    import json

    from dropwire.commands import DEFAULT_METRICS_PORTS
    from dropwire.embedded import DEFAULT_METRICS_PORT as RUN_PORT
    from services.enrich.worker_cli import DEFAULT_METRICS_PORT as ENRICH_PORT
    from services.ingest.cli import DEFAULT_METRICS_PORT as INGEST_PORT
    from services.store.worker import DEFAULT_METRICS_PORT as STORE_PORT

    result = run_cli("config", "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    settings = json.loads(line)
    assert settings["metrics"]["metrics_port"] == DEFAULT_METRICS_PORTS
    assert DEFAULT_METRICS_PORTS == {
        "run": RUN_PORT,
        "ingest": INGEST_PORT,
        "enrich": ENRICH_PORT,
        "store": STORE_PORT,
    }
    assert Path(settings["ner"]["ner_model"]).is_dir()


def test_entities_label_is_one_of_the_four(tmp_path: Path) -> None:
    """`entities --label FOO` is refused with the accepted labels instead of printing nothing."""
    result = run_cli("entities", "--label", "FOO", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "'PER', 'LOC', 'ORG', 'MISC'" in result.stderr


def test_help_shows_no_bool_placeholders(tmp_path: Path) -> None:
    """Flags read as flags in --help (`--json`, not `--json <bool>`)."""
    result = run_cli("entities", "--help", tmp_path=tmp_path)
    assert result.returncode == 0
    assert "<bool>" not in result.stdout and "--json" in result.stdout
    assert result.stdout.startswith("Usage: dropwire entities")
