"""Operator commands against a real spool, Redis and database: status, failed list, failed retry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropwire.cli import app
from services.store.db import upgrade
from shared.celery_app import TASK_ENRICH, create_app, send
from shared.spool import Spool

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path: Path, redis_url: str, sqlite_url: str) -> dict[str, str]:
    return {
        "DROPWIRE_SPOOL_DIR": str(tmp_path / "spool"),
        "DROPWIRE_BROKER_URL": redis_url,
        "DROPWIRE_DATABASE_URL": sqlite_url,
        "DROPWIRE_LOG_FORMAT": "json",
        "DROPWIRE_STATUS_SERVICES": "",  # no service runs here: status asks about none
    }


def spool_with_failures(root: Path) -> Spool:
    spool = Spool(root)
    spool.ensure()
    (spool.inbox / "wacht.txt").write_text("x")
    (spool.failed / "abcd1234__leeg.txt").write_bytes(b"")
    spool.write_error(
        "abcd1234__leeg.txt", stage="ingest", reason="empty", detail="file is empty", doc_id=None
    )
    (spool.failed / "bcde2345__raar.txt").write_text("?")
    spool.write_error(
        "bcde2345__raar.txt", stage="enrich", reason="parse_error", detail="no article", doc_id="a" * 64
    )
    return spool


def test_status_reports_folders_queues_and_rows(
    tmp_path: Path, env: dict[str, str], redis_url: str, sqlite_url: str
) -> None:
    """status --json gives files per folder, the depth of each queue and the rows per table."""
    spool_with_failures(tmp_path / "spool")
    upgrade(sqlite_url)
    send(create_app("test", redis_url), TASK_ENRICH, "{}")
    result = CliRunner().invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["folders"] == {"inbox": 1, "processing": 0, "archive": 0, "failed": 2}
    assert report["queues"] == {"enrich": 1, "store": 0, "ingest.done": 0}
    assert report["rows"] == {"documents": 0, "articles": 0, "entities": 0, "mentions": 0, "failures": 0}


def test_failed_list_and_retry(tmp_path: Path, env: dict[str, str]) -> None:
    """failed list shows each failed file with its stage and reason; retry moves one back to the inbox."""
    spool = spool_with_failures(tmp_path / "spool")
    runner = CliRunner()
    listed = runner.invoke(app, ["failed", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert all("failed_at" in e and "time" not in e for e in entries)
    assert [(e["name"], e["stage"], e["reason"]) for e in entries] == [
        ("leeg.txt", "ingest", "empty"),
        ("raar.txt", "enrich", "parse_error"),
    ]
    retried = runner.invoke(app, ["failed", "retry", "bcde2345__raar.txt"], env=env)
    assert retried.exit_code == 0, retried.output
    assert sorted(p.name for p in spool.inbox.iterdir()) == ["raar.txt", "wacht.txt"]
    assert [e["claim"] for e in spool.failed_entries()] == ["abcd1234__leeg.txt"]
    refused = runner.invoke(app, ["failed", "retry", "../../etc/passwd"], env=env)
    assert refused.exit_code == 1


def test_status_exits_1_and_says_what_is_down(tmp_path: Path, env: dict[str, str]) -> None:
    """A missing spool folder, an unreachable broker and a service not answering: exit 1, each named."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    env = env | {
        "DROPWIRE_SPOOL_DIR": str(tmp_path / "typo"),
        "DROPWIRE_BROKER_URL": f"redis://127.0.0.1:{free}/0",
        "DROPWIRE_STATUS_SERVICES": f"store=http://127.0.0.1:{free}",
    }
    result = CliRunner().invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["down"] == ["spool", "broker", "store"]
    assert report["services"]["store"]["alive"] is False
    assert not (tmp_path / "typo").exists()
    created = CliRunner().invoke(app, ["status", "--json", "--create"], env=env)
    assert (tmp_path / "typo" / "inbox").is_dir()
    assert "spool" not in json.loads(created.stdout)["down"]


def test_status_reads_a_running_services_liveness_and_heartbeat_age(
    tmp_path: Path, env: dict[str, str], sqlite_url: str
) -> None:
    """A service that answers: alive, ready, its heartbeat age read from its /metrics; exit 0."""
    from shared.metrics import create_metrics
    from shared.observability import serve

    spool_with_failures(tmp_path / "spool")
    upgrade(sqlite_url)
    metrics = create_metrics()
    metrics.heartbeat_age.set(12.5)
    with serve(metrics, port=0, host="127.0.0.1", checks={}) as server:
        result = CliRunner().invoke(
            app, ["status", "--json"], env=env | {"DROPWIRE_STATUS_SERVICES": f"enrich={server.url}"}
        )
    assert result.exit_code == 0, result.output
    enrich = json.loads(result.stdout)["services"]["enrich"]
    assert enrich["alive"] and enrich["ready"] and enrich["heartbeat_age_seconds"] == 12.5


def test_ingest_refuses_a_missing_spool_folder(tmp_path: Path) -> None:
    """`dropwire ingest` does not silently create a mistyped DROPWIRE_SPOOL_DIR: one line, exit 2."""
    from tests.unit.test_config_check import run_cli

    result = run_cli("ingest", tmp_path=tmp_path, DROPWIRE_SPOOL_DIR=str(tmp_path / "typo"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "DROPWIRE_SPOOL_DIR" in line and "--create" in line
    assert not (tmp_path / "typo").exists()
