"""What every route needs, built once at start-up: the read model, the spool, the broker, the guard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from services.console.security import Guard
from shared.queues import QUEUES
from shared.readmodel import Counts, FailureRecord, HeartbeatAge, RatePoint, ReadModel
from shared.readmodel.journey import ClaimJourney, trace
from shared.spool import Spool

# Minutes of history in the Overview's documents-per-minute chart.
RATE_MINUTES = 15


class QueueDepth(BaseModel):
    queue: str
    depth: int | None  # None: the broker could not be asked


class SpoolFailure(BaseModel):
    claim: str
    name: str
    stage: str | None
    reason: str | None
    detail: str | None
    time: str | None
    doc_id: str | None


class Overview(BaseModel):
    now: datetime
    folders: dict[str, int]
    queues: list[QueueDepth]
    counts: Counts | None
    database_error: str | None
    documents_per_minute: list[RatePoint]
    documents_per_second: float  # over the last RATE_MINUTES minutes
    heartbeats: list[HeartbeatAge]
    failures: list[SpoolFailure]
    recorded_failures: list[FailureRecord]


@dataclass
class Console:
    read: ReadModel
    spool: Spool
    guard: Guard
    broker: Any = None  # a Celery app on a Redis broker, or None (in-process broker of `dropwire run`)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def journeys(self, sha256: str) -> list[ClaimJourney]:
        """The document's journey, one per claim (the same function as ``dropwire trace``)."""
        return trace(sha256, engine=self.read.engine, spool_root=self.spool.root)

    def queue_depths(self) -> list[QueueDepth]:
        if self.broker is None:
            return [QueueDepth(queue=q, depth=None) for q in QUEUES]
        from shared.celery_app import queue_depth

        return [QueueDepth(queue=q, depth=queue_depth(self.broker, q)) for q in QUEUES]

    def spool_failures(self) -> list[SpoolFailure]:
        return [SpoolFailure(**entry) for entry in self.spool.failed_entries()]

    def overview(self) -> Overview:
        import sqlalchemy as sa

        now = datetime.now(UTC)
        counts, error, rate, beats, recorded = None, None, [], [], []
        try:
            counts = self.read.counts()
            rate = self.read.documents_per_minute(RATE_MINUTES, now)
            beats = self.read.heartbeats(now)
            recorded = self.read.recent_failures(5)
        except sa.exc.SQLAlchemyError as exc:  # a missing or unreachable database is shown, not a 500
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"[:300]
        return Overview(
            now=now,
            folders=self.spool.counts(),
            queues=self.queue_depths(),
            counts=counts,
            database_error=error,
            documents_per_minute=rate,
            documents_per_second=round(sum(p.documents for p in rate) / (RATE_MINUTES * 60), 3),
            heartbeats=beats,
            failures=self.spool_failures()[-10:],
            recorded_failures=recorded,
        )
