"""The enrich adapter: decode a ``DocumentReceived``, call ``enrich``, publish the result by task name.

``EnrichHandler`` is Celery-free (``dropwire run`` calls it from an in-process consumer);
``register(app, handler)`` wraps it as the Celery task ``TASK_ENRICH`` with late acks, bounded
redelivery and exponential backoff with jitter for transient errors (the broker away while publishing).
Errors are judged by the project's one policy (``shared.retry.failure_of``, which the batch pool uses
too): only transient ones are retried; a permanent one (bad input, a bug that raises the same way
every time) dead-letters the document at once, so its file goes to ``failed/`` with the reason.

The NER model is loaded once per worker process: ``ExtractorSlot.load()`` runs in Celery's
``worker_process_init`` (each prefork child) and lazily on first use otherwise (solo pool, embedded run).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery import Celery, Task
from structlog.contextvars import bound_contextvars

from services.enrich.enrichment import Extractor, enrich, failed, failure
from services.enrich.journey import with_enrich_steps
from shared.celery_app import (
    MAX_DELIVERIES,
    TASK_ENRICH,
    TASK_STORE,
    TASK_STORE_FAILURE,
    backoff_seconds,
    forget_redeliveries,
    redelivery_count,
    send,
    task_options,
)
from shared.errors import BadMessage, DependencyUnavailable, RetriesExhausted, TransientError
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentEnriched, DocumentReceived, decode
from shared.metrics import Metrics
from shared.retry import failure_of
from shared.settings import ProvenanceSettings

log = get_logger(__name__)

Send = Callable[[str, str], None]  # (task name, JSON payload)


class ExtractorSlot:
    """Holds the one extractor of this process, loaded on first need or at process start."""

    def __init__(self, loader: Callable[[], Extractor]) -> None:
        self._loader = loader
        self._extractor: Extractor | None = None
        self._lock = threading.Lock()

    def load(self) -> Extractor:
        with self._lock:
            if self._extractor is None:
                started = time.perf_counter()
                self._extractor = self._loader()
                log.info(
                    "ner.loaded",
                    pid=os.getpid(),
                    version=self._extractor.version,
                    seconds=round(time.perf_counter() - started, 3),
                )
            return self._extractor


class EnrichHandler:
    """Decode → enrich → publish ``DocumentEnriched`` to the store, or a failed ``DocumentDone``."""

    def __init__(
        self, extractor: ExtractorSlot, send: Send, metrics: Metrics, *, provenance: bool | None = None
    ) -> None:
        self.extractor = extractor
        self.send = send
        self.metrics = metrics
        self.provenance = ProvenanceSettings().provenance if provenance is None else provenance

    def decode(self, payload: str, task_id: str | None = None) -> DocumentReceived | None:
        try:
            return decode(DocumentReceived, payload)
        except BadMessage as exc:
            # Nothing to report to: without a claim no file can be named. The lease re-publishes it.
            log.error("enrich.bad_message", error=str(exc), task_id=task_id)
            self.metrics.dead_letters.labels(stage="enrich", reason=exc.reason).inc()
            return None

    def handle(self, payload: str) -> None:
        """Process one message; raises ``TransientError`` only when the result could not be published."""
        received = self.decode(payload)
        if received is None:
            return
        with bound_contextvars(doc_id=received.doc_id, claim=received.claim):
            self.process(received)

    def process(self, received: DocumentReceived) -> None:
        m = self.metrics
        counted = not received.heartbeat  # documents only: heartbeats go to dropwire_heartbeats_total
        if counted:
            m.tasks_started.labels(stage="enrich").inc()
            m.tasks_in_progress.labels(stage="enrich").inc()
        started = time.perf_counter()
        try:
            result = self.publish(received, started)
        except TransientError:
            if counted:  # handed back to be taken up again: started = completed + in progress holds
                m.tasks_completed.labels(stage="enrich", outcome="retry").inc()
            raise
        finally:
            if counted:
                m.tasks_in_progress.labels(stage="enrich").dec()
                m.task_duration.labels(stage="enrich").observe(time.perf_counter() - started)
        if isinstance(result, DocumentDone):
            self.dead_letter(result)
            return
        self.count(result)
        (log.debug if result.heartbeat else log.info)(  # heartbeats: DEBUG, not ~120 lines an hour
            "enrich.done",
            articles=len(result.articles),
            entities=sum(len(a.entities) for a in result.articles),
            warnings=len(result.warnings),
        )
        if result.warnings:
            # Layout drift: which kinds, and the first line concerned, to find the page by.
            first = result.warnings[0]
            log.warning(
                "enrich.parse_warnings",
                kinds=sorted({w.kind for w in result.warnings}),
                count=len(result.warnings),
                first_kind=first.kind,
                first_text=first.text,
                truncated=result.truncated,
            )

    def publish(self, received: DocumentReceived, started: float) -> DocumentEnriched | DocumentDone:
        """Enrich ``received`` and send the result to the store; the failed ``DocumentDone`` to
        dead-letter instead when any step fails permanently (``shared.retry.failure_of``: the input's
        fault, or a bug that would fail the same way at every attempt). A transient error (the broker
        away) is raised as ``TransientError`` for the task to retry."""
        started_at = datetime.now(UTC) if self.provenance else None
        try:
            result = enrich(received, self.extractor.load())
            if started_at is not None and not received.heartbeat:
                result = with_enrich_steps(result, started_at, time.perf_counter() - started)
            if isinstance(result, DocumentDone):
                return result
            self.send(TASK_STORE, result.to_json())
            return result
        except Exception as exc:
            if failure_of(exc).kind == "permanent":
                return failure(received, exc)
            if isinstance(exc, TransientError):
                raise
            raise DependencyUnavailable(f"enrich: {failure_of(exc).detail}") from exc

    def count(self, result: DocumentEnriched) -> None:
        m = self.metrics
        # A heartbeat's article is synthetic: it proves the pipeline moves but is not news to count.
        for article in () if result.heartbeat else result.articles:
            m.articles.labels(role=article.role).inc()
            for entity in article.entities:
                m.entities.labels(label=entity.label).inc()
        if result.heartbeat:
            m.heartbeats.labels(stage="enrich", outcome="ok").inc()
        else:
            m.parsed_documents.inc()
            if result.warnings:
                m.warned_documents.inc()
            for warning in result.warnings:
                m.parse_warnings.labels(kind=warning.kind).inc()
            m.tasks_completed.labels(stage="enrich", outcome="ok").inc()
        m.last_success.labels(stage="enrich").set(time.time())

    def dead_letter(self, done: DocumentDone) -> None:
        reason = done.reason or "internal"
        self.send(TASK_STORE_FAILURE, done.to_json())
        if done.heartbeat:  # an alarm of its own (the stage is broken), not a document's failure
            self.metrics.heartbeats.labels(stage="enrich", outcome="failed").inc()
        else:
            self.metrics.task_failures.labels(stage="enrich", reason=reason).inc()
            self.metrics.dead_letters.labels(stage="enrich", reason=reason).inc()
            self.metrics.tasks_completed.labels(stage="enrich", outcome="failed").inc()
        log.warning("enrich.failed", reason=reason, detail=done.detail)


def celery_sender(app: Celery) -> Send:
    def _send(task_name: str, payload: str) -> None:
        send(app, task_name, payload)

    return _send


def register(app: Celery, handler: EnrichHandler) -> Task:
    """Register ``TASK_ENRICH`` on ``app``: the thin Celery shell around ``handler``.

    Every line it logs carries the document's ``doc_id`` (which ingest also makes the task id), not
    Celery's task id under a key of its own: one correlation id from ingest through the store.
    """

    @app.task(name=TASK_ENRICH, bind=True, shared=False, **task_options())
    def enrich_document(self: Task, payload: str) -> None:
        request: Any = self.request
        received = handler.decode(payload, task_id=request.id)
        if received is None:
            return
        with bound_contextvars(doc_id=received.doc_id, claim=received.claim):
            delivery = request.delivery_info or {}
            redeliveries = redelivery_count(app, request.id, bool(delivery.get("redelivered")))
            if redeliveries > MAX_DELIVERIES:
                forget_redeliveries(app, request.id)  # a `failed retry` of these bytes starts afresh
                _give_up(
                    handler, received, RetriesExhausted("worker lost too often", redeliveries=redeliveries)
                )
                return
            try:
                handler.process(received)
            except TransientError as exc:
                if request.retries >= RETRY_LIMIT:
                    _give_up(
                        handler,
                        received,
                        RetriesExhausted("transient failures outlived the retries", error=str(exc)),
                    )
                    return
                handler.metrics.retries.labels(stage="enrich").inc()
                log.warning("enrich.retry", attempt=request.retries + 1, error=str(exc))
                raise self.retry(exc=exc, countdown=backoff_seconds(request.retries)) from exc

    return enrich_document


RETRY_LIMIT = task_options()["max_retries"]


def _give_up(handler: EnrichHandler, received: DocumentReceived, exc: RetriesExhausted) -> None:
    if not received.heartbeat:  # taken up to be dead-lettered: started, then completed as failed
        handler.metrics.tasks_started.labels(stage="enrich").inc()
    try:
        handler.dead_letter(failed(received, exc.reason, str(exc)))
    except TransientError:
        # The broker is still away: the file stays in processing/ and its lease re-publishes it.
        log.error("enrich.dead_letter_unsent", reason=exc.reason)
        if not received.heartbeat:
            handler.metrics.tasks_completed.labels(stage="enrich", outcome="retry").inc()
