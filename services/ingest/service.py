# Over 400 lines on purpose: one class, the ingest loop, whose steps share its state (leases, the queue-depth cache, the heartbeat clock).
"""The ingest loop: watch the inbox, claim complete files, publish them, re-publish expired leases.

One thread runs ``IngestService.run``; the ``ingest.done`` consumer (``services.ingest.done``) runs
beside it. Files ingest itself cannot read or decode go straight to ``failed/`` with their reason and
are reported to the store's failure task so the failure table sees them too.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from structlog.contextvars import bound_contextvars

from services.ingest import claim as claims
from services.ingest.publisher import Publisher
from services.ingest.watcher import InboxWatcher
from shared.errors import (
    BadName,
    DependencyUnavailable,
    InternalError,
    NotARegularFile,
    PermanentError,
    RetriesExhausted,
)
from shared.journal import Journal, here, step
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentReceived, JourneyEvent
from shared.metrics import Metrics
from shared.settings import IngestSettings, ProvenanceSettings
from shared.spool import (
    Spool,
    UnsafeName,
    as_claim,
    escape_name,
    new_claim_name,
    original_name,
)

log = get_logger(__name__)

# How often expired leases and folder sizes are looked at: cheap scans, seconds are plenty.
HOUSEKEEPING_SECONDS = 2.0
# While the enrich queue is below its cap, its depth is asked of the broker at most this often; in
# between, ingest adds its own claims to the last answer. Each ask cost 1.35 ms of CPU through a fresh
# broker connection (measured; 0.21 ms now that it uses the pool), and under a backlog ingest asked
# about once per claimed file.
DEPTH_CHECK_SECONDS = 0.5
# A claimed file published this many times without its outcome coming back (lease after lease) goes to
# failed/ with reason retries_exhausted: a file the pipeline cannot finish is never re-published forever.
# Generous: under a long backlog an honest file may outlive a lease or two.
MAX_PUBLISHES = 6
# Old journal days are pruned this often: a directory listing and a few unlinks, once an hour is plenty.
JOURNAL_PRUNE_SECONDS = 3600.0
# The name heartbeat documents carry; no file of that name exists, ingest's done handler moves nothing.
HEARTBEAT_NAME = "dropwire-heartbeat"
# The heartbeat's page: one short article with a dateline, cheap to parse and to annotate.
HEARTBEAT_PAGE = "Hartslag van dropwire\nAMSTERDAM (DROPWIRE) - De pijplijn leeft; verstuurd om {at}.\n"


def heartbeat_message(now: datetime) -> DocumentReceived:
    """A synthetic document that goes through enrich and store to prove the pipeline moves.

    Its text carries the send time, so every heartbeat has its own ``doc_id``; ``mtime`` is the send
    time too, so whoever sees it come through can tell how long the trip took.
    """
    text = HEARTBEAT_PAGE.format(at=now.isoformat())
    data = text.encode("utf-8")
    return DocumentReceived(
        doc_id=hashlib.sha256(data).hexdigest(),
        claim=f"{HEARTBEAT_NAME}-{uuid.uuid4().hex[:8]}",
        name=HEARTBEAT_NAME,
        received_at=now,
        mtime=now,
        size=len(data),
        encoding="utf-8",
        text=text,
        heartbeat=True,
    )


@dataclass
class IngestService:
    spool: Spool
    settings: IngestSettings
    publisher: Publisher
    metrics: Metrics
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)

    def __post_init__(self) -> None:
        self.spool.ensure()
        self.journal = Journal.for_spool(self.spool.root, self.provenance)
        # Journey steps taken but not yet written to the journal (a lease ran out, a refusal): they go
        # with the next publish or failure of that claim, in one line.
        self.steps: dict[str, list[JourneyEvent]] = {}
        self._next_prune = 0.0
        self.watcher = InboxWatcher(
            self.spool.inbox,
            mode=self.settings.watch_mode,
            settle_seconds=self.settings.settle_seconds,
            poll_interval=self.settings.poll_interval,
            close_settle_seconds=self.settings.close_settle_seconds,
        )
        self.unpublished: set[str] = set()
        # When each claimed file was dropped (its mtime at claim time), for re-publishes by this process:
        # the lease overwrites the file's mtime. Pruned to what is still in processing/.
        self.dropped_at: dict[str, datetime] = {}
        self.pending: dict[str, None] = {}  # complete names waiting to be claimed, in arrival order
        self.publishes: dict[str, int] = {}  # times this process published each claim in processing/
        # Files that broke a step and could not even be moved to failed/: left where they are, skipped.
        self.skipped: set[tuple[str, str]] = set()
        self.ready = threading.Event()
        self.crashed: BaseException | None = None
        self._next_housekeeping = 0.0
        self._next_heartbeat = 0.0
        # The enrich queue's depth as last asked, when, and how many files this process queued since.
        self._depth: int | None = None
        self._depth_asked = 0.0
        self._queued_since = 0

    # ------------------------------------------------------------------ the loop

    def run(self, stop: threading.Event) -> None:
        """Watch and claim until ``stop`` is set. Files already in ``processing/`` wait for their lease.

        One file's trouble stays with that file (see ``contain``). Should the loop itself die, the
        error is kept in ``crashed`` (``/readyz`` then fails) and raised: the process exits non-zero
        and its supervisor restarts it, never a silent zombie that answers health checks.
        """
        try:
            self._run(stop)
        except BaseException as exc:
            self.crashed = exc
            log.critical("ingest.loop_died", error=repr(exc), exc_info=True)
            raise

    @property
    def alive(self) -> bool:
        return self.crashed is None

    def _run(self, stop: threading.Event) -> None:
        self.watcher.start()
        self._next_heartbeat = time.monotonic() + self.settings.heartbeat_seconds
        self.ready.set()
        try:
            while not stop.is_set():
                notice = self.watcher.poll(self.settings.poll_interval)
                self.pending.update(dict.fromkeys(notice.complete))
                room = self.room() if self.pending else 0
                while self.pending and room > 0 and not stop.is_set():
                    name = next(iter(self.pending))
                    del self.pending[name]
                    if ("inbox", name) in self.skipped:
                        continue
                    if self.contain("inbox", name, functools.partial(self.take, name)) is not None:
                        room -= 1
                if time.monotonic() >= self._next_housekeeping:
                    self._next_housekeeping = time.monotonic() + HOUSEKEEPING_SECONDS
                    self.housekeeping()
                if self.settings.heartbeat_seconds and time.monotonic() >= self._next_heartbeat:
                    self._next_heartbeat = time.monotonic() + self.settings.heartbeat_seconds
                    self.heartbeat()
        finally:
            self.watcher.stop()

    def contain(self, folder: str, name: str, step: Callable[[], str | None]) -> str | None:
        """Run one file's ``step``; whatever it raises concerns that file only.

        The file goes to ``failed/`` (reason ``bad_name`` when its name is what broke, else
        ``internal``) and the loop carries on. If even that move fails, the file is left where it is,
        skipped by this process with one error line, and counted.
        """
        try:
            return step()
        except DependencyUnavailable:
            raise
        except Exception as exc:  # any error: recorded with the file it concerns, below
            self.set_aside(folder, name, exc)
            return None

    def set_aside(self, folder: str, name: str, exc: Exception) -> None:
        shown = escape_name(name)
        bad_name = isinstance(exc, UnicodeError | UnsafeName) or (
            isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG
        )
        kind = BadName if bad_name else InternalError
        error = kind(f"{type(exc).__name__}: {exc}", name=shown)
        reason = error.reason
        log.error(
            "file.step_failed", folder=folder, name=shown, reason=reason, error=repr(exc), exc_info=True
        )
        self.pending.pop(name, None)
        self.unpublished.discard(name)
        try:
            claim_name = new_claim_name(name) if folder == "inbox" else as_claim(name)
            if not self._to_failed(self.spool.folder(folder) / name, claim_name, error):
                return
        except Exception as move_exc:  # the file stays put; this process leaves it alone from now on
            self.skipped.add((folder, name))
            self.metrics.task_failures.labels(stage="ingest", reason=reason).inc()
            log.error("file.skipped", folder=folder, name=shown, reason=reason, error=repr(move_exc))
            return
        self.fail(claim_name, error, None, noted=True)

    def room(self) -> int:
        """How many files may be claimed now: the enrich queue's free room under ``max_queue_depth``.

        The broker is asked at most every ``DEPTH_CHECK_SECONDS`` while there is room: in between, the
        last depth plus the files this process has queued since is an upper bound (enrich only takes
        away), so this process never claims past the cap; another replica's claims are seen at the next
        ask. Once that bound reaches the cap, the broker is asked every round, so claiming resumes as
        soon as enrich drains. An unknown depth (broker away) does not hold claiming back: publishing
        then fails and the claims wait in ``unpublished``.
        """
        cap = self.settings.max_queue_depth
        now = time.monotonic()
        if self._depth is not None and now < self._depth_asked + DEPTH_CHECK_SECONDS:
            bound = self._depth + self._queued_since
            if bound < cap:
                return cap - bound
        depth = self.publisher.backlog()
        self._depth, self._depth_asked, self._queued_since = depth, now, 0
        room = cap if depth is None else max(0, cap - depth)
        self.metrics.ingest_paused.set(1 if room == 0 else 0)
        if depth is not None:
            self.metrics.queue_depth.labels(queue="enrich").set(depth)
        return room

    def housekeeping(self) -> None:
        """Retry publishing what the broker refused, re-publish expired leases, refresh folder gauges."""
        for claim_name in sorted(self.unpublished):
            self.contain("processing", claim_name, functools.partial(self.publish, claim_name))
        for claim_name in claims.expired_leases(
            self.spool, lease_seconds=self.settings.lease_seconds, now=time.time()
        ):
            if ("processing", claim_name) in self.skipped:
                continue
            log.warning("lease.expired", claim=escape_name(claim_name))
            self.contain("processing", claim_name, functools.partial(self.republish, claim_name))
        in_processing = set(os.listdir(self.spool.processing))
        for claim_name in set(self.dropped_at) - in_processing:
            del self.dropped_at[claim_name]
        for claim_name in set(self.publishes) - in_processing:
            del self.publishes[claim_name]
        for claim_name in set(self.steps) - in_processing:
            del self.steps[claim_name]
        if self.journal is not None and time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + JOURNAL_PRUNE_SECONDS
            self.journal.prune(self.provenance.provenance_retention_days)
        for folder, count in self.spool.counts().items():
            self.metrics.files_waiting.labels(folder=folder).set(count)

    def heartbeat(self) -> None:
        """Send one heartbeat document to enrich (even while paused: it measures the pipeline's pace)."""
        message = heartbeat_message(datetime.now(UTC))
        try:
            self.publisher.received(message)
        except DependencyUnavailable as exc:
            # Not retried: the next one is due in one interval, and a missing one is what the age shows.
            log.warning("heartbeat.not_sent", error=str(exc))
            return
        log.debug("heartbeat.sent", doc_id=message.doc_id)

    # ------------------------------------------------------------------ one file

    def take(self, name: str) -> str | None:
        """Claim one inbox entry and publish it (or refuse it). Returns the claim name, if any."""
        entry = claims.inspect(self.spool.path("inbox", name))
        if entry.kind in ("gone", "dir"):
            return None
        self.metrics.files_detected.inc()
        if entry.kind != "file":
            refused = claims.refuse(self.spool, name)
            if refused is not None and self.journal is not None:
                self.steps[refused] = [step("claimed", **here())]
            if refused is not None:
                self.fail(refused, NotARegularFile(f"inbox entry is a {entry.kind}", kind=entry.kind), None)
            return refused
        claim_name = claims.claim(self.spool, name)
        if claim_name is None:
            log.info("file.claimed_elsewhere", name=escape_name(name))
            return None
        self.metrics.files_claimed.inc()
        self.metrics.ingested_bytes.inc(entry.size)
        if self.journal is not None:
            # Journalled at once, in the step that claimed it: an ingest killed before the publish
            # leaves a claim whose lease brings it round, and its journey still starts here.
            dropped = datetime.fromtimestamp(entry.mtime_ns / 1e9, UTC)
            self.journal.record(claim_name, [step("dropped", dropped), step("claimed", **here())])
        # Latency runs from when this ingest first saw the file, not from its mtime: a file moved in
        # with a years-old mtime must not record years of drop-to-stored latency.
        self.dropped_at[claim_name] = self.watcher.first_seen(name) or datetime.now(UTC)
        self.contain("processing", claim_name, lambda: self.publish(claim_name))
        return claim_name

    def republish(self, claim_name: str) -> str | None:
        """Publish a file whose lease ran out once more, or give up on it after ``MAX_PUBLISHES``.

        A claim left by an older version under a name that cannot travel (raw bytes, a backslash)
        is first renamed, within ``processing/``, to a claim this version makes.
        """
        fresh = as_claim(claim_name)
        if fresh != claim_name:
            os.rename(self.spool.path("processing", claim_name), self.spool.processing / fresh)
            log.warning("claim.renamed", claim=escape_name(claim_name), to=fresh)
            claim_name = fresh
        if self.publishes.get(claim_name, 0) >= MAX_PUBLISHES:
            self._give_up(claim_name)
            return None
        if self.journal is not None:
            lease = step("republished", publish=self.publishes.get(claim_name, 0) + 1, **here())
            self.steps.setdefault(claim_name, []).append(lease)
        self.publish(claim_name)
        return claim_name

    def _give_up(self, claim_name: str) -> None:
        exc = RetriesExhausted(
            f"published {MAX_PUBLISHES} times without an outcome coming back", claim=claim_name
        )
        if not self._to_failed(self.spool.path("processing", claim_name), claim_name, exc):
            return  # filed away meanwhile: its outcome came back after all
        self.publishes.pop(claim_name, None)
        self.fail(claim_name, exc, None, noted=True)

    def publish(self, claim_name: str) -> str | None:
        """Read a claimed file, start its lease and queue it; bad input goes to ``failed/``."""
        started = time.perf_counter()
        self.metrics.tasks_started.labels(stage="ingest").inc()
        self.metrics.tasks_in_progress.labels(stage="ingest").inc()
        try:
            self._publish(claim_name)
            return claim_name
        finally:
            self.metrics.tasks_in_progress.labels(stage="ingest").dec()
            self.metrics.task_duration.labels(stage="ingest").observe(time.perf_counter() - started)

    def _publish(self, claim_name: str) -> None:
        received_at = datetime.now(UTC)
        try:
            message = claims.read_claimed(
                self.spool,
                claim_name,
                max_bytes=self.settings.max_file_bytes,
                received_at=received_at,
                dropped_at=self.dropped_at.get(claim_name),
            )
        except FileNotFoundError:
            self.unpublished.discard(claim_name)
            return
        except PermanentError as exc:
            self.unpublished.discard(claim_name)
            if self._to_failed(self.spool.path("processing", claim_name), claim_name, exc):
                self.fail(claim_name, exc, None, noted=True)
            return
        with bound_contextvars(doc_id=message.doc_id, claim=claim_name):
            self.dropped_at[claim_name] = message.mtime
            try:
                claims.touch_lease(self.spool, claim_name)
            except FileNotFoundError:
                # Filed away between the read and now (a late outcome for an earlier publish).
                self.unpublished.discard(claim_name)
                return
            self.publishes[claim_name] = self.publishes.get(claim_name, 0) + 1
            try:
                self.publisher.received(message)
            except DependencyUnavailable as exc:
                self.unpublished.add(claim_name)
                self.metrics.retries.labels(stage="ingest").inc()
                log.warning("file.publish_deferred", error=str(exc))
                return
            self.unpublished.discard(claim_name)
            self._queued_since += 1
            if self.journal is not None:
                queued = step("queued", publish=self.publishes[claim_name])
                self.journal.record(claim_name, [*self.steps.pop(claim_name, ()), queued], message.doc_id)
            self.metrics.tasks_completed.labels(stage="ingest", outcome="ok").inc()
            self.metrics.last_success.labels(stage="ingest").set(time.time())
            log.info("file.claimed", name=message.name, size=message.size, encoding=message.encoding)

    def _to_failed(self, source: Path, claim_name: str, exc: PermanentError) -> bool:
        """Move ``source`` to ``failed/<claim_name>`` with its note; False (no note left) if it was gone.

        The note first, then the move: a crash in between leaves the file where it was (a lease brings it
        round again), never a file in failed/ without its reason.
        """
        note = self.spool.write_error(
            claim_name, stage="ingest", reason=exc.reason, detail=str(exc), doc_id=None
        )
        target = self.spool.path("failed", claim_name)
        try:
            os.rename(source, target)
        except FileNotFoundError:
            # Gone: another ingest replica failed the same claim first. Its note is the one just
            # rewritten here, and stays while its file is there.
            if not target.exists():
                note.unlink(missing_ok=True)
            return False
        return True

    def fail(self, claim_name: str, exc: PermanentError, doc_id: str | None, *, noted: bool = False) -> None:
        """A file already in ``failed/``: write its note (unless ``noted``), count it, and tell the store's
        failure table."""
        now = datetime.now(UTC)
        if not noted:
            self.spool.write_error(
                claim_name, stage="ingest", reason=exc.reason, detail=str(exc), doc_id=doc_id, at=now
            )
        if self.journal is not None:
            failed = step("failed", now, stage="ingest", reason=exc.reason, detail=str(exc)[:200])
            self.journal.record(claim_name, [*self.steps.pop(claim_name, ()), failed], doc_id)
        self.metrics.files_failed.labels(stage="ingest", reason=exc.reason).inc()
        self.metrics.task_failures.labels(stage="ingest", reason=exc.reason).inc()
        self.metrics.tasks_completed.labels(stage="ingest", outcome="failed").inc()
        log.warning("file.failed", claim=claim_name, stage="ingest", reason=exc.reason, detail=str(exc))
        done = DocumentDone(
            doc_id=doc_id,
            claim=claim_name,
            name=original_name(claim_name),
            outcome="failed",
            stage="ingest",
            reason=exc.reason,
            detail=str(exc),
            finished_at=now,
        )
        try:
            self.publisher.failed(done)
        except DependencyUnavailable as err:
            # The file and its note are in failed/ already; only the database row is missing.
            log.warning("file.failure_not_recorded", claim=claim_name, error=str(err))
