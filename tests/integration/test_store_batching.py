"""How the store cuts its batches, on the real Redis: at the first lull while enrich has less than a
batch queued (a lone document is written at once), filled for up to the batch window while enrich has
a backlog of a batch or more."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
import redis

from dropwire.stack import wait_until
from services.store.db import make_engine, upgrade
from services.store.handler import StoreHandler
from services.store.repository import Repository
from services.store.task import LULL_SECONDS, BatchConsumer
from shared.celery_app import (
    QUEUE_DONE,
    QUEUE_STORE,
    TASK_DONE,
    TASK_DONE_BATCH,
    TASK_ENRICH,
    TASK_STORE,
    create_app,
    send,
)
from shared.messages import DocumentDone, DocumentsDone, decode
from shared.metrics import create_metrics
from tests.integration.badinput import queued
from tests.unit.test_repository_sqlite import make_doc

pytestmark = [pytest.mark.integration]

DOCUMENTS = 6
BATCH_SIZE = 10  # more than DOCUMENTS: no batch is cut for being full
# Between two documents: several lulls long, a small part of the batch window.
GAP_SECONDS = 6 * LULL_SECONDS
BATCH_SECONDS = 2.0


class Recording(StoreHandler):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.batches: list[int] = []

    def handle(self, items: Sequence[Any]) -> list[DocumentDone]:
        self.batches.append(len(items))
        return super().handle(items)


def store_consumer(app: Any, handler: StoreHandler, stopping: threading.Event) -> BatchConsumer:
    """The store's consumer as the worker runs it, with this module's batch settings."""
    return BatchConsumer(
        app,
        handler,
        queue=QUEUE_STORE,
        batch_size=BATCH_SIZE,
        batch_seconds=BATCH_SECONDS,
        metrics=handler.metrics,
        stopping=stopping,
    )


def batches_for(redis_url: str, sqlite_url: str, *, enrich_backlog: int) -> list[int]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    app = create_app("store-batching-test", redis_url)
    metrics = create_metrics()
    handler = Recording(Repository(engine), metrics)
    stopping = threading.Event()
    consumer = store_consumer(app, handler, stopping)
    for i in range(enrich_backlog):
        send(app, TASK_ENRICH, f"document {i} waiting for enrich")  # nobody consumes them in this test
    thread = threading.Thread(target=consumer.run)
    thread.start()
    try:
        wait_until(consumer.consuming.is_set, "the consumer to start")
        for i in range(DOCUMENTS):
            send(app, TASK_STORE, make_doc(f"doc{i}").to_json())
            time.sleep(GAP_SECONDS)  # pacing the producer: documents arrive apart, as from enrich
        wait_until(lambda: sum(handler.batches) == DOCUMENTS, "every document written", timeout=30)
        return handler.batches
    finally:
        stopping.set()
        thread.join(timeout=30)
        engine.dispose()


@pytest.mark.parametrize("enrich_backlog", [0, BATCH_SIZE - 1])
def test_below_a_batch_of_enrich_backlog_each_lull_ends_a_batch(
    redis_url: str, sqlite_url: str, enrich_backlog: int
) -> None:
    batches = batches_for(redis_url, sqlite_url, enrich_backlog=enrich_backlog)
    assert len(batches) >= 2, batches


def test_during_an_enrich_backlog_of_a_batch_or_more_a_batch_waits_to_fill(
    redis_url: str, sqlite_url: str
) -> None:
    batches = batches_for(redis_url, sqlite_url, enrich_backlog=BATCH_SIZE)
    assert batches == [DOCUMENTS]


def test_a_batch_reports_its_outcomes_to_ingest_in_one_message(redis_url: str, sqlite_url: str) -> None:
    """Documents waiting together are written in one batch and reported in one DocumentsDone; a lone
    document afterwards is reported as a plain DocumentDone."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    app = create_app("store-batching-test", redis_url)
    metrics = create_metrics()
    stopping = threading.Event()
    consumer = store_consumer(app, StoreHandler(Repository(engine), metrics), stopping)
    for i in range(3):
        send(app, TASK_STORE, make_doc(f"together{i}").to_json())
    client = redis.Redis.from_url(redis_url)
    thread = threading.Thread(target=consumer.run)
    thread.start()
    try:
        wait_until(lambda: client.llen(QUEUE_DONE) == 1, "the batch's outcomes on ingest.done")
        send(app, TASK_STORE, make_doc("alone").to_json())
        wait_until(lambda: client.llen(QUEUE_DONE) == 2, "the lone document's outcome")
        (first_task, first), (second_task, second) = queued(client, QUEUE_DONE)
        assert first_task == TASK_DONE_BATCH
        items = decode(DocumentsDone, first).items
        assert sorted(d.claim for d in items) == [f"together{i}.txt" for i in range(3)]
        assert {d.outcome for d in items} == {"stored"}
        assert second_task == TASK_DONE
        assert decode(DocumentDone, second).claim == "alone.txt"
    finally:
        stopping.set()
        thread.join(timeout=30)
        client.close()
        engine.dispose()
