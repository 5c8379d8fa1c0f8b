"""Broker clients across a Redis restart and bad messages: ``shared.consumer.TaskConsumer`` (the ingest.done
consumer thread), ``queue_depth`` and ``send`` (ingest's main loop), against a private ``redis-server``."""

from __future__ import annotations

import pytest

from dropwire.stack import wait_until
from shared.celery_app import QUEUE_DONE, QUEUE_ENRICH, TASK_DONE, TASK_ENRICH, create_app, queue_depth, send
from shared.consumer import TaskConsumer
from shared.errors import DependencyUnavailable
from shared.retry import DependencyFailed
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.integration]


def consumer(url: str, received: list[str], dropped: list[str]) -> TaskConsumer:
    app = create_app("consumer-test", url)
    return TaskConsumer(app, QUEUE_DONE, {TASK_DONE: received.append}, name="t", on_dropped=dropped.append)


def test_consumer_keeps_consuming_after_a_redis_restart(own_redis: RedisServer) -> None:
    """A Redis restart (redis-py's own ConnectionError, not the builtin one) does not end the consumer
    thread: it reconnects and handles the messages sent after the restart."""
    received: list[str] = []
    c = consumer(own_redis.url, received, [])
    c.start()
    try:
        producer = create_app("producer", own_redis.url)
        wait_until(c.consuming.is_set, "the consumer to start")
        send(producer, TASK_DONE, "before")
        wait_until(lambda: received == ["before"], "the first message")
        own_redis.restart()
        send(create_app("producer-2", own_redis.url), TASK_DONE, "after")
        wait_until(lambda: received == ["before", "after"], "the message sent after the restart", timeout=20)
        assert c._thread is not None and c._thread.is_alive()
    finally:
        c.stop()


def test_consumer_drops_a_pickled_message_and_carries_on(own_redis: RedisServer) -> None:
    """A message in a refused serializer (pickle) is logged, counted (``on_dropped``) and acknowledged;
    the thread stays up and handles the next JSON message."""
    received: list[str] = []
    dropped: list[str] = []
    c = consumer(own_redis.url, received, dropped)
    c.start()
    try:
        producer = create_app("producer", own_redis.url)
        wait_until(c.consuming.is_set, "the consumer to start")
        producer.send_task(TASK_DONE, args=["pickled"], queue=QUEUE_DONE, serializer="pickle")
        send(producer, TASK_DONE, "good")
        wait_until(lambda: received == ["good"], "the good message", timeout=10)
        assert dropped == ["bad_message"] and c.decode_errors == 1
        assert c._thread is not None and c._thread.is_alive()
        import redis

        client = redis.Redis.from_url(own_redis.url)
        wait_until(lambda: client.llen(QUEUE_DONE) == 0 and client.hlen("unacked") == 0, "nothing left")
        client.close()
    finally:
        c.stop()


def test_queue_depth_and_send_report_a_restarted_or_stopped_redis_instead_of_raising(
    own_redis: RedisServer,
) -> None:
    """A pooled connection killed by a Redis restart (redis-py's ConnectionError) makes ``queue_depth``
    answer None or the depth and ``send`` raise ``DependencyUnavailable`` — never an exception that ends
    ingest's main loop."""
    app = create_app("ingest-like", own_redis.url)
    send(app, TASK_ENRICH, "one")
    assert queue_depth(app, QUEUE_ENRICH) == 1
    own_redis.restart()
    assert queue_depth(app, QUEUE_ENRICH) in (None, 1)
    own_redis.crash()
    assert queue_depth(app, QUEUE_ENRICH) is None
    with pytest.raises(DependencyUnavailable):
        send(app, TASK_ENRICH, "two")
    own_redis.start()
    wait_until(
        lambda: queue_depth(app, QUEUE_ENRICH) == 1, "the depth after the restart (AOF kept the queue)"
    )


def test_a_consumer_refused_by_the_broker_stops_and_says_why(own_redis: RedisServer) -> None:
    """Credentials the broker refuses end the consumer at once (no reconnect loop): ``crashed`` holds
    the refusal with its fix, ``on_crash`` hears of it, and ``consuming`` never turns on."""
    crashes: list[BaseException] = []
    refused_url = own_redis.url.replace("redis://", "redis://nobody:wrong@", 1)
    c = TaskConsumer(
        create_app("refused-test", refused_url),
        QUEUE_DONE,
        {TASK_DONE: print},
        name="t",
        on_crash=crashes.append,
    )
    c.start()
    try:
        wait_until(lambda: bool(crashes), "the refusal", timeout=10)
        assert isinstance(c.crashed, DependencyFailed) and crashes == [c.crashed]
        assert str(c.crashed).startswith("broker: Redis refused the credentials")
        assert not c.consuming.is_set()
        assert c._thread is not None
        c._thread.join(5)
        assert not c._thread.is_alive()
    finally:
        c.stop()
