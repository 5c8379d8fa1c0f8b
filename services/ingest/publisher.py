"""Where ingest sends its messages: the enrich queue, and the store's failure task for bad input.

Sent by task name through the Celery app (``shared.celery_app.send``), so the same publisher serves
the services over Redis and ``dropwire run`` over kombu's in-process ``memory://`` transport.
"""

from __future__ import annotations

from typing import Protocol

from celery import Celery

from shared.celery_app import QUEUE_ENRICH, TASK_ENRICH, TASK_STORE_FAILURE, queue_depth, send
from shared.messages import DocumentDone, DocumentReceived


class Publisher(Protocol):
    def received(self, message: DocumentReceived) -> None:
        """Queue a claimed file for enrich; ``DependencyUnavailable`` if that cannot be done now."""

    def failed(self, done: DocumentDone) -> None:
        """Report a file ingest gave up on, so the store records the failure row."""

    def backlog(self) -> int | None:
        """Messages waiting for enrich, or None if unknown."""


class CeleryPublisher:
    """``Publisher`` over a Celery app (Redis in production, ``memory://`` in ``dropwire run``)."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def received(self, message: DocumentReceived) -> None:
        # The task id is the doc_id: the one correlation id of logs, Flower and `celery inspect`.
        send(self.app, TASK_ENRICH, message.to_json(), task_id=message.doc_id, heartbeat=message.heartbeat)

    def failed(self, done: DocumentDone) -> None:
        send(self.app, TASK_STORE_FAILURE, done.to_json())

    def backlog(self) -> int | None:
        return queue_depth(self.app, QUEUE_ENRICH)
