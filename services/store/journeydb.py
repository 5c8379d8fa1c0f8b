"""The journey steps the store writes (provenance): enrich's steps, carried in the messages, and the
store's own ``stored`` step, in the batch's own transaction; and the retention prune.

One row per document (its steps as a JSON array) next to its articles and mentions, by COPY on
PostgreSQL and one executemany on SQLite, so provenance adds no round trip per document. A row per
step cost the SQLite batch three times the rows and index updates for the same facts.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.store import pgfast
from services.store.models import JourneyRow
from services.store.times import to_utc
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentEnriched, Fact, JourneyEvent

log = get_logger(__name__)

# Journey rows past their retention are deleted this often (one indexed DELETE, after a batch).
PRUNE_SECONDS = 3600.0


def insert(
    conn: Connection,
    docs: Sequence[DocumentEnriched],
    done: Sequence[DocumentDone],
    failures: Sequence[DocumentDone],
    now: datetime,
    started: float,
) -> int:
    """Write the batch's journey rows; how many. ``done`` is the outcome per doc, in order."""
    at = to_utc(now)
    stamp = now.isoformat()
    batch: dict[str, Fact] = {
        "batch": uuid.uuid4().hex[:8],
        "docs": len(docs),
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    values: list[dict[str, Any]] = []
    for doc, out in zip(docs, done, strict=True):
        if doc.heartbeat:
            continue
        stored = {"kind": "stored", "at": stamp, "facts": {**batch, "outcome": _outcome(out)}}
        steps = [*map(_step, doc.journey), stored]
        values.append(_row(doc.doc_id, doc.claim, "stored", at, steps))
    for failure in failures:
        if failure.journey:
            last = failure.journey[-1]
            values.append(
                _row(
                    failure.doc_id, failure.claim, last.kind, to_utc(last.at), [*map(_step, failure.journey)]
                )
            )
    if not values:
        return 0
    if conn.dialect.name == "postgresql":
        pgfast.copy_journey(conn, values)
    else:
        conn.execute(sa.insert(JourneyRow), values)
    return len(values)


def _outcome(done: DocumentDone) -> str:
    return "new" if done.outcome == "stored" else "repeat"


def _step(event: JourneyEvent) -> dict[str, Any]:
    return {"kind": event.kind, "at": event.at.isoformat(), "facts": event.facts}


def _row(
    sha: str | None, claim: str, kind: str, at: datetime | None, steps: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "sha256": sha,
        "claim": claim,
        "kind": kind,
        "at": at,
        "steps": json.dumps(steps, ensure_ascii=False, separators=(",", ":")),
    }


def prune(engine: Engine, before: datetime) -> int:
    """Delete the journey rows older than ``before``; how many went."""
    with engine.begin() as conn:
        result = conn.execute(sa.delete(JourneyRow).where(JourneyRow.at < to_utc(before)))
    return int(result.rowcount or 0)


def prune_quietly(engine: Engine, before: datetime) -> None:
    """``prune``, logging instead of raising: the next batch meets the same trouble and reports it."""
    try:
        gone = prune(engine, before)
    except sa.exc.DBAPIError as exc:
        log.warning("store.journey_prune_failed", error=type(exc.orig).__name__)
        return
    if gone:
        log.info("store.journey_pruned", rows=gone, before=before.isoformat())
