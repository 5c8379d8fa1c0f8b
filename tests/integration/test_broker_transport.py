"""``shared.broker``: kombu's Redis transport keeping one client per connection pool, on the real Redis."""

from __future__ import annotations

import pytest

from shared import broker
from shared.celery_app import QUEUE_DONE, TASK_DONE, create_app, queue_depth, send

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
