"""The store's message handling, Celery-free: decoded messages in, ``DocumentDone`` outcomes out.

``StoreHandler.handle(items)`` writes one batch: the ``DocumentEnriched`` items are stored and the
failed ``DocumentDone`` items (dead letters from any stage) recorded, all in ONE transaction. It
returns, in input order, what to report to ``ingest.done``: ``stored``/``duplicate`` per document,
and each failure forwarded unchanged.

The Celery adapter (``services.store.task``) and the embedded single-process runner (``dropwire
run``, with an in-process queue) both call it; neither needs anything else from this package.

Errors:
* ``DependencyUnavailable`` (database down) propagates: nothing was written, the caller retries the
  same batch later and acknowledges nothing meanwhile.
* A batch the database refuses (``RejectedByDatabase``) is written again item by item, so one bad
  document cannot sink its neighbours; a document refused on its own becomes a failed
  ``DocumentDone(stage="store", reason="internal")`` with its failure row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from services.store.repository import BatchResult, RejectedByDatabase, Repository
from shared.celery_app import TASK_STORE, TASK_STORE_BATCH, TASK_STORE_FAILURE
from shared.errors import BadMessage, DropwireError
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentEnriched, DocumentsEnriched, decode
from shared.metrics import Metrics

log = get_logger(__name__)

STAGE = "store"
# Longest failure detail kept in the database and in NAME.error.json: enough for an exception message.
MAX_DETAIL_CHARS = 500

Item = DocumentEnriched | DocumentDone


def decode_item(task_name: str, payload: str | bytes) -> Item:
    """The message of one store-queue task, or ``BadMessage`` saying why it cannot be one."""
    if task_name == TASK_STORE:
        return decode(DocumentEnriched, payload)
    if task_name == TASK_STORE_FAILURE:
        done = decode(DocumentDone, payload)
        if done.outcome != "failed":
            raise BadMessage("a failure message whose outcome is not failed", outcome=done.outcome)
        return done
    raise BadMessage("unknown task on the store queue", task=task_name)


def decode_items(task_name: str, payload: str | bytes) -> list[Item]:
    """The documents of one store-queue message: one, or an enrich batch's (``TASK_STORE_BATCH``)."""
    if task_name == TASK_STORE_BATCH:
        return list(decode(DocumentsEnriched, payload).items)
    return [decode_item(task_name, payload)]


def undecodable_items(
    task_name: str | None, payload: object, error: DropwireError, now: datetime | None = None
) -> list[DocumentDone]:
    """``undecodable`` for each document of a message (a batch's items whose claims can be read)."""
    if task_name != TASK_STORE_BATCH:
        done = undecodable(payload, error, now)
        return [] if done is None else [done]
    try:
        data = json.loads(payload) if isinstance(payload, str | bytes) else None
    except ValueError:
        return []
    items = data.get("items") if isinstance(data, dict) else None
    out = [undecodable(json.dumps(item), error, now) for item in items] if isinstance(items, list) else []
    return [done for done in out if done is not None]


def undecodable(payload: object, error: DropwireError, now: datetime | None = None) -> DocumentDone | None:
    """A failed ``DocumentDone`` for a message that would not decode, if its claim can still be read.

    Without a claim no file can be named; the caller then logs, counts and drops the message (the
    ingest lease re-publishes a file whose message was lost).
    """
    try:
        data = json.loads(payload) if isinstance(payload, str | bytes) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("claim"), str) or not data["claim"]:
        return None
    doc_id = data.get("doc_id")
    valid_id = isinstance(doc_id, str) and len(doc_id) == 64 and all(c in "0123456789abcdef" for c in doc_id)
    name = data.get("name")
    return DocumentDone(
        doc_id=doc_id if valid_id else None,
        claim=data["claim"],
        name=name if isinstance(name, str) and name else data["claim"],
        outcome="failed",
        stage=STAGE,
        reason=error.reason,
        detail=str(error)[:MAX_DETAIL_CHARS],
        finished_at=now or datetime.now(UTC),
        heartbeat=data.get("heartbeat") is True,
    )


class StoreHandler:
    """Writes batches of decoded store-queue messages through a ``Repository``; counts what it did."""

    def __init__(self, repository: Repository, metrics: Metrics | None = None) -> None:
        self.repository = repository
        self.metrics = metrics
        self.last_heartbeat: float | None = None  # Unix time a heartbeat document last came through

    def handle(self, items: Sequence[Item]) -> list[DocumentDone]:
        """Store/record ``items`` in one transaction; the outcome to report for each, in input order."""
        if not items:
            return []
        started = time.perf_counter()
        # Documents only: heartbeats count in dropwire_heartbeats_total, not in the tasks_* counters.
        documents = sum(1 for i in items if isinstance(i, DocumentEnriched) and not i.heartbeat)
        self._count_started(documents)
        try:
            out = self._write(items)
        except BaseException:
            if self.metrics is not None:  # handed back whole, to be taken up again: reconciles started
                self.metrics.tasks_completed.labels(stage=STAGE, outcome="retry").inc(documents)
            raise
        finally:
            if self.metrics is not None:
                self.metrics.tasks_in_progress.labels(stage=STAGE).dec(documents)
        self._count_finished(items, out, time.perf_counter() - started)
        return out

    def _write(self, items: Sequence[Item]) -> list[DocumentDone]:
        docs = [i for i in items if isinstance(i, DocumentEnriched)]
        failures = [i for i in items if isinstance(i, DocumentDone)]
        try:
            result = self.repository.write(docs, failures)
        except RejectedByDatabase as exc:
            if len(items) == 1:
                return [self._refused(items[0], exc)]
            log.warning("store.batch_refused", items=len(items), error=str(exc))
            return [self._write([item])[0] for item in items]
        self._count_rows(result)
        outcomes = iter(result.done)
        return [next(outcomes) if isinstance(i, DocumentEnriched) else i for i in items]

    def _refused(self, item: Item, exc: RejectedByDatabase) -> DocumentDone:
        """The one item the database refused on its own: a failure row (if that can be written) instead."""
        done = DocumentDone(
            doc_id=item.doc_id,
            claim=item.claim,
            name=item.name,
            outcome="failed",
            stage=STAGE,
            reason=exc.reason,
            detail=str(exc)[:MAX_DETAIL_CHARS],
            mtime=item.mtime,
            finished_at=datetime.now(UTC),
            heartbeat=item.heartbeat,
        )
        log.error("store.document_refused", doc_id=item.doc_id, claim=item.claim, error=str(exc))
        try:
            self.repository.record_failure(done)
        except RejectedByDatabase as again:
            log.error("store.failure_not_recorded", doc_id=item.doc_id, claim=item.claim, error=str(again))
        return done

    # ------------------------------------------------------------------ metrics

    def _count_started(self, documents: int) -> None:
        """Enriched documents only: a failure passed on from enrich is recorded, not the store's work,
        and a heartbeat is not a document, so started = completed (ok + failed + retry) + in progress."""
        if self.metrics is None:
            return
        self.metrics.tasks_started.labels(stage=STAGE).inc(documents)
        self.metrics.tasks_in_progress.labels(stage=STAGE).inc(documents)

    def _count_rows(self, result: BatchResult) -> None:
        if self.metrics is None:
            return
        for table, rows in result.rows.items():
            self.metrics.store_rows.labels(table=table).inc(rows)
        self.metrics.duplicates.inc(result.duplicates)
        for kind, articles in result.stories.items():
            self.metrics.story_articles.labels(kind=kind).inc(articles)

    def _count_finished(self, items: Sequence[Item], out: Sequence[DocumentDone], seconds: float) -> None:
        if any(i.heartbeat for i in items if isinstance(i, DocumentEnriched)):
            self.last_heartbeat = time.time()
        m = self.metrics
        if m is None:
            return
        # The store's unit of work is the batch: one duration per transaction, sized by the histogram below.
        m.task_duration.labels(stage=STAGE).observe(seconds)
        m.store_batch_documents.observe(sum(1 for i in items if isinstance(i, DocumentEnriched)))
        for item, done in zip(items, out, strict=True):
            if isinstance(item, DocumentEnriched) and item.heartbeat:
                m.heartbeats.labels(stage=STAGE, outcome="failed" if done.outcome == "failed" else "ok").inc()
            elif isinstance(item, DocumentEnriched) and done.outcome != "failed":
                m.tasks_completed.labels(stage=STAGE, outcome="ok").inc()
            elif isinstance(item, DocumentEnriched):  # refused by the database: dead-lettered here
                m.tasks_completed.labels(stage=STAGE, outcome="failed").inc()
                m.task_failures.labels(stage=STAGE, reason=done.reason or "internal").inc()
                m.dead_letters.labels(stage=STAGE, reason=done.reason or "internal").inc()
        if any(d.outcome != "failed" for d in out):
            m.last_success.labels(stage=STAGE).set(time.time())
