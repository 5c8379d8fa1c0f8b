"""Errors that cannot heal are not retried, in either enrich pool: the document is dead-lettered at once
(a failed ``DocumentDone`` for the store, which files it in ``failed/`` with the reason), counted, and
the Celery pool's task ends in FAILURE; transient errors are still retried (``test_transient_retries``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_failure
from kombu.exceptions import EncodeError

from dropwire.stack import wait_until
from services.enrich import pool
from services.enrich.batching import EnrichConsumer
from services.enrich.celery_state import failing_dead_letters
from services.enrich.task import EnrichHandler, ExtractorSlot, register
from shared.celery_app import QUEUE_ENRICH, TASK_ENRICH, TASK_STORE, TASK_STORE_BATCH, create_app, send
from shared.errors import DeadLettered
from shared.metrics import create_metrics
from tests.documents import PassThrough
from tests.integration.enrichqueue import EnrichConsumers, numbered, store_queue

pytestmark = pytest.mark.integration

DEADLINE_SECONDS = 30.0


class StoreMessageUnencodable:
    """The real publisher, except that a store message containing ``BUG`` fails the way kombu fails on a
    payload it cannot serialise (``EncodeError``): the same on every attempt, a bug, not an outage."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.attempts = 0

    def __call__(self, task_name: str, payload: str) -> None:
        if task_name in (TASK_STORE, TASK_STORE_BATCH) and "BUG" in payload:
            self.attempts += 1
            raise EncodeError("Object of type Unserialisable is not JSON serializable")
        send(self.app, task_name, payload)


def test_the_celery_pool_dead_letters_a_permanent_error_at_once_and_the_task_fails(redis_url: str) -> None:
    """A document whose store message cannot be encoded: one attempt, no retry; a failed DocumentDone
    (reason internal) goes to the store, the dead letter is counted, the task's state is FAILURE
    (``DeadLettered``), and the next document is enriched as usual."""
    app = create_app("test-permanent", redis_url)
    metrics = create_metrics()
    publisher = StoreMessageUnencodable(app)
    handler = failing_dead_letters(EnrichHandler(ExtractorSlot(PassThrough), publisher, metrics))
    register(app, handler)
    failed_tasks: list[tuple[str, BaseException]] = []

    def on_failure(
        sender: Any = None, task_id: str = "", exception: BaseException | None = None, **_: Any
    ) -> None:
        if exception is not None:
            failed_tasks.append((task_id, exception))

    task_failure.connect(on_failure, weak=False)
    bad, good = numbered(1, "BUG"), numbered(2)
    client = redis.Redis.from_url(redis_url)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[QUEUE_ENRICH]):
            send(app, TASK_ENRICH, bad.to_json())
            send(app, TASK_ENRICH, good.to_json())
            wait_until(
                lambda: store_queue(client).claims == [good.claim], "the good document", DEADLINE_SECONDS
            )
    finally:
        task_failure.disconnect(on_failure)
    [done] = store_queue(client).failures
    assert (done.claim, done.outcome, done.stage, done.reason) == (bad.claim, "failed", "enrich", "internal")
    assert "EncodeError" in (done.detail or "")
    assert publisher.attempts == 1  # never retried
    assert metrics.retries.labels(stage="enrich")._value.get() == 0
    assert metrics.dead_letters.labels(stage="enrich", reason="internal")._value.get() == 1
    assert [type(exc) for _, exc in failed_tasks] == [DeadLettered]
    assert client.llen(QUEUE_ENRICH) == 0
    client.close()


@pytest.fixture
def batch_consumer(redis_url: str) -> Iterator[Callable[..., EnrichConsumer]]:
    consumers = EnrichConsumers(redis_url)
    yield lambda **kw: consumers.start(**{"workers": 1, "batch_size": 4} | kw)
    consumers.stop()


def test_the_batch_pool_dead_letters_a_bug_in_its_worker_alone_without_redelivery(
    redis_url: str, batch_consumer: Callable[..., EnrichConsumer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug that raises for one document inside the worker process (after enrichment, while adding its
    journey steps): that document is dead-lettered (internal) on its first delivery, its batch
    neighbours are enriched, nothing is put back on the queue."""
    real_steps = pool.with_enrich_steps

    def buggy_steps(result: Any, *args: Any, **kwargs: Any) -> Any:
        if "BUG" in result.articles[0].body:
            raise KeyError("dateline")
        return real_steps(result, *args, **kwargs)

    monkeypatch.setattr(pool, "with_enrich_steps", buggy_steps)  # before the fork: the worker has it
    pool.install(PassThrough, provenance=True)
    docs = [numbered(n) for n in range(3)] + [numbered(3, "BUG")] + [numbered(n) for n in range(4, 6)]
    app = create_app("test-producer", redis_url)
    for doc in docs:
        send(app, TASK_ENRICH, doc.to_json())
    consumer = batch_consumer()
    client = redis.Redis.from_url(redis_url)
    wait_until(
        lambda: len(store_queue(client).claims) == 5 and store_queue(client).failures,
        "all six",
        DEADLINE_SECONDS,
    )
    [done] = store_queue(client).failures
    assert (done.claim, done.reason) == ("c0003__p.txt", "internal")
    assert "KeyError" in (done.detail or "")
    m = consumer.metrics
    assert m.dead_letters.labels(stage="enrich", reason="internal")._value.get() == 1
    assert m.tasks_completed.labels(stage="enrich", outcome="retry")._value.get() == 0  # no redelivery
    client.close()


def test_the_batch_pool_dead_letters_a_batch_whose_store_message_cannot_be_sent(
    redis_url: str, batch_consumer: Callable[..., EnrichConsumer]
) -> None:
    """The store message fails permanently (cannot be encoded): it is tried once, not retried, and each
    of its documents is dead-lettered with the reason; the consumer keeps consuming."""
    pool.install(PassThrough, provenance=False)
    publishers: list[StoreMessageUnencodable] = []

    def publisher(app: Any) -> StoreMessageUnencodable:
        publishers.append(StoreMessageUnencodable(app))
        return publishers[-1]

    consumer = batch_consumer(send_with=publisher)
    app = create_app("test-producer", redis_url)
    send(app, TASK_ENRICH, numbered(1, "BUG").to_json())
    client = redis.Redis.from_url(redis_url)
    wait_until(lambda: store_queue(client).failures, "the dead letter", DEADLINE_SECONDS)
    send(app, TASK_ENRICH, numbered(2).to_json())
    wait_until(lambda: store_queue(client).claims, "the next document", DEADLINE_SECONDS)
    time.sleep(0.3)  # a retry of the first would arrive by now (the first backoff is under a second)
    assert [(d.claim, d.reason) for d in store_queue(client).failures] == [("c0001__p.txt", "internal")]
    assert publishers[0].attempts == 1
    assert consumer.metrics.retries.labels(stage="enrich")._value.get() == 0
    assert consumer.alive
    client.close()
