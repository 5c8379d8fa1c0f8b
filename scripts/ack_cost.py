"""What acknowledging costs on the Redis transport: a batch's messages one by one against together.

Publishes ``messages`` task messages to a Redis database of its own (leased, as the tests lease
theirs), consumes them with kombu in batches the size of enrich's (prefetch of three batches), and
acknowledges each batch either message by message (``message.ack()``: kombu's one ``MULTI``/``EXEC``
round trip per message) or together (``shared.broker.ack_together``: one for the batch). The two
ways alternate, ``rounds`` times each, in one process; reported: CPU per message of the consuming
process and of the Redis server, medians over the rounds. Publishing is outside the measured span.

    python scripts/ack_cost.py [messages] [rounds] [batch]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

from dropwire.bench_pipeline import server_pids
from dropwire.bench_procs import own_cpu_seconds
from dropwire.stack import leased_redis_db
from shared.broker import ack_together
from shared.celery_app import QUEUE_ENRICH, TASK_ENRICH, create_app, send

REDIS = "redis://127.0.0.1:6379"
MODES = ("one_by_one", "together")


def consume(url: str, messages: int, batch: int, mode: str) -> tuple[float, float]:
    """CPU seconds of this process and of Redis while ``messages`` are consumed and acknowledged."""
    app = create_app("ack-cost", url)
    for n in range(messages):
        send(app, TASK_ENRICH, json.dumps({"n": n, "pad": "x" * 2000}))  # about an enrich message's size
    redis_pids = server_pids(url)["redis"]
    held: list[Any] = []
    done = 0
    with (
        app.connection_for_read() as conn,
        conn.Consumer(
            [app.amqp.queues[QUEUE_ENRICH]], callbacks=[lambda body, m: held.append(m)], accept=["json"]
        ) as consumer,
    ):
        consumer.qos(prefetch_count=3 * batch)
        own, server = time.process_time(), own_cpu_seconds(redis_pids)
        while done < messages:
            conn.drain_events(timeout=5)
            if len(held) >= batch or done + len(held) == messages:
                if mode == "together":
                    ack_together(held)
                else:
                    for message in held:
                        message.ack()
                done += len(held)
                held.clear()
        return time.process_time() - own, own_cpu_seconds(redis_pids) - server


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    figures: dict[str, dict[str, list[float]]] = {m: {"consumer_us": [], "redis_us": []} for m in MODES}
    with leased_redis_db(REDIS) as url:
        for r in range(rounds):
            for mode in MODES if r % 2 == 0 else reversed(MODES):
                own, server = consume(url, messages, batch, mode)
                figures[mode]["consumer_us"].append(own * 1e6 / messages)
                figures[mode]["redis_us"].append(server * 1e6 / messages)
    out = {
        mode: {k: round(statistics.median(v), 1) for k, v in f.items()}
        | {"rounds": {k: [round(x, 1) for x in v] for k, v in f.items()}}
        for mode, f in figures.items()
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
