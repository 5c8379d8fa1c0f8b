"""Filing a claimed file away once its fate is known: ``ingest.done`` → ``archive/`` or ``failed/``.

Why a kombu consumer thread (``shared.consumer.TaskConsumer``) and not a Celery worker inside the
ingest process: the watcher owns the main loop, and a Celery worker wants the main thread, its own
signal handlers and a pool. Filing a file away is a rename taking microseconds; one thread that
acknowledges each message after the rename gives the same at-least-once delivery with none of that,
and stops cleanly with the watcher on SIGTERM.

The handler is idempotent: a second ``DocumentDone`` for a file already filed away (a re-published
lease, a redelivered message) finds nothing in ``processing/`` and is only logged.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from structlog.contextvars import bound_contextvars

from services.ingest.spool import Spool, UnsafeName
from shared.errors import BadMessage
from shared.logging import get_logger
from shared.messages import DocumentDone, decode
from shared.metrics import Metrics

log = get_logger(__name__)


class DoneHandler:
    """Moves ``processing/<claim>`` to ``archive/`` (or deletes it) or to ``failed/`` with its note."""

    def __init__(self, spool: Spool, metrics: Metrics, *, delete_archived: bool = False) -> None:
        self.spool = spool
        self.metrics = metrics
        self.delete_archived = delete_archived
        self.last_heartbeat: float | None = None  # Unix time a heartbeat document last came all the way back

    def handle(self, payload: str) -> None:
        """Decode one ``DocumentDone`` and file the claimed file away (BadMessage: logged, dropped)."""
        try:
            done = decode(DocumentDone, payload)
        except BadMessage as exc:
            log.error("done.bad_message", error=str(exc))
            self.metrics.dead_letters.labels(stage="ingest", reason=exc.reason).inc()
            return
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
        log.info("heartbeat.returned", doc_id=done.doc_id, round_trip_seconds=round_trip)

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
            os.rename(source, self.spool.path("failed", done.claim))
            self.metrics.files_failed.labels(stage=stage, reason=reason).inc()
            log.warning("file.failed", stage=stage, reason=reason, detail=done.detail)
            return
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
