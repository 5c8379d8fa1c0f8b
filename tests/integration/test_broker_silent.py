"""A broker that stops answering without closing its connections (a hung server, or a network path
cut without a reset) against the consumers' stop and reconnect paths, on a private ``redis-server``
frozen with SIGSTOP. Without a socket timeout a consumer thread blocked on a reply waited for ever:
the enrich container whose network the compose test cut ignored SIGTERM until it was killed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from dropwire.stack import wait_until
from services.enrich.batching import EnrichConsumer
from shared.celery_app import BROKER_SOCKET_TIMEOUT_SECONDS, QUEUE_DONE, TASK_DONE, create_app, send
from shared.consumer import TaskConsumer
from shared.metrics import create_metrics
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.integration]

# Long enough for an idle consumer to be inside a command that waits for a reply (kombu restores
# unacknowledged messages with a synchronous command every tenth poll, about every five seconds idle).
FROZEN_SECONDS = 7.0
# A stop may wait for two commands' timeouts (the one in progress; kombu reads the pending BRPOP's
# reply as it closes the channel), plus the consumer's own reconnect pause.
STOP_BOUND_SECONDS = 2 * BROKER_SOCKET_TIMEOUT_SECONDS + 3.0


def test_a_consumer_survives_a_broker_that_hung_and_came_back(own_redis: RedisServer) -> None:
    """Frozen until the consumer gives its connection up (its command times out and it reconnects,
    against a server that still does not answer), then thawed: the consumer thread is alive and
    handles a message sent afterwards."""
    received: list[str] = []
    consumer = TaskConsumer(
        create_app("silent-test", own_redis.url), QUEUE_DONE, {TASK_DONE: received.append}, name="t"
    )
    consumer.start()
    try:
        wait_until(consumer.consuming.is_set, "the consumer to start")
        own_redis.freeze()
        # The timed-out command ends the connection: ``consuming`` goes off while it reconnects. Not at
        # once: redis-py retries a timed-out command three times before it raises (31 s here).
        wait_until(
            lambda: not consumer.consuming.is_set(),
            "the consumer to give up its silent connection",
            timeout=90,
        )
        own_redis.thaw()
        send(create_app("producer", own_redis.url), TASK_DONE, "after")
        wait_until(lambda: received == ["after"], "the message sent after the thaw", timeout=30)
        assert consumer.alive
    finally:
        own_redis.thaw()
        consumer.stop()


def _enrich_consumer(url: str, stopping: threading.Event) -> Callable[[], None]:
    consumer = EnrichConsumer(
        create_app("silent-enrich", url),
        workers=1,
        batch_size=4,
        metrics=create_metrics(),
        stopping=stopping,
        pool_factory=lambda n: ThreadPoolExecutor(max_workers=n),
    )
    return consumer.run


def _task_consumer(url: str, stopping: threading.Event) -> Callable[[], None]:
    consumer = TaskConsumer(create_app("silent-task", url), QUEUE_DONE, {TASK_DONE: print}, name="t")
    consumer.stopping = stopping
    return consumer.run


@pytest.mark.parametrize("make", [_enrich_consumer, _task_consumer], ids=["enrich-batches", "store-and-done"])
def test_a_consumer_stops_while_the_broker_is_silent(
    own_redis: RedisServer, make: Callable[[str, threading.Event], Callable[[], None]]
) -> None:
    """SIGTERM's stop flag set while Redis is frozen: the consumer thread ends within one command's
    socket timeout instead of waiting on the silent connection for ever."""
    stopping = threading.Event()
    thread = threading.Thread(target=make(own_redis.url, stopping), daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # connected and consuming
        own_redis.freeze()
        time.sleep(FROZEN_SECONDS)
        started = time.monotonic()
        stopping.set()
        thread.join(STOP_BOUND_SECONDS + 5)
        waited = time.monotonic() - started
        assert not thread.is_alive(), f"still blocked {waited:.1f}s after the stop on a silent broker"
        assert waited <= STOP_BOUND_SECONDS
    finally:
        own_redis.thaw()
        stopping.set()
        thread.join(30)
