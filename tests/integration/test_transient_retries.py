"""A task that keeps failing transiently: retried a bounded number of times through the real broker,
then dead-lettered (a failed ``DocumentDone`` for the store), never retried forever."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from structlog.testing import capture_logs

from dropwire.stack import wait_until
from services.enrich import task as enrich_task
from services.enrich.task import RETRY_LIMIT, EnrichHandler, ExtractorSlot, register
from shared.celery_app import QUEUE_ENRICH, TASK_ENRICH, TASK_STORE, TASK_STORE_FAILURE, create_app, send
from shared.errors import DependencyUnavailable
from shared.messages import DocumentDone, DocumentReceived, decode
from shared.metrics import create_metrics
from tests.integration.badinput import queued

pytestmark = pytest.mark.integration

# Retries are published back to the broker with a countdown; ten of them, each a round trip through
# Redis and the worker, fit easily.
DEADLINE_SECONDS = 60.0


class BrokerRefusesTheStore:
    """The enrich worker's publisher, with the store's queue unreachable: every publish of a result fails
    as ``DependencyUnavailable`` (what ``shared.celery_app.send`` raises when the broker refuses it);
    dead letters (``TASK_STORE_FAILURE``) go through to the real Redis."""

    def __init__(self, app) -> None:
        self.app = app
        self.attempts = 0

    def __call__(self, task_name: str, payload: str) -> None:
        if task_name == TASK_STORE:
            self.attempts += 1
            raise DependencyUnavailable("broker unreachable while publishing", task=task_name)
        send(self.app, task_name, payload)


def test_a_task_that_keeps_failing_transiently_is_dead_lettered_after_its_retries(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt to publish the enriched result fails: the task is retried exactly RETRY_LIMIT times
    (each counted and logged), then a failed DocumentDone with reason retries_exhausted goes to the store,
    and nothing is left on the enrich queue."""
    monkeypatch.setattr(enrich_task, "backoff_seconds", lambda retries: 0.0)  # the waits, not the count
    app = create_app("test-transient", redis_url)
    metrics = create_metrics()
    publisher = BrokerRefusesTheStore(app)
    slot = ExtractorSlot(lambda: _extractor())
    register(app, EnrichHandler(slot, publisher, metrics))
    text = "Brug open\nGRONINGEN (ANP) - In Groningen is woensdag een nieuwe brug geopend.\n"
    now = datetime.now(UTC)
    message = DocumentReceived(
        doc_id=hashlib.sha256(text.encode()).hexdigest(),
        claim="abcd1234__brug.txt",
        name="brug.txt",
        received_at=now,
        mtime=now,
        size=len(text.encode()),
        encoding="utf-8",
        text=text,
    )
    client = redis.Redis.from_url(redis_url)
    with (
        capture_logs() as logs,
        start_worker(app, pool="solo", perform_ping_check=False, queues=[QUEUE_ENRICH]),
    ):
        send(app, TASK_ENRICH, message.to_json())
        reports = wait_until(
            lambda: queued(client, "store"), "the dead letter on the store queue", DEADLINE_SECONDS
        )
    assert [task for task, _ in reports] == [TASK_STORE_FAILURE]
    done = decode(DocumentDone, reports[0][1])
    assert (done.outcome, done.stage, done.reason, done.claim) == (
        "failed",
        "enrich",
        "retries_exhausted",
        message.claim,
    )
    assert publisher.attempts == RETRY_LIMIT + 1
    assert metrics.retries.labels(stage="enrich")._value.get() == RETRY_LIMIT
    assert metrics.dead_letters.labels(stage="enrich", reason="retries_exhausted")._value.get() == 1
    retries = [e for e in logs if e["event"] == "enrich.retry"]
    assert [e["attempt"] for e in retries] == list(range(1, RETRY_LIMIT + 1))
    assert [e["reason"] for e in logs if e["event"] == "enrich.failed"] == ["retries_exhausted"]
    assert client.llen("enrich") == 0
    client.close()


def _extractor():
    from services.enrich.entities import load_extractor

    return load_extractor(None)
