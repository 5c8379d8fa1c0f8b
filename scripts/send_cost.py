"""What one publish costs: ``shared.celery_app.send`` against Celery's ``send_task`` as it is called
by default (the queue declared on every publish, ``saferepr`` of the payload, the result backend's hook).

Both publish the same enrich-sized payload (about 2.7 kB of JSON) to the enrich queue of an
in-process ``memory://`` broker (as ``dropwire run``) and of a Redis database of its own (leased, as
the tests lease theirs); the two ways alternate ``rounds`` times in one process. Reported: CPU µs
per publish of this process, medians over the rounds (the Redis server's CPU is not counted).

    python scripts/send_cost.py [messages] [rounds]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

from celery import Celery

from dropwire.stack import leased_redis_db
from shared.celery_app import PUBLISH_RETRY_POLICY, TASK_ENRICH, TASK_QUEUES, create_app, send

REDIS = "redis://127.0.0.1:6379"
PAYLOAD = json.dumps({"doc_id": "0" * 64, "text": "AMSTERDAM (ANP) - Dit is een zin van een bericht. " * 50})


def celery_default(app: Celery) -> Callable[[str], None]:
    queue = TASK_QUEUES[TASK_ENRICH]

    def publish(task_id: str) -> None:
        app.send_task(
            TASK_ENRICH,
            args=[PAYLOAD],
            task_id=task_id,
            queue=queue,
            routing_key=queue,
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )

    return publish


def dropwire_send(app: Celery) -> Callable[[str], None]:
    return lambda task_id: send(app, TASK_ENRICH, PAYLOAD, task_id=task_id)


WAYS = {"celery_default": celery_default, "send": dropwire_send}


def measure(url: str, messages: int, rounds: int) -> dict[str, object]:
    app = create_app("send-cost", url)
    runs: dict[str, list[float]] = {way: [] for way in WAYS}
    for r in range(rounds):
        for way in WAYS if r % 2 == 0 else reversed(list(WAYS)):
            publish = WAYS[way](app)
            publish("warm-up")
            started = time.process_time()
            for n in range(messages):
                publish(f"{r}-{n}")
            runs[way].append(round((time.process_time() - started) * 1e6 / messages, 1))
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(TASK_QUEUES[TASK_ENRICH])
    return {"runs_us": runs, "median_us": {w: statistics.median(v) for w, v in runs.items()}}


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    out = {"memory": measure("memory://localhost/", messages, rounds)}
    with leased_redis_db(REDIS) as url:
        out["redis"] = measure(url, messages, rounds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
