"""The names of the broker's queues: a leaf module, so that a reader of queue depths (``dropwire
status``, the console) can name them without importing Celery or the Prometheus client."""

from __future__ import annotations

QUEUE_ENRICH = "enrich"
QUEUE_STORE = "store"
QUEUE_DONE = "ingest.done"
QUEUES = (QUEUE_ENRICH, QUEUE_STORE, QUEUE_DONE)
