"""Celery-facing behaviour of the enrich worker against a test stack: Flower sees it under its set name
and a failed document as failed; its log stays pure JSON from start to stop.

Flower is a dev dependency (``pip install flower`` for operators who want it); without it the test
skips, and fails under CI. Flower's HTTP API is queried as an operator's script would.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dropwire.stack import Stack, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WORKER_NAME = "enrich-flower"


def _flower_installed() -> None:
    try:
        import flower  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("flower is not installed (it is in the dev extra)")
        pytest.skip("flower is not installed (pip install -r requirements/dev.txt)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Flower sees Celery workers: the enrich service's Celery pool (the default batch consumer is not one).
CELERY_POOL = ("--pool", "prefork", "--concurrency", "2")


def _api(port: int, path: str) -> Any:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def test_flower_shows_the_named_enrich_worker_and_a_failed_document(
    tmp_path: Path, redis_url: str, pg_url: str
) -> None:
    """With task events on, Flower lists enrich under DROPWIRE_WORKER_NAME and a dead-lettered
    document's task as FAILURE (not SUCCESS), next to a stored one's SUCCESS, each under its doc_id."""
    _flower_installed()
    env = {"DROPWIRE_TASK_EVENTS": "true", "DROPWIRE_WORKER_NAME": f"{WORKER_NAME}@%h"}
    with Stack(
        tmp_path / "stack", redis_url=redis_url, database_url=pg_url, env=env, args={"enrich": CELERY_POOL}
    ) as stack:
        port = _free_port()
        log = (tmp_path / "flower.log").open("wb")
        flower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dropwire.celery",
                "flower",
                f"--port={port}",
                "--address=127.0.0.1",
            ],
            env=stack.env("enrich") | {"PYTHONPATH": str(ROOT), "FLOWER_UNAUTHENTICATED_API": "true"},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            hostname = socket.gethostname()
            wait_until(
                lambda: f"{WORKER_NAME}@{hostname}" in (_api(port, "/api/workers?refresh=1") or {}),
                "Flower to list the enrich worker by its set name",
                60,
            )
            good = b"Kop\nGRONINGEN (ANP) - De brug in Groningen gaat dicht.\n"
            stack.drop("goed.txt", good)
            line = "GRONINGEN (ANP) - " + "Een lange zin over de brug in Groningen, " * 25_000
            too_long = ("Kop\n" + line + "\n").encode()
            stack.drop("te-lang.txt", too_long)
            wait_until(
                lambda: stack.counts()["failed"] == 1 and stack.counts()["archive"] == 1, "both filed", 90
            )

            def states() -> list[str]:
                tasks = _api(port, "/api/tasks?taskname=dropwire.enrich.document") or {}
                return sorted(t.get("state") for t in tasks.values() if t.get("worker") or t.get("state"))

            wait_until(
                lambda: {"FAILURE", "SUCCESS"} <= set(states()), "Flower to show FAILURE and SUCCESS", 30
            )
            # Flower names each task by the doc_id an operator greps in the logs (the task id is it).
            tasks = _api(port, "/api/tasks?taskname=dropwire.enrich.document") or {}
            by_id = {task_id: task.get("state") for task_id, task in tasks.items()}
            assert by_id.get(hashlib.sha256(good).hexdigest()) == "SUCCESS", by_id
            assert by_id.get(hashlib.sha256(too_long).hexdigest()) == "FAILURE", by_id
        finally:
            flower.terminate()
            flower.wait(10)
            log.close()


@pytest.mark.parametrize("pool", ["prefork", "batch"])
def test_the_enrich_log_is_pure_json(tmp_path: Path, redis_url: str, pg_url: str, pool: str) -> None:
    """With JSON logs, every line the enrich worker writes, start to stop, is one JSON object: with
    the Celery pool Celery's banner, warnings and shutdown notice included; with the default batch
    consumer its own lines."""
    args = {"enrich": ("--pool", pool, "--concurrency", "2")}
    with Stack(
        tmp_path / "stack", redis_url=redis_url, database_url=pg_url, services=("enrich",), args=args
    ) as stack:
        if pool == "prefork":
            wait_until(lambda: " ready." in stack.log("enrich"), "Celery's worker ready", 60)
    # stopped with SIGTERM on leaving the block: a warm shutdown, which Celery announces
    lines = [line for line in stack.log("enrich").splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    if pool == "prefork":
        assert any(json.loads(line).get("event") == "celery.worker_said" for line in lines)
