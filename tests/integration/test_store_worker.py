"""The real ``dropwire store`` worker, as a subprocess, against the real Redis and PostgreSQL (and the
embedded SQLite default): tasks sent by name in, rows and ``ingest.done`` messages out."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from services.store.db import make_engine
from services.store.repository import Repository
from shared.celery_app import (
    QUEUE_DONE,
    QUEUE_STORE,
    TASK_DONE_BATCH,
    TASK_STORE,
    TASK_STORE_FAILURE,
    create_app,
    send,
)
from shared.messages import DocumentDone, DocumentsDone, decode
from tests.integration.badinput import queued
from tests.unit.test_repository_sqlite import make_doc, sha

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DROPWIRE = Path(sys.executable).with_name("dropwire")
# Generous: the worker migrates at start, and the machine is shared by several test runs.
DEADLINE_SECONDS = 60.0


def published_outcomes(client: redis.Redis) -> list[DocumentDone]:
    """Every DocumentDone on ingest.done, single or inside a batch message, oldest first (not consumed)."""
    out: list[DocumentDone] = []
    for task, payload in queued(client, QUEUE_DONE):
        if task == TASK_DONE_BATCH:
            out.extend(decode(DocumentsDone, payload).items)
        else:
            out.append(decode(DocumentDone, payload))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE_SECONDS) -> Any:
    """Poll ``condition`` until it returns something truthy, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)  # polling interval of a condition with a deadline, not a wait for the pipeline


class Worker:
    """A running ``dropwire store`` subprocess and handles on what it talks to."""

    def __init__(self, broker_url: str, database_url: str, tmp_path: Path) -> None:
        self.broker_url = broker_url
        self.database_url = database_url
        self.port = free_port()
        self.log_path = tmp_path / "store.log"
        env = {
            **os.environ,
            "DROPWIRE_BROKER_URL": broker_url,
            "DROPWIRE_DATABASE_URL": database_url,
            "DROPWIRE_METRICS_PORT": str(self.port),
            "DROPWIRE_BATCH_SIZE": "10",
            "DROPWIRE_BATCH_SECONDS": "0.2",
            "DROPWIRE_LOG_FORMAT": "json",
        }
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(DROPWIRE), "store", "--migrate", "--wait", "20"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.app = create_app("store-test", broker_url)
        self.redis = redis.Redis.from_url(broker_url)

    def send(self, task: str, payload: str) -> None:
        send(self.app, task, payload)

    def done(self) -> list[DocumentDone]:
        """Every DocumentDone the worker published to ingest.done so far (read, not consumed)."""
        return published_outcomes(self.redis)

    def metric(self, name: str, **labels: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            assert self.proc.poll() is None, f"worker exited early:\n{self.log_path.read_text()}"
            return False

    def repo(self) -> Repository:
        return Repository(make_engine(self.database_url))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def close(self) -> None:
        self.stop()
        self.redis.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "pg_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def worker(redis_url: str, database_url: str, tmp_path: Path) -> Iterator[Worker]:
    w = Worker(redis_url, database_url, tmp_path)
    try:
        wait_for(w.ready, "the worker's /readyz")
        yield w
    finally:
        w.close()


def test_worker_stores_documents_and_reports_each_outcome(worker: Worker) -> None:
    """Documents sent by task name are stored in batches; each gets stored/duplicate on ingest.done."""
    for key in ("a", "b", "c"):
        worker.send(TASK_STORE, make_doc(key).to_json())
    wait_for(lambda: len(worker.done()) == 3, "three outcomes")
    worker.send(TASK_STORE, make_doc("a", name="copy-of-a.txt").to_json())
    done = wait_for(lambda: (d := worker.done()) and len(d) == 4 and d, "the duplicate's outcome")
    assert sorted((d.name, d.outcome) for d in done) == [
        ("a.txt", "stored"),
        ("b.txt", "stored"),
        ("c.txt", "stored"),
        ("copy-of-a.txt", "duplicate"),
    ]
    assert all(d.mtime == make_doc("a").mtime for d in done)
    repo = worker.repo()
    counts = repo.counts()
    assert (counts.documents, counts.articles, counts.mentions) == (3, 6, 24)
    repo.engine.dispose()
    assert worker.metric("dropwire_store_rows_total", table="documents") == 3
    assert worker.metric("dropwire_duplicates_total") == 1
    assert worker.redis.llen(QUEUE_STORE) == 0


def test_worker_records_failures_and_forwards_them(worker: Worker) -> None:
    """A dead-lettered DocumentDone becomes a failure row and is forwarded unchanged to ingest.done."""
    failed = DocumentDone(
        doc_id=sha("broken"),
        claim="broken.txt",
        name="broken.txt",
        outcome="failed",
        stage="enrich",
        reason="parse_error",
        detail="no articles",
        finished_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
    )
    worker.send(TASK_STORE_FAILURE, failed.to_json())
    done = wait_for(worker.done, "the forwarded failure")
    assert done == [failed]
    repo = worker.repo()
    assert [(f.claim, f.stage, f.reason) for f in repo.recent_failures(5)] == [
        ("broken.txt", "enrich", "parse_error")
    ]
    repo.engine.dispose()


def test_worker_dead_letters_bad_messages_and_keeps_going(worker: Worker) -> None:
    """An undecodable message with a readable claim fails as bad_message; one without (or pickled) is
    dropped; the worker carries on with the next good message."""
    worker.send(
        TASK_STORE, json.dumps({"schema_version": 1, "claim": "odd.txt", "name": "odd.txt", "articles": "?"})
    )
    worker.send(TASK_STORE, "this is not json")
    worker.app.send_task(TASK_STORE, args=["pickled"], queue=QUEUE_STORE, serializer="pickle")
    worker.send(TASK_STORE, make_doc("good").to_json())
    done = wait_for(lambda: (d := worker.done()) and len(d) == 2 and d, "two outcomes")
    by_claim = {d.claim: d for d in done}
    assert (by_claim["odd.txt"].outcome, by_claim["odd.txt"].stage, by_claim["odd.txt"].reason) == (
        "failed",
        "store",
        "bad_message",
    )
    assert by_claim["good.txt"].outcome == "stored"
    wait_for(
        lambda: worker.metric("dropwire_dead_letters_total", stage="store", reason="bad_message") == 3,
        "three dead letters counted",
    )
    assert worker.redis.llen(QUEUE_STORE) == 0 and worker.redis.hlen("unacked") == 0
    repo = worker.repo()
    assert [(f.claim, f.reason) for f in repo.recent_failures(5)] == [("odd.txt", "bad_message")]
    repo.engine.dispose()


def test_worker_stops_cleanly_on_sigterm(worker: Worker) -> None:
    """SIGTERM ends the worker with exit status 0 and nothing left unacknowledged."""
    worker.send(TASK_STORE, make_doc("last").to_json())
    wait_for(worker.done, "the outcome")
    assert worker.stop() == 0
    assert worker.redis.hlen("unacked") == 0


@pytest.fixture
def pg_worker(redis_url: str, pg_url: str, tmp_path: Path) -> Iterator[Worker]:
    w = Worker(redis_url, pg_url, tmp_path)
    try:
        wait_for(w.ready, "the worker's /readyz")
        yield w
    finally:
        w.close()


def test_database_outage_is_retried_without_losing_the_message(pg_worker: Worker, pg_admin: str) -> None:
    """With the database refusing connections the document waits (retried with backoff, unacknowledged);
    once the database is back it is stored and reported."""
    database = sa.make_url(pg_worker.database_url).database
    admin = sa.create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
            {"d": database},
        )
    try:
        pg_worker.send(TASK_STORE, make_doc("during-outage").to_json())
        wait_for(lambda: pg_worker.metric("dropwire_retries_total", stage="store") >= 1, "a retry")
        assert pg_worker.done() == []
        assert pg_worker.redis.hlen("unacked") == 1  # held, not acknowledged
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    done = wait_for(pg_worker.done, "the outcome after the outage")
    assert [(d.claim, d.outcome) for d in done] == [("during-outage.txt", "stored")]
    wait_for(lambda: pg_worker.redis.hlen("unacked") == 0, "the acknowledgement")


def test_a_message_that_crashes_the_handler_is_isolated_then_dead_lettered(
    redis_url: str, sqlite_url: str
) -> None:
    """A document that makes the handler crash (a bug) does not hold back its batch neighbours; it is
    redelivered a bounded number of times and then dead-lettered as retries_exhausted."""
    import threading

    from services.store.db import upgrade
    from services.store.handler import StoreHandler
    from services.store.task import BatchConsumer
    from shared.metrics import create_metrics

    class CrashesOnPoison(StoreHandler):
        def handle(self, items: Any) -> list[DocumentDone]:
            if any(
                getattr(i, "claim", "") == "poison.txt" and not isinstance(i, DocumentDone) for i in items
            ):
                raise RuntimeError("a bug in the store")
            return super().handle(items)

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    app = create_app("store-test", redis_url)
    metrics = create_metrics()
    stopping = threading.Event()
    consumer = BatchConsumer(
        app,
        CrashesOnPoison(Repository(engine), metrics),
        queue=QUEUE_STORE,
        batch_size=10,
        batch_seconds=0.2,
        metrics=metrics,
        stopping=stopping,
    )
    for key in ("before", "poison", "after"):
        send(app, TASK_STORE, make_doc(key).to_json())
    thread = threading.Thread(target=consumer.run)
    thread.start()
    client = redis.Redis.from_url(redis_url)
    try:

        def outcomes() -> dict[str, tuple[str, str | None]]:
            return {done.claim: (done.outcome, done.reason) for done in published_outcomes(client)}

        wait_for(lambda: len(outcomes()) == 3, "three outcomes", timeout=120)
        assert outcomes() == {
            "before.txt": ("stored", None),
            "after.txt": ("stored", None),
            "poison.txt": ("failed", "retries_exhausted"),
        }
        wait_for(lambda: client.hlen("unacked") == 0 and client.llen(QUEUE_STORE) == 0, "an empty queue")
        assert Repository(engine).recent_failures(1)[0].reason == "retries_exhausted"
        assert (
            metrics.registry.get_sample_value(
                "dropwire_dead_letters_total", {"stage": "store", "reason": "retries_exhausted"}
            )
            == 1
        )

    finally:
        stopping.set()
        thread.join(timeout=30)
        client.close()
        engine.dispose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """A Redis server of this test's own (it gets restarted), on a free port; yields a restart function."""
    import shutil

    from tests.conftest import unavailable

    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server binary", "not on PATH (needed to restart a Redis of the test's own)")
    port = free_port()
    args = [
        str(binary),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
        "--maxmemory-policy",
        "noeviction",
    ]
    state: dict[str, subprocess.Popen[bytes]] = {}

    def start() -> None:
        state["proc"] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        wait_for(lambda: _pings(client), "the private Redis")
        client.close()

    def restart() -> None:
        state["proc"].terminate()
        state["proc"].wait(timeout=30)
        start()

    start()
    restart.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    try:
        yield restart
    finally:
        state["proc"].terminate()
        state["proc"].wait(timeout=30)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_worker_keeps_consuming_after_a_redis_restart(
    private_redis: Callable[[], None], sqlite_url: str, tmp_path: Path
) -> None:
    """After the broker restarts, the worker reconnects by itself and stores what is sent next."""
    url = private_redis.url  # type: ignore[attr-defined]
    w = Worker(url, sqlite_url, tmp_path)
    try:
        wait_for(w.ready, "the worker's /readyz")
        w.send(TASK_STORE, make_doc("before-restart").to_json())
        wait_for(w.done, "the first outcome")
        private_redis()
        w.app = create_app("store-test", url)  # a fresh producer for the new server
        w.redis = redis.Redis.from_url(url)
        w.send(TASK_STORE, make_doc("after-restart").to_json())
        done = wait_for(w.done, "the outcome after the restart")
        assert [(d.claim, d.outcome) for d in done] == [("after-restart.txt", "stored")]
    finally:
        w.close()
