"""``shared.broker``: kombu's Redis transport keeping one client per connection pool and acknowledging a
batch in one transaction, on the real Redis."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from kombu.exceptions import MessageStateError

from shared import broker
from shared.celery_app import QUEUE_DONE, TASK_DONE, create_app, queue_depth, send
from tests.integration.badinput import queued

pytestmark = [pytest.mark.integration]


def test_redis_urls_get_the_transport_and_other_urls_keep_kombus_own() -> None:
    assert create_app("t", "redis://127.0.0.1:6379/0").conf.broker_transport == broker.TRANSPORT
    assert create_app("t", "memory://").conf.broker_transport is None


def test_a_channel_reuses_its_client_and_makes_a_new_one_for_a_new_pool(redis_url: str) -> None:
    app = create_app("transport-test", redis_url)
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        assert isinstance(channel, broker.Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.connection_pool is channel.pool
        channel._disconnect_pools()  # what kombu does after a fork or a lost connection
        with channel.conn_or_acquire() as third:
            assert third is not first
            assert third.connection_pool is channel.pool
            assert third.ping()
        given = object()
        with channel.conn_or_acquire(given) as passed:
            assert passed is given


def test_messages_round_trip_through_the_transport(redis_url: str) -> None:
    app = create_app("transport-test", redis_url)
    for i in range(3):
        send(app, TASK_DONE, f'{{"n": {i}}}')
    assert queue_depth(app, QUEUE_DONE) == 3
    got = []
    with app.connection_for_read() as conn:
        queue = app.amqp.queues[QUEUE_DONE]
        with conn.Consumer(
            [queue], callbacks=[lambda body, m: (got.append(body[0][0]), m.ack())], accept=["json"]
        ):
            while len(got) < 3:
                conn.drain_events(timeout=5)
    assert got == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert queue_depth(app, QUEUE_DONE) == 0


def test_the_kombu_methods_the_transport_overrides_keep_their_shape() -> None:
    """``shared.broker.Channel`` replaces kombu's private ``conn_or_acquire`` and builds clients with
    ``_create_client``: if an upgrade of kombu changes either, this fails before the transport does."""
    import inspect

    from kombu.transport import redis as kombu_redis

    assert list(inspect.signature(kombu_redis.Channel.conn_or_acquire).parameters) == ["self", "client"]
    assert inspect.signature(kombu_redis.Channel.conn_or_acquire).parameters["client"].default is None
    assert list(inspect.signature(kombu_redis.Channel._create_client).parameters) == ["self", "asynchronous"]
    # kombu's own version builds a fresh client per call; that is the cost the override removes.
    source = inspect.getsource(kombu_redis.Channel.conn_or_acquire)
    assert "self._create_client()" in source, source
    assert isinstance(inspect.getattr_static(kombu_redis.Channel, "pool"), property)
    # ``ack_together`` relies on the Redis QoS's pipeline and key names, on the virtual QoS's ``ack``
    # being its in-memory bookkeeping only, and on a message's ``_state`` being what ``ack`` sets.
    from kombu.message import ACK_STATES, Message
    from kombu.transport import virtual

    assert list(inspect.signature(kombu_redis.QoS.pipe_or_acquire).parameters) == ["self", "pipe", "client"]
    assert "self._remove_from_indices(delivery_tag).execute()" in inspect.getsource(kombu_redis.QoS.ack)
    assert "self._quick_ack(delivery_tag)" in inspect.getsource(virtual.QoS.ack)
    assert "self._state = 'ACK'" in inspect.getsource(Message.ack) and "ACK" in ACK_STATES


def _unacked(client: redis.Redis) -> tuple[int, int]:
    """How many tags kombu's Redis QoS holds as unacknowledged: in its hash and in its time index."""
    return int(client.hlen("unacked")), int(client.zcard("unacked_index"))


@contextlib.contextmanager
def holding(app: Celery, count: int) -> Iterator[tuple[Any, list[Any]]]:
    """``count`` messages sent to ``ingest.done`` and received unacknowledged (prefetch ``count``) on
    one connection: ``(connection, messages)`` while it is open."""
    for i in range(count):
        send(app, TASK_DONE, f'{{"n": {i}}}')
    held: list[Any] = []
    with (
        app.connection_for_read() as conn,
        conn.Consumer(
            [app.amqp.queues[QUEUE_DONE]], callbacks=[lambda body, m: held.append(m)], accept=["json"]
        ) as consumer,
    ):
        consumer.qos(prefetch_count=count)
        while len(held) < count:
            conn.drain_events(timeout=5)
        yield conn, held


def test_a_batch_is_acknowledged_together_and_kombus_bookkeeping_agrees(redis_url: str) -> None:
    app = create_app("transport-test", redis_url)
    client = redis.Redis.from_url(redis_url)
    with holding(app, 5) as (conn, held):
        qos = conn.default_channel.qos
        assert qos.unacked_key == "unacked" and qos.unacked_index_key == "unacked_index"
        assert _unacked(client) == (5, 5)  # in flight: every message of the batch is held
        assert not qos.can_consume()  # the prefetch is used up

        broker.ack_together(held[:3])
        assert _unacked(client) == (2, 2)
        assert all(m.acknowledged for m in held[:3]) and not any(m.acknowledged for m in held[3:])
        assert qos.can_consume()  # kombu counts the three as acknowledged
        with pytest.raises(MessageStateError):
            broker.ack_together([held[3], held[0]])  # one already acknowledged: nothing is sent
        assert _unacked(client) == (2, 2) and not held[3].acknowledged

        broker.ack_together(held[3:])
        assert _unacked(client) == (0, 0)
        qos._flush()
        assert len(qos._delivered) == 0  # nothing left for kombu to restore at close
    assert queue_depth(app, QUEUE_DONE) == 0  # and nothing came back when the channel closed


def test_messages_not_acknowledged_together_come_back(redis_url: str) -> None:
    """A consumer gone mid-batch (its connection closed, its acknowledgement never sent): the whole
    batch is restored, the part acknowledged before is not."""
    app = create_app("transport-test", redis_url)
    client = redis.Redis.from_url(redis_url)
    with holding(app, 4) as (_, held):
        broker.ack_together(held[:1])
    assert _unacked(client) == (0, 0)
    assert sorted(body for _, body in queued(client, QUEUE_DONE)) == ['{"n": 1}', '{"n": 2}', '{"n": 3}']


def test_other_transports_acknowledge_one_by_one() -> None:
    app = create_app("transport-test", "memory://")
    send(app, TASK_DONE, '{"n": 0}')
    held: list[Any] = []
    with (
        app.connection_for_read() as conn,
        conn.Consumer(
            [app.amqp.queues[QUEUE_DONE]], callbacks=[lambda body, m: held.append(m)], accept=["json"]
        ),
    ):
        conn.drain_events(timeout=5)
        broker.ack_together(held)
        assert held[0].acknowledged


def test_the_acknowledgements_of_a_batch_are_one_transaction(redis_url: str) -> None:
    """What Redis is sent (``MONITOR``, this test's database only): one ``MULTI``, one ``ZREM`` and one
    ``HDEL`` naming every tag of the batch, one ``EXEC``; not a round trip per message."""
    app = create_app("transport-test", redis_url)
    client = redis.Redis.from_url(redis_url)
    db = client.connection_pool.connection_kwargs["db"]
    seen: list[str] = []
    with holding(app, 6) as (_, held), client.monitor() as monitor:
        broker.ack_together(held)
        client.echo("end-of-acks")
        while not seen or "end-of-acks" not in seen[-1]:
            command = monitor.next_command()
            if command["db"] == db and not command["command"].upper().startswith("SELECT"):
                seen.append(command["command"])  # (SELECT: the echoing client connecting)
    tags = {m.delivery_tag for m in held}
    commands = [c.split()[0].upper() for c in seen[:-1]]
    assert commands == ["MULTI", "ZREM", "HDEL", "EXEC"], seen
    for line in seen[1:3]:
        assert {word.strip('"') for word in line.split()[2:]} == tags
