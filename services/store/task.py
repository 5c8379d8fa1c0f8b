"""The store's queue adapter: a batching consumer of the Celery queue ``store``.

Why not a plain Celery task, nor ``celery-batches``? A Celery task is one message per call, and the
store's whole point is many documents per transaction. ``celery-batches`` buffers requests inside the
worker, but it needs an unbounded prefetch (``worker_prefetch_multiplier=0``) and acknowledges on its
own schedule rather than strictly after our commit. So this module consumes the queue with kombu,
through the Celery app's own connection and queue declarations (the messages are the very Celery
protocol-2 task messages producers ``send_task`` by name), and owns the acknowledgement:

1. collect up to ``batch_size`` messages (written in transactions of at most ``batch_size``
   documents: an enrich batch's message holds several): after the first, take whatever else is
   already waiting, and stop at the first lull (``LULL_SECONDS`` without a message) or after ``batch_seconds``. A
   lone document is written at once (low latency at light load). While the upstream queue
   (``enrich``) holds at least a batch of documents, the pipeline is working off a backlog whose
   documents wait in that queue longer than a batch window: then the batch is not cut at a lull but
   filled for up to ``batch_seconds``, so the store spends its CPU on few large transactions instead
   of one per document, CPU the enrich workers on the same cores need. (Below that depth, at a steady
   high load, waiting would add the window to every document's latency for little CPU.) Prefetch =
   batch size: the broker never hands over more than a batch;
2. decode each (``TASK_STORE``: a ``DocumentEnriched``; ``TASK_STORE_BATCH``: an enrich batch's
   ``DocumentsEnriched``, several documents acknowledged together; ``TASK_STORE_FAILURE``: a failed
   ``DocumentDone``). An undecodable message is a permanent failure: its failure row goes into the
   same batch and a failed ``DocumentDone(reason="bad_message")`` to ``ingest.done`` when its claim
   can be read, else it is logged, counted and dropped (acknowledged) — never a crash loop;
3. ``StoreHandler.handle`` writes the batch in one transaction;
4. publish the outcomes to ingest, by name: one ``DocumentDone`` to ``TASK_DONE`` for a batch of
   one, else one ``DocumentsDone`` to ``TASK_DONE_BATCH`` (one message for the batch, not one per
   document: each message costs both ends a publish or a delivery; under a 600-file backlog this cut
   ingest's CPU per document from 2.1 to 1.7 ms and the store's from 1.5 to 1.25 ms, measured);
5. only then acknowledge the batch's messages, together: one Redis transaction removes them all from
   kombu's unacknowledged-message keys (``shared.broker.ack_together``), all or none.

A crash anywhere before 5 leaves the messages unacknowledged: Redis gives them back (at shutdown,
or after the visibility timeout) and the upsert on the content hash turns the second delivery into a
``duplicate``. Transient errors (database or broker down) are retried with exponential backoff and
full jitter (``shared.celery_app.backoff_seconds``), holding the unacknowledged batch; the count of
retries is unbounded on purpose while each wait is capped — a failure row cannot be written to a
database that is down, so giving up would lose the message. A stop request interrupts the wait and
leaves the batch to the broker. A message redelivered more than ``MAX_DELIVERIES`` times (its worker
keeps dying on it) is dead-lettered with reason ``retries_exhausted``.

No process fork happens here: ``--concurrency`` runs that many consumer threads, each with its own
broker connection, sharing one engine (whose pool hands each its own database connection).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from celery import Celery
from kombu.message import Message

from services.store.handler import Item, StoreHandler, decode_items, undecodable_items
from shared.broker import ack_together
from shared.celery_app import (
    MAX_DELIVERIES,
    QUEUE_ENRICH,
    TASK_DONE,
    TASK_DONE_BATCH,
    backoff_seconds,
    queue_depth,
    redelivery_count,
    send,
    task_argument,
)
from shared.consumer import consume_reconnecting
from shared.errors import BadMessage, RetriesExhausted, TransientError
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentsDone
from shared.metrics import Metrics
from shared.retry import Backoff, DependencyFailed

log = get_logger(__name__)

STAGE = "store"
# How long one drain waits for a message before checking the stop flag: bounds shutdown latency.
DRAIN_TIMEOUT_SECONDS = 0.5
# Once a batch has begun, this long without a further message means the queue is drained for now:
# write what we have. Long next to Redis's sub-millisecond hand-over of a waiting message, short next
# to a document's own cost (~50 ms of enrichment), so it adds almost nothing to latency.
LULL_SECONDS = 0.005

Send = Callable[[str, str], None]  # (task name, JSON payload)
_STOPPED = object()  # what a retried action "returns" when a stop interrupted its backoff


@dataclass
class _Received:
    message: Message
    task: str | None
    payload: str | None


class BatchConsumer:
    """Consumes queue ``store`` in batches until ``stopping`` is set (run it in a thread)."""

    def __init__(
        self,
        app: Celery,
        handler: StoreHandler,
        *,
        queue: str,
        batch_size: int,
        batch_seconds: float,
        metrics: Metrics,
        stopping: threading.Event,
        send: Send | None = None,
        upstream_queue: str | None = QUEUE_ENRICH,
    ) -> None:
        self.app = app
        self.handler = handler
        self.queue = queue
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.metrics = metrics
        self.stopping = stopping
        self.send: Send = send or (lambda task, payload: _send(app, task, payload))
        self.upstream_queue = upstream_queue  # whose backlog makes a batch wait to fill (see 1.)
        self.consuming = threading.Event()
        self.refused: DependencyFailed | None = None  # set when the broker refused us for good
        self._buffer: list[_Received] = []

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        """Consume until ``stopping`` is set, reconnecting whenever the broker goes away."""
        self.refused = consume_reconnecting(
            self.app,
            self.queue,
            stopping=self.stopping,
            consuming=self.consuming,
            on_message=self._on_message,
            on_decode_error=self._on_decode_error,
            prefetch=self.batch_size,
            serve=self._serve,
            events="store",
            on_lost=self._buffer.clear,  # unacknowledged: the broker hands them out again
        )
        if self.refused is not None:
            self.stopping.set()

    def _serve(self, conn: Any) -> None:
        log.info("store.consuming", queue=self.queue, batch_size=self.batch_size)
        while not self.stopping.is_set():
            batch = self._collect(conn)
            if batch:
                self._process(batch)

    def _on_message(self, body: Any, message: Message) -> None:
        self._buffer.append(_Received(message, (message.headers or {}).get("task"), task_argument(body)))

    def _on_decode_error(self, message: Message, exc: Exception) -> None:
        """A body that is not JSON (or a refused serializer such as pickle): nothing to recover a claim
        from. Logged, counted and dropped (acknowledged), never redelivered into a crash loop."""
        log.error(
            "store.message_dropped",
            reason="bad_message",
            content_type=message.content_type,
            task=(message.headers or {}).get("task"),
            error=str(exc)[:200],
        )
        self.metrics.dead_letters.labels(stage=STAGE, reason="bad_message").inc()
        self.metrics.task_failures.labels(stage=STAGE, reason="bad_message").inc()
        message.ack()

    def _collect(self, conn: Any) -> list[_Received]:
        """Up to ``batch_size`` messages: waits for the first, then takes those already waiting (see 1.)."""
        deadline: float | None = None
        lull = LULL_SECONDS
        while len(self._buffer) < self.batch_size and not self.stopping.is_set():
            now = time.monotonic()
            if deadline is None and self._buffer:
                deadline = now + self.batch_seconds
                lull = self.batch_seconds if self._upstream_busy() else LULL_SECONDS
                now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            timeout = DRAIN_TIMEOUT_SECONDS if deadline is None else min(lull, deadline - now)
            try:
                conn.drain_events(timeout=max(timeout, 0.001))
            except TimeoutError:
                if deadline is None and not self._buffer:
                    return []
                if deadline is not None:
                    break  # a lull: nothing more is waiting right now
        if self.stopping.is_set():
            self._buffer.clear()  # not processed: left unacknowledged for the broker to hand out again
            return []
        batch, self._buffer = self._buffer[: self.batch_size], self._buffer[self.batch_size :]
        return batch

    def _upstream_busy(self) -> bool:
        """Whether a batch or more of documents waits for enrich: a backlog, when batches wait to fill."""
        if self.upstream_queue is None:
            return False
        try:
            depth = queue_depth(self.app, self.upstream_queue)
        except Exception:  # not worth failing a batch over: write at the first lull, as at light load
            log.warning("store.upstream_depth_unknown", queue=self.upstream_queue, exc_info=True)
            return False
        return depth is not None and depth >= self.batch_size

    # ------------------------------------------------------------------ one batch

    def _process(self, batch: list[_Received]) -> None:
        items: list[Item] = []
        kept: list[_Received] = []  # the message of each item (an enrich batch's message: several)
        dropped: list[_Received] = []
        for received in batch:
            found = self._decode(received)
            if not found:
                dropped.append(received)
            items += found
            kept += [received] * len(found)
        try:
            outcomes = self._write(items)
        except Exception:
            # A bug, not the data's or the database's fault: isolate the message that triggers it.
            log.exception("store.batch_crashed", messages=len(batch))
            if len(batch) > 1:
                for received in batch:
                    self._process([received])
            else:
                self.stopping.wait(backoff_seconds(1))
                batch[0].message.requeue()  # counted as a redelivery: dead-lettered eventually
            return
        if outcomes is _STOPPED:
            return  # stopping: nothing acknowledged, the broker redelivers
        if outcomes:
            task, payload = done_message(outcomes)
            if self._retrying("publish", functools.partial(self.send, task, payload)) is _STOPPED:
                return
        ack_together({id(r): r.message for r in kept + dropped}.values())  # one round trip (see 5.)
        for done in outcomes:
            # One line per document, so a document's story can be grepped by doc_id across services
            # (doc_id, not the message's task id: a store message may carry a whole enrich batch).
            with structlog.contextvars.bound_contextvars(doc_id=done.doc_id):
                log.info("store.document", outcome=done.outcome, reason=done.reason, claim=done.claim)
        stored = sum(1 for d in outcomes if d.outcome == "stored")
        log.info(
            "store.batch", messages=len(batch), stored=stored, outcomes=len(outcomes), dropped=len(dropped)
        )

    def _write(self, items: list[Item]) -> Any:
        """``handler.handle`` in transactions of at most ``batch_size`` documents (a batch of enrich
        batch messages may hold more); ``_STOPPED`` when a stop interrupted a retry."""
        outcomes: list[DocumentDone] = []
        for start in range(0, len(items), self.batch_size) if items else [0]:
            part = self._retrying(
                "write", functools.partial(self.handler.handle, items[start : start + self.batch_size])
            )
            if part is _STOPPED:
                return _STOPPED
            outcomes += part
        return outcomes

    def _decode(self, received: _Received) -> list[Item]:
        """The items of one message (an enrich batch's: several); a failed DocumentDone for each that
        cannot be stored; none to drop it."""
        message = received.message
        try:
            if received.task is None or received.payload is None:
                raise BadMessage("not a dropwire task message", task=received.task)
            redelivered = bool((message.delivery_info or {}).get("redelivered"))
            task_id = (message.headers or {}).get("id")
            if redelivered and isinstance(task_id, str):
                count = redelivery_count(self.app, task_id, redelivered)
                if count > MAX_DELIVERIES:
                    raise RetriesExhausted("redelivered too often", redeliveries=count)
            return list(decode_items(received.task, received.payload))
        except (BadMessage, RetriesExhausted) as exc:
            self.metrics.dead_letters.labels(stage=STAGE, reason=exc.reason).inc()
            self.metrics.task_failures.labels(stage=STAGE, reason=exc.reason).inc()
            failures = undecodable_items(received.task, received.payload, exc)
            if not failures:
                log.error("store.message_dropped", task=received.task, reason=exc.reason, error=str(exc))
            for done in failures:
                log.error("store.message_failed", claim=done.claim, reason=exc.reason, error=str(exc))
            return list(failures)

    def _retrying(self, what: str, action: Callable[[], Any]) -> Any:
        """``action()`` retried on transient errors with capped exponential backoff and jitter.

        Returns ``_STOPPED`` when a stop was requested while waiting.
        """
        attempt = 0
        said = Backoff()  # only its clock: the first failure and then one line per half minute
        while True:
            try:
                return action()
            except TransientError as exc:
                delay = backoff_seconds(attempt)
                self.metrics.retries.labels(stage=STAGE).inc()
                if said.due_to_say():
                    log.warning(
                        "store.retry", action=what, attempt=attempt + 1, wait=round(delay, 2), error=str(exc)
                    )
                attempt += 1
                if self.stopping.wait(delay):
                    return _STOPPED


def done_message(outcomes: list[DocumentDone]) -> tuple[str, str]:
    """The task name and payload that tell ingest a batch's outcomes (see 4.)."""
    if len(outcomes) == 1:
        return TASK_DONE, outcomes[0].to_json()
    return TASK_DONE_BATCH, DocumentsDone(items=tuple(outcomes)).to_json()


def _send(app: Celery, task_name: str, payload: str) -> None:
    send(app, task_name, payload)
