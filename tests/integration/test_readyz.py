"""/readyz against the real Redis and PostgreSQL, and a dependency that is not there."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from shared.metrics import create_metrics
from shared.observability import database_check, queue_depth_probe, redis_check, serve

pytestmark = pytest.mark.integration


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readyz(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=15) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_ready_when_redis_and_postgres_answer(redis_url: str, pg_url: str) -> None:
    """With the real broker and database up, /readyz is 200 and both checks report ok."""
    checks = {"broker": redis_check(redis_url), "database": database_check(pg_url)}
    with serve(create_metrics(), port=0, checks=checks) as srv:
        status, body = readyz(srv.url)
    assert status == 200, body
    assert {k: v["ok"] for k, v in body["checks"].items()} == {"broker": True, "database": True}


def test_ready_with_sqlite(sqlite_url: str) -> None:
    """The embedded SQLite database passes the same select-1 check."""
    with serve(create_metrics(), port=0, checks={"database": database_check(sqlite_url)}) as srv:
        status, body = readyz(srv.url)
    assert status == 200, body


def test_not_ready_when_the_broker_port_is_dead(pg_url: str) -> None:
    """A broker URL pointing at a dead port makes /readyz 503 and names the broker check."""
    checks = {"broker": redis_check(f"redis://127.0.0.1:{dead_port()}/0"), "database": database_check(pg_url)}
    with serve(create_metrics(), port=0, checks=checks) as srv:
        status, body = readyz(srv.url)
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_not_ready_when_the_database_port_is_dead(redis_url: str) -> None:
    """A database URL pointing at a dead port makes /readyz 503 and names the database check."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{dead_port()}/postgres"
    checks = {"broker": redis_check(redis_url), "database": database_check(url)}
    with serve(create_metrics(), port=0, checks=checks) as srv:
        started = time.monotonic()
        status, body = readyz(srv.url)
        elapsed = time.monotonic() - started
    assert status == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is True
    assert elapsed < 5


def test_not_ready_when_a_listener_never_answers(pg_url: str) -> None:
    """A broker that accepts the connection but never speaks is reported as failed within the time box."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        checks = {
            "broker": redis_check(f"redis://127.0.0.1:{port}/0", timeout=0.5),
            "database": database_check(pg_url),
        }
        with serve(create_metrics(), port=0, checks=checks, check_timeout=1.0) as srv:
            started = time.monotonic()
            status, body = readyz(srv.url)
            elapsed = time.monotonic() - started
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert elapsed < 5


def test_queue_depth_probe_reads_the_celery_lists(redis_url: str) -> None:
    """At scrape time the queue depth gauge takes each Celery queue's list length in Redis."""
    client = redis.Redis.from_url(redis_url)
    client.rpush("enrich", "a", "b", "c")
    client.rpush("ingest.done", "x")
    metrics = create_metrics()
    with (
        serve(metrics, port=0, on_scrape=[queue_depth_probe(metrics, redis_url)]) as srv,
        urllib.request.urlopen(f"{srv.url}/metrics", timeout=10) as resp,
    ):
        text = resp.read().decode()
    depth = {
        s.labels["queue"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "dropwire_queue_depth"
    }
    assert depth == {"enrich": 3, "store": 0, "ingest.done": 1}
