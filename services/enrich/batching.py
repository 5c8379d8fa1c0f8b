"""The enrich queue consumer: documents in batches, enriched in a pool of forked worker processes.

Why not a Celery worker any more: a Celery task is one message, one hand-over from the prefork
parent to a child, one publish and one acknowledgement per document (BENCHMARKS.md, "where the time
goes", measured that moving a document cost 4.5 ms of CPU against 11.3 ms of enrichment). Here one
thread in the parent consumes the queue with kombu (the same Celery protocol-2 messages producers
``send_task`` by name, ``TASK_ENRICH``) and owns every acknowledgement:

1. messages collect in a buffer (prefetch: a batch per worker process, plus one). A batch is the
   messages waiting when a worker process is free, cut at ``batch_size`` or at the first lull
   (``LULL_SECONDS`` without a message), and shared among the processes free at that moment: a lone
   document goes at once, so at light load nothing waits for a batch to fill, and under a backlog
   the batches fill while the processes are busy;
2. a worker process decodes the batch, enriches it with one NER pass over all its articles
   (``enrichment.enrich_batch``) and returns the one store message (``DocumentsEnriched`` for
   several documents) and a failed ``DocumentDone`` for each that cannot be enriched (``pool.work``);
3. the parent publishes those (``TASK_STORE``/``TASK_STORE_BATCH``, ``TASK_STORE_FAILURE``),
   retrying a broker that is away with capped backoff, then acknowledges the batch's messages together.
   Errors are judged as the Celery pool judges them (``shared.retry.failure_of``): only transient
   ones are retried; a permanent one dead-letters the document at once, with its reason.

A worker process killed mid-batch breaks the pool: every batch in flight is put back on the queue
(unacknowledged, nothing published for it), a fresh pool is forked, and the redelivered documents
are enriched one per batch, so that a document that kills its process is isolated and, after
``MAX_DELIVERIES``, dead-lettered (``retries_exhausted``) without taking its neighbours along. The
parent killed: its unacknowledged messages come back after the visibility timeout. A document
published to the store twice (killed between publish and acknowledge) is stored once: the store's
upsert on the content hash makes the second a ``duplicate``. Worker processes are replaced after
``recycle_documents`` documents each (spaCy's string store and the allocator's arenas only grow).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from celery import Celery

from services.enrich.deliveries import (
    Batch,
    Delivery,
    as_delivery,
    count_handed_back,
    count_started,
    documents,
)
from services.enrich.enrichment import failed
from services.enrich.pool import BatchResult, Outcome, record, start_pool, work
from shared.broker import ack_together
from shared.celery_app import (
    MAX_DELIVERIES,
    QUEUE_ENRICH,
    TASK_ENRICH,
    TASK_STORE_FAILURE,
    backoff_seconds,
    forget_redeliveries,
    redelivery_count,
    task_argument,
)
from shared.celery_app import send as publish
from shared.consumer import consume_reconnecting
from shared.errors import BadMessage, RetriesExhausted
from shared.logging import get_logger
from shared.messages import DocumentReceived, decode
from shared.metrics import Metrics
from shared.retry import DependencyFailed, failure_of

log = get_logger(__name__)

STAGE = "enrich"
# Once a message is waiting, this long without another means the queue is drained for now: send the
# batch. Long next to Redis's hand-over of a waiting message, short next to a document's ~20 ms.
LULL_SECONDS = 0.005
# How long one wait for messages or results lasts while work is in flight (bounds added latency).
POLL_SECONDS = 0.005
# How long one drain waits for a message when idle, before checking the stop flag.
DRAIN_TIMEOUT_SECONDS = 0.5
# Batches in flight at a stop are finished (published, acknowledged) within this.
STOP_GRACE_SECONDS = 30.0

Send = Callable[[str, str], None]


class EnrichConsumer:
    """Consumes queue ``enrich`` in batches until ``stopping`` is set (run it in a thread)."""

    def __init__(
        self,
        app: Celery,
        *,
        workers: int,
        batch_size: int,
        metrics: Metrics,
        stopping: threading.Event,
        queue: str = QUEUE_ENRICH,
        send: Send | None = None,
        recycle_documents: int = 0,
        pool_factory: Callable[[int], Executor] = start_pool,
    ) -> None:
        self.app = app
        self.queue = queue
        self.workers = workers
        self.slots = max(1, workers)  # batches in flight at once
        self.batch_size = batch_size
        self.metrics = metrics
        self.stopping = stopping
        self.send: Send = send or functools.partial(publish, app)
        self.recycle_documents = recycle_documents
        self.pool_factory = pool_factory
        self.consuming = threading.Event()
        self.crashed: BaseException | None = None
        self.refused: DependencyFailed | None = None  # set when the broker refused us for good
        self._pool: Executor | None = None
        self._buffer: list[Delivery] = []
        self._inflight: dict[Future[BatchResult], Batch] = {}
        self._last_arrival = 0.0
        self._through = 0  # documents given to the current pool (for recycling)
        self._requeued: Counter[str] = Counter()  # task ids this consumer put back (memory:// marks none)

    # ------------------------------------------------------------------ the loop

    def start_pool(self) -> None:
        """Fork the worker processes now (call before other threads start, where that matters)."""
        if self._pool is None:
            self._pool = self.pool_factory(self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def alive(self) -> bool:
        """False once the loop died of an error (``/readyz`` reports it; the process should exit)."""
        return self.crashed is None and self.refused is None

    def run(self) -> None:
        """Consume until ``stopping`` is set, reconnecting whenever the broker goes away."""
        try:
            self._run()
        except BaseException as exc:
            self.crashed = exc
            log.critical("enrich.consumer_died", error=repr(exc), exc_info=True)
            raise

    def _run(self) -> None:
        self.start_pool()
        try:
            self.refused = consume_reconnecting(
                self.app,
                self.queue,
                stopping=self.stopping,
                consuming=self.consuming,
                on_message=self._on_message,
                on_decode_error=self._on_decode_error,
                prefetch=(self.slots + 1) * self.batch_size,
                serve=self._consume,
                events=STAGE,
                on_lost=self._hand_back,
            )
        finally:
            self.close()

    def _hand_back(self) -> None:
        """The connection is gone: what it delivered unacknowledged, the broker hands out again."""
        self._buffer.clear()
        count_handed_back(self.metrics, [d for b in self._inflight.values() for d in b.deliveries])
        self._inflight.clear()  # their results are dropped: nothing to acknowledge them on

    def _consume(self, conn: Any) -> None:
        log.info("enrich.consuming", queue=self.queue, workers=self.workers)
        while not self.stopping.is_set():
            self._finish_done()
            if self._submit_ready():
                continue
            if self._inflight and len(self._buffer) >= self.batch_size:
                wait(list(self._inflight), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                continue
            busy = bool(self._inflight or self._buffer)
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=POLL_SECONDS if busy else DRAIN_TIMEOUT_SECONDS)
        # Stopping: what is in flight is finished; what waits in the buffer is left to the broker.
        self._buffer.clear()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self._inflight and time.monotonic() < deadline:
            wait(list(self._inflight), timeout=1.0, return_when=FIRST_COMPLETED)
            self._finish_done()

    def _on_message(self, body: Any, message: Any) -> None:
        headers = message.headers or {}
        task, payload = headers.get("task"), task_argument(body)
        if task != TASK_ENRICH or payload is None:
            log.error("enrich.unknown_message", queue=self.queue, task=task)
            message.reject(requeue=False)
            return
        self._buffer.append(as_delivery(message, payload, self._requeued))
        self._last_arrival = time.monotonic()

    def _on_decode_error(self, message: Any, exc: Exception) -> None:
        """A body that is not JSON (or a refused serializer): logged, counted and dropped."""
        log.error("enrich.message_dropped", reason="bad_message", error=str(exc)[:200])
        self.metrics.dead_letters.labels(stage=STAGE, reason="bad_message").inc()
        message.ack()

    # ------------------------------------------------------------------ batches

    def _submit_ready(self) -> bool:
        """Hand a batch to a free worker process if one is ready (see 1.); True when one was."""
        if not self._buffer or len(self._inflight) >= self.slots or self._pool is None:
            return False
        if _broken(self._pool):  # a process died, perhaps while idle: fork a fresh pool first
            if not self._inflight:
                self._replace_pool()
            return False
        if self._recycle_due():
            self._recycle()
        full = len(self._buffer) >= self.batch_size
        if not (full or self._buffer[0].redelivered or time.monotonic() - self._last_arrival >= LULL_SECONDS):
            return False
        if self._buffer[0].redelivered:
            delivery = self._buffer.pop(0)
            if self._exhausted(delivery):
                return True
            batch = [delivery]  # alone: it may be what killed a worker process
        else:
            # What waits is shared among the free processes (nine waiting, two free: five and four).
            free = self.slots - len(self._inflight)
            limit = min(self.batch_size, -(-len(self._buffer) // free))
            size = 0
            while size < limit and not self._buffer[size].redelivered:
                size += 1
            batch, self._buffer = self._buffer[:size], self._buffer[size:]
        try:
            future = self._pool.submit(work, [d.payload for d in batch])
        except BrokenProcessPool:
            self._buffer[:0] = batch  # the pool broke just now: submitted again to a fresh one
            return False
        self._through += len(batch)
        count_started(self.metrics, batch)  # documents only: heartbeats are not tasks_*
        self._inflight[future] = Batch(batch)
        return True

    def _finish_done(self) -> None:
        for future in [f for f in self._inflight if f.done()]:
            batch = self._inflight.pop(future)
            error = future.exception()
            if error is not None:
                self._lost(batch, error)
            else:
                self.metrics.tasks_in_progress.labels(stage=STAGE).dec(documents(batch.deliveries))
                self._finish(batch, future.result())

    def _lost(self, batch: Batch, error: BaseException) -> None:
        """A batch whose worker process died, or whose work raised: back on the queue, unpublished.

        An error that is not a crash is judged by the one policy (``failure_of``): a permanent one
        would be raised again by the same document, so a batch of one is dead-lettered at once and a
        larger batch's documents go again one by one (marked redelivered), to fail alone.
        """
        if not isinstance(error, BrokenProcessPool) and len(batch.deliveries) == 1:
            judged = failure_of(error)
            if judged.kind == "permanent":
                log.error("enrich.batch_failed", error=repr(error))
                self.metrics.tasks_in_progress.labels(stage=STAGE).dec(documents(batch.deliveries))
                self._dead_letter(batch.deliveries[0], judged.reason, judged.detail)
                return
        log.error("enrich.batch_lost", documents=len(batch.deliveries), error=repr(error))
        count_handed_back(self.metrics, batch.deliveries)
        for delivery in batch.deliveries:
            if delivery.task_id is not None:
                self._requeued[delivery.task_id] += 1
            delivery.message.requeue()
        if _broken(self._pool) and not self._inflight and not self.stopping.is_set():
            self._replace_pool()

    def _finish(self, batch: Batch, result: BatchResult) -> None:
        if result.store is not None:
            try:
                if not self._publish(*result.store):
                    return self._unfinished(batch.deliveries)  # stopping: left for redelivery
            except Exception as exc:  # permanent (``_publish`` retries the rest): would fail again
                log.error("enrich.unpublishable", documents=len(batch.deliveries), exc_info=True)
                judged = failure_of(exc)
                for delivery in batch.deliveries:
                    self._dead_letter(delivery, judged.reason, judged.detail)
                return
        for payload in result.failures:
            if not self._publish(TASK_STORE_FAILURE, payload):
                return self._unfinished(batch.deliveries)
        ack_together(d.message for d in batch.deliveries)  # one Redis round trip for the batch
        for delivery in batch.deliveries:
            self._requeued.pop(delivery.task_id or "", None)
        share = result.seconds / max(1, len(batch.deliveries))
        for delivery, outcome in zip(batch.deliveries, result.outcomes, strict=True):
            if not delivery.heartbeat:
                self.metrics.task_duration.labels(stage=STAGE).observe(share)
            record(self.metrics, outcome, delivery.task_id, document=not delivery.heartbeat)
        log.info(
            "enrich.batch",
            documents=documents(batch.deliveries),  # heartbeats apart, as the tasks_* counters count
            heartbeats=len(batch.deliveries) - documents(batch.deliveries),
            seconds=round(result.seconds, 4),
            worker=result.pid,
        )

    def _exhausted(self, delivery: Delivery) -> bool:
        """Whether ``delivery`` was redelivered too often; then it is dead-lettered and acknowledged."""
        count = self._requeued.get(delivery.task_id or "", 0)
        if delivery.task_id is not None and (delivery.message.delivery_info or {}).get("redelivered"):
            count = max(count, redelivery_count(self.app, delivery.task_id, True))
        if count <= MAX_DELIVERIES:
            return False
        count_started(self.metrics, [delivery])  # ends in _dead_letter's record()
        self.metrics.tasks_in_progress.labels(stage=STAGE).dec(documents([delivery]))
        lost = RetriesExhausted("worker lost too often", redeliveries=count)
        forget_redeliveries(self.app, delivery.task_id or "")  # a `failed retry` of them starts afresh
        self._dead_letter(delivery, lost.reason, str(lost))
        return True

    def _dead_letter(self, delivery: Delivery, reason: str, detail: str) -> None:
        """A failed ``DocumentDone`` for ``delivery`` to the store, then its message acknowledged."""
        try:
            received = decode(DocumentReceived, delivery.payload)
        except BadMessage as exc:
            dropped = Outcome("dropped", reason=exc.reason, detail=str(exc))
            record(self.metrics, dropped, delivery.task_id, document=not delivery.heartbeat)
            delivery.message.ack()
            return
        done = failed(received, reason, detail)
        if not self._publish(TASK_STORE_FAILURE, done.to_json()):
            return self._unfinished([delivery])  # stopping: left unacknowledged
        delivery.message.ack()
        self._requeued.pop(delivery.task_id or "", None)
        outcome = Outcome("failed", doc_id=done.doc_id, claim=done.claim, reason=reason, detail=detail)
        record(self.metrics, outcome, delivery.task_id, document=not delivery.heartbeat)

    def _unfinished(self, deliveries: list[Delivery]) -> None:
        """Left unacknowledged at a stop (the broker hands them out again): completed as ``retry``."""
        self.metrics.tasks_completed.labels(stage=STAGE, outcome="retry").inc(documents(deliveries))

    # ------------------------------------------------------------------ pool and publishing

    def _recycle_due(self) -> bool:
        return (
            self.recycle_documents > 0
            and self.workers > 0
            and self._through >= self.recycle_documents * self.slots
        )

    def _recycle(self) -> None:
        """Fresh forks take the next batches; the old processes finish theirs, then exit."""
        log.info("enrich.recycling_workers", documents=self._through)
        old, self._pool = self._pool, self.pool_factory(self.workers)
        self._through = 0
        if old is not None:
            old.shutdown(wait=False)

    def _replace_pool(self) -> None:
        old, self._pool = self._pool, None
        if old is not None:
            old.shutdown(wait=True, cancel_futures=True)
        self._through = 0
        self._pool = self.pool_factory(self.workers)

    def _publish(self, task: str, payload: str) -> bool:
        """Publish, retrying a broker that is away; False when a stop interrupted the retries."""
        attempt = 0
        while True:
            try:
                self.send(task, payload)
                return True
            except Exception as exc:
                if failure_of(exc).kind == "permanent":
                    raise  # waiting changes nothing: the caller dead-letters (shared.retry.failure_of)
                delay = backoff_seconds(attempt)
                self.metrics.retries.labels(stage=STAGE).inc()
                log.warning("enrich.retry", attempt=attempt + 1, wait=round(delay, 2), error=str(exc))
                attempt += 1
                if self.stopping.wait(delay):
                    return False


def _broken(pool: Executor | None) -> bool:
    """Whether ``pool`` is a ``ProcessPoolExecutor`` one of whose processes died."""
    return bool(getattr(pool, "_broken", False))
