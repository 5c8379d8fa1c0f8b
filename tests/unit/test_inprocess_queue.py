"""``dropwire run``'s in-process queue: a waiting consumer is woken by a publish, not by a poll."""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any

import pytest
from kombu.transport import memory, virtual

from dropwire.embedded import IN_PROCESS_BROKER, IN_PROCESS_OVERRIDES
from dropwire.inprocess import Transport
from shared.celery_app import TASK_DONE, create_app, send
from shared.queues import QUEUE_DONE

pytestmark = pytest.mark.unit


def _consume_one(app: Any, timeout: float) -> tuple[list[str], float]:
    """Wait for one message on the done queue with one ``drain_events``; what came and how long it took."""
    got: list[str] = []
    with (
        app.connection_for_read() as conn,
        conn.Consumer(
            [app.amqp.queues[QUEUE_DONE]],
            callbacks=[lambda body, message: (got.append(body[0][0]), message.ack())],
            accept=["json"],
        ),
    ):
        publisher = threading.Timer(0.1, lambda: send(app, TASK_DONE, '{"n": 1}'))
        started = time.monotonic()
        publisher.start()
        try:
            conn.drain_events(timeout=timeout)
        finally:
            publisher.join()
        return got, time.monotonic() - started


def test_a_waiting_consumer_gets_a_message_as_soon_as_it_is_published() -> None:
    """Published 0.1 s into a wait, a message is delivered at once, not at the next look of a poll
    (kombu's own memory transport, polling every 2 s as set here, would deliver it after 2 s)."""
    app = create_app("inprocess-test", IN_PROCESS_BROKER, **IN_PROCESS_OVERRIDES)
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "polling_interval": 2.0}
    got, took = _consume_one(app, timeout=5.0)
    assert got == ['{"n": 1}']
    assert took < 1.0, took


def test_a_consumer_with_nothing_to_do_times_out() -> None:
    """No message within the timeout: ``TimeoutError``, as kombu's own drain raises."""
    app = create_app("inprocess-test", IN_PROCESS_BROKER, **IN_PROCESS_OVERRIDES)
    with (
        app.connection_for_read() as conn,
        conn.Consumer([app.amqp.queues["enrich"]], callbacks=[], accept=["json"]),
        pytest.raises(TimeoutError),
    ):
        conn.drain_events(timeout=0.2)


def test_the_kombu_methods_the_transport_overrides_keep_their_shape() -> None:
    """The transport replaces the virtual transport's ``drain_events`` and wraps the memory channel's
    ``_put``: if an upgrade of kombu changes either, this fails before ``dropwire run`` does."""
    assert issubclass(Transport, memory.Transport)
    assert list(inspect.signature(virtual.Transport.drain_events).parameters) == [
        "self",
        "connection",
        "timeout",
    ]
    source = inspect.getsource(virtual.Transport.drain_events)
    assert "get(self._deliver, timeout=timeout)" in source and "sleep(polling_interval)" in source
    assert list(inspect.signature(memory.Channel._put).parameters)[:3] == ["self", "queue", "message"]
