"""What ``shared.broker``'s transport saves: CPU per message round trip, stock kombu Redis vs ours.

Both transports send the same Celery task messages to one queue of the real Redis and consume them
with acknowledgements (``acks_late``-like: ack after the callback), as the pipeline does. The figure
is this process's CPU time per message (publish + deliver + ack), measured in one run, alternating the
two transports so that a noisy neighbour hits both alike.
"""

from __future__ import annotations

import resource
from typing import Any

from celery import Celery

from shared.celery_app import QUEUE_DONE, TASK_DONE, create_app, send

# Messages per measured round; rounds alternate between the transports.
MESSAGES = 2_000
ROUNDS = 3
STOCK_TRANSPORT = "redis"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _round(app: Celery, count: int) -> float:
    """CPU seconds to publish ``count`` messages and consume (ack) them all."""
    payload = '{"n": 0, "filler": "' + "x" * 400 + '"}'  # about the size of a done message
    queue = app.amqp.queues[QUEUE_DONE]
    got = 0

    def on_message(body: Any, message: Any) -> None:
        nonlocal got
        got += 1
        message.ack()

    start = _cpu()
    for _ in range(count):
        send(app, TASK_DONE, payload)
    with (
        app.connection_for_read() as conn,
        conn.Consumer([queue], callbacks=[on_message], accept=["json"]) as c,
    ):
        c.qos(prefetch_count=1)
        while got < count:
            conn.drain_events(timeout=10)
    return _cpu() - start


def measure_transport(redis_url: str, messages: int = MESSAGES, rounds: int = ROUNDS) -> dict[str, float]:
    """Microseconds of CPU per message with kombu's stock Redis transport and with ``shared.broker``."""
    ours = create_app("bench-transport-ours", redis_url)
    stock = create_app("bench-transport-stock", redis_url)
    stock.conf.broker_transport = STOCK_TRANSPORT
    _round(ours, 100)  # connections, queue declaration, imports
    _round(stock, 100)
    best = {"ours": float("inf"), "stock": float("inf")}
    for _ in range(rounds):
        best["stock"] = min(best["stock"], _round(stock, messages))
        best["ours"] = min(best["ours"], _round(ours, messages))
    for app in (ours, stock):
        app.pool.force_close_all()
    stock_us, ours_us = best["stock"] / messages * 1e6, best["ours"] / messages * 1e6
    return {
        "broker_stock_us_per_msg": stock_us,
        "broker_ours_us_per_msg": ours_us,
        "broker_saving_pct": 100.0 * (stock_us - ours_us) / stock_us,
    }
