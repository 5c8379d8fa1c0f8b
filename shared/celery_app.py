"""The Celery app factory and the task names that make up the queue topology.

Producers send tasks *by name* (``send_task``), so no service imports another's code. Every task
takes one positional argument: the JSON text of a ``shared.messages`` record. Celery itself is held
to JSON: a pickled message is refused at the door.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue

QUEUE_ENRICH = "enrich"
QUEUE_STORE = "store"
QUEUE_DONE = "ingest.done"

TASK_ENRICH = "dropwire.enrich.document"
TASK_STORE = "dropwire.store.document"
TASK_STORE_FAILURE = "dropwire.store.failure"
TASK_DONE = "dropwire.ingest.done"

# enrich: DocumentReceived. store: DocumentEnriched. store.failure: a DocumentDone(outcome="failed")
# from any stage that gives up (the store records the failure row, then forwards it to ingest.done).
# ingest.done: DocumentDone, consumed by ingest, which files the claimed file away.
TASK_QUEUES = {
    TASK_ENRICH: QUEUE_ENRICH,
    TASK_STORE: QUEUE_STORE,
    TASK_STORE_FAILURE: QUEUE_STORE,
    TASK_DONE: QUEUE_DONE,
}

# Longer than the slowest task could ever run (a page is enriched in well under a second), so Redis
# never hands a message still being worked on to a second worker; short enough that a message whose
# worker died unseen comes back within the hour.
VISIBILITY_TIMEOUT_SECONDS = 3600
# A message whose worker died this many times is dead-lettered rather than redelivered again.
MAX_DELIVERIES = 5


def create_app(name: str, broker_url: str, **overrides: Any) -> Celery:
    """A Celery app wired for at-least-once delivery over Redis, JSON only."""
    app = Celery(name, broker=broker_url, set_as_current=False)
    exchange = Exchange("dropwire", type="direct")
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        # Ack only after the task body has run; a worker killed mid-task leaves the message queued.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(q, exchange, routing_key=q) for q in (QUEUE_ENRICH, QUEUE_STORE, QUEUE_DONE)],
        task_routes={task: {"queue": q, "routing_key": q} for task, q in TASK_QUEUES.items()},
        task_default_exchange="dropwire",
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    app.conf.update(overrides)
    return app
