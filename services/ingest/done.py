"""Filing a claimed file away once its fate is known: ``ingest.done`` → ``archive/`` or ``failed/``.

Why a kombu consumer thread (``shared.consumer.TaskConsumer``) and not a Celery worker inside the
ingest process: the watcher owns the main loop, and a Celery worker wants the main thread, its own
signal handlers and a pool. Filing a file away is a rename taking microseconds; one thread that
acknowledges each message after the rename gives the same at-least-once delivery with none of that,
and stops cleanly with the watcher on SIGTERM.

The handler is idempotent: a second ``DocumentDone`` for a file already filed away (a re-published
lease, a redelivered message) finds nothing in ``processing/`` and is only logged. The store sends a
batch's outcomes as one ``DocumentsDone`` (``TASK_DONE_BATCH``): one delivery for the batch, each
file filed away as if its own message had come; redelivered, the ones already filed are only logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from structlog.contextvars import bound_contextvars

from shared.celery_app import TASK_DONE, TASK_DONE_BATCH
from shared.errors import BadMessage
from shared.journal import Journal, step
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentsDone, JourneyEvent, decode
from shared.metrics import Metrics
from shared.spool import Spool, UnsafeName

log = get_logger(__name__)


class DoneHandler:
    """Moves ``processing/<claim>`` to ``archive/`` (or deletes it) or to ``failed/`` with its note."""

    def __init__(self, spool: Spool, metrics: Metrics, *, delete_archived: bool = False) -> None:
        self.spool = spool
        self.metrics = metrics
        self.delete_archived = delete_archived
        self.journal = Journal.for_spool(spool.root)
        self.last_heartbeat: float | None = None  # Unix time a heartbeat document last came all the way back

    def handlers(self) -> dict[str, Callable[[str], None]]:
        """The handler per task name on ``ingest.done``, for a ``TaskConsumer``."""
        return {TASK_DONE: self.handle, TASK_DONE_BATCH: self.handle_batch}

    def handle(self, payload: str) -> None:
        """Decode one ``DocumentDone`` and file the claimed file away (BadMessage: logged, dropped)."""
        try:
            done = decode(DocumentDone, payload)
        except BadMessage as exc:
            self._bad_message(exc)
            return
        self.handle_done(done)

    def handle_batch(self, payload: str) -> None:
        """Decode a ``DocumentsDone`` and file each of its files away, in order.

        A file that cannot be filed away (an OS error) is logged and left in ``processing/``, where its
        lease brings it round again, and does not hold back the files after it.
        """
        try:
            batch = decode(DocumentsDone, payload)
        except BadMessage as exc:
            self._bad_message(exc)
            return
        for done in batch.items:
            try:
                self.handle_done(done)
            except OSError:
                log.exception("done.not_filed", claim=done.claim, doc_id=done.doc_id)

    def _bad_message(self, exc: BadMessage) -> None:
        log.error("done.bad_message", error=str(exc))
        self.metrics.dead_letters.labels(stage="ingest", reason=exc.reason).inc()

    def handle_done(self, done: DocumentDone) -> None:
        """File one claimed file away (a heartbeat only notes its return)."""
        if done.heartbeat:
            self.heartbeat_returned(done)
            return
        with bound_contextvars(doc_id=done.doc_id, claim=done.claim):
            try:
                self.file_away(done)
            except UnsafeName as exc:
                # A claim that would leave processing/: never turned into a path, only reported.
                log.error("done.unsafe_claim", error=str(exc))
                self.metrics.dead_letters.labels(stage="ingest", reason=exc.reason).inc()

    def heartbeat_returned(self, done: DocumentDone) -> None:
        """A heartbeat made the round trip: note when (no file exists for it, nothing is moved)."""
        now = time.time()
        round_trip = None if done.mtime is None else round(max(0.0, now - done.mtime.timestamp()), 3)
        if done.outcome == "failed":
            log.warning("heartbeat.failed", stage=done.stage, reason=done.reason, detail=done.detail)
            return
        self.last_heartbeat = now
        log.debug("heartbeat.returned", doc_id=done.doc_id, round_trip_seconds=round_trip)

    def file_away(self, done: DocumentDone) -> None:
        source = self.spool.path("processing", done.claim)
        if not os.path.lexists(source):
            log.info("done.already_filed", outcome=done.outcome)
            return
        now = datetime.now(UTC)
        if done.outcome == "failed":
            stage = done.stage or "store"
            reason = done.reason or "internal"
            self.spool.write_error(
                done.claim, stage=stage, reason=reason, detail=done.detail, doc_id=done.doc_id, at=now
            )
            self._journal(done, step("failed", now, stage=stage, reason=reason))
            os.rename(source, self.spool.path("failed", done.claim))
            self.metrics.files_failed.labels(stage=stage, reason=reason).inc()
            log.warning("file.failed", stage=stage, reason=reason, detail=done.detail)
            return
        self._journal(done, step("deleted" if self.delete_archived else "archived", now))
        if self.delete_archived:
            source.unlink(missing_ok=True)
        else:
            os.rename(source, self.spool.path("archive", done.claim))
        self.metrics.files_archived.labels(outcome=done.outcome).inc()
        if done.mtime is not None and not done.heartbeat:
            latency = max(0.0, (now - done.mtime).total_seconds())
            self.metrics.end_to_end_latency.observe(latency)
        else:
            latency = None
        self.metrics.last_success.labels(stage="ingest").set(now.timestamp())
        log.info("file.archived", outcome=done.outcome, deleted=self.delete_archived, latency_seconds=latency)

    def _journal(self, done: DocumentDone, event: JourneyEvent) -> None:
        """The filing-away step, journalled just before the move (a crash between the two leaves the
        file in processing/: its lease brings it round and the step is journalled again)."""
        if self.journal is not None:
            self.journal.record(done.claim, [event], done.doc_id)
