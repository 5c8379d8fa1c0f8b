"""The enrich batch consumer against the real Redis: a lull ends a batch, a backlog fills batches, and
a worker process killed mid-batch loses and doubles nothing (a document that kills every process it
runs in is dead-lettered alone)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from services.enrich import pool
from services.enrich.batching import EnrichConsumer
from shared.celery_app import MAX_DELIVERIES, TASK_ENRICH, create_app, send
from shared.messages import Article, DocumentReceived
from tests.integration.enrichqueue import EnrichConsumers, numbered, store_queue

pytestmark = [pytest.mark.integration]

DEADLINE_SECONDS = 30.0


class Slow:
    """An extractor that annotates nothing; a body containing ``HANG`` blocks until its process is
    killed (the marker file says where it is), and one containing ``POISON`` kills its process."""

    version = "test-0"

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]:
        body = " ".join(a.body for a in articles)
        if "POISON" in body:
            os._exit(9)
        if "HANG" in body and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            time.sleep(60)
        return articles


@pytest.fixture
def consumer(redis_url: str, tmp_path: Path) -> Iterator[Callable[..., EnrichConsumer]]:
    consumers = EnrichConsumers(redis_url)

    def start(workers: int = 1, batch_size: int = 8) -> EnrichConsumer:
        pool.install(lambda: Slow(tmp_path / "hanging"))
        return consumers.start(workers=workers, batch_size=batch_size)

    yield start
    consumers.stop()


def publish(redis_url: str, docs: list[DocumentReceived]) -> None:
    app = create_app("test-producer", redis_url)
    for doc in docs:
        send(app, TASK_ENRICH, doc.to_json())


def wait_for(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_lone_document_goes_at_once_and_a_backlog_fills_batches(
    redis_url: str, consumer: Callable[..., EnrichConsumer]
) -> None:
    client = redis.Redis.from_url(redis_url)
    backlog = [numbered(n) for n in range(40)]
    publish(redis_url, backlog)  # waiting before the consumer starts: a backlog
    consumer(workers=1, batch_size=8)
    wait_for(lambda: len(store_queue(client).claims) == 40)
    queue = store_queue(client)
    assert sorted(queue.claims) == sorted(d.claim for d in backlog) and not queue.failures
    assert max(queue.sizes) == 8 and len(queue.sizes) < 40  # several documents per store message
    # Then one document alone, at light load: it does not wait for seven more.
    started = time.monotonic()
    publish(redis_url, [numbered(99)])
    wait_for(lambda: len(store_queue(client).claims) == 41)
    assert time.monotonic() - started < 1.0
    assert store_queue(client).sizes[-1] == 1


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    redis_url: str, consumer: Callable[..., EnrichConsumer], tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_url)
    docs = [numbered(n) for n in range(5)] + [numbered(5, "HANG")] + [numbered(n) for n in range(6, 20)]
    publish(redis_url, docs)
    consumer(workers=2, batch_size=4)
    marker = tmp_path / "hanging"
    wait_for(marker.exists)
    os.kill(int(marker.read_text()), signal.SIGKILL)  # the process enriching HANG's batch, mid-batch
    wait_for(lambda: len(store_queue(client).claims) == 20)
    time.sleep(0.5)  # nothing more arrives
    queue = store_queue(client)
    assert sorted(queue.claims) == sorted(d.claim for d in docs)  # each exactly once
    assert not queue.failures


def test_a_document_that_kills_every_worker_is_dead_lettered_alone(
    redis_url: str, consumer: Callable[..., EnrichConsumer]
) -> None:
    client = redis.Redis.from_url(redis_url)
    docs = [numbered(n) for n in range(6)] + [numbered(6, "POISON")] + [numbered(n) for n in range(7, 12)]
    publish(redis_url, docs)
    consumer(workers=1, batch_size=4)
    wait_for(lambda: len(store_queue(client).failures) == 1)
    wait_for(lambda: len(store_queue(client).claims) == 11)
    queue = store_queue(client)
    assert sorted(queue.claims) == sorted(d.claim for d in docs if d.claim != "c0006__p.txt")
    assert [(f.claim, f.reason) for f in queue.failures] == [("c0006__p.txt", "retries_exhausted")]
    assert MAX_DELIVERIES >= 1


def test_worker_processes_are_recycled_and_nothing_is_lost_on_the_way(redis_url: str, tmp_path: Path) -> None:
    """recycle_documents=4: the pool is replaced by fresh forks every few batches; each document is
    enriched and published exactly once across the changes."""
    client = redis.Redis.from_url(redis_url)
    pids = tmp_path / "pids"
    pids.mkdir()

    class Recording(Slow):
        def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]:
            (pids / str(os.getpid())).touch()
            return articles

    pool.install(lambda: Recording(tmp_path / "hanging"))
    docs = [numbered(n) for n in range(24)]
    publish(redis_url, docs)
    consumers = EnrichConsumers(redis_url)
    try:
        consumers.start(workers=1, batch_size=2, recycle_documents=4)
        wait_for(lambda: len(store_queue(client).claims) == 24)
        time.sleep(0.3)
        queue = store_queue(client)
        assert sorted(queue.claims) == sorted(d.claim for d in docs) and not queue.failures
        assert len(list(pids.iterdir())) >= 3  # 24 documents, a fresh process every 4
    finally:
        consumers.stop()


def test_a_batch_is_held_unacknowledged_while_in_flight_and_acknowledged_together(
    redis_url: str, consumer: Callable[..., EnrichConsumer], tmp_path: Path
) -> None:
    """kombu's Redis QoS holds every message of a batch in its ``unacked`` hash and ``unacked_index``
    while the batch is enriched (what a killed consumer's restore reads), and none once it is done."""
    client = redis.Redis.from_url(redis_url)
    docs = [numbered(0, "HANG")] + [numbered(n) for n in range(1, 4)]
    publish(redis_url, docs)
    consumer(workers=1, batch_size=4)
    marker = tmp_path / "hanging"
    wait_for(marker.exists)
    assert (client.hlen("unacked"), client.zcard("unacked_index")) == (4, 4)
    assert not store_queue(client).claims  # nothing published for the batch in flight
    os.kill(int(marker.read_text()), signal.SIGKILL)
    wait_for(lambda: len(store_queue(client).claims) == 4)
    wait_for(lambda: client.hlen("unacked") == 0)
    assert client.zcard("unacked_index") == 0
    more = [numbered(n) for n in range(10, 30)]
    publish(redis_url, more)
    wait_for(lambda: len(store_queue(client).claims) == 24)
    wait_for(lambda: client.hlen("unacked") == 0)
    assert client.zcard("unacked_index") == 0 and client.llen("enrich") == 0
    assert sorted(store_queue(client).claims) == sorted(d.claim for d in docs + more)
