"""The journey events the store writes (provenance): enrich's steps, carried in the messages, and the
store's own ``stored`` step, in the batch's own transaction; and the retention prune.

One row per step: a few rows per document next to its articles and mentions, by COPY on PostgreSQL and
one executemany on SQLite, so provenance adds no round trip per document.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.store import pgfast
from services.store.models import JourneyRow
from services.store.times import to_utc
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentEnriched, JourneyEvent

log = get_logger(__name__)

# Journey events past their retention are deleted this often (one indexed DELETE, after a batch).
PRUNE_SECONDS = 3600.0


def insert(
    conn: Connection,
    docs: Sequence[DocumentEnriched],
    done: Sequence[DocumentDone],
    failures: Sequence[DocumentDone],
    now: datetime,
    started: float,
) -> int:
    """Write the batch's journey events; how many. ``done`` is the outcome per doc, in order."""
    batch = {
        "batch": uuid.uuid4().hex[:8],
        "docs": len(docs),
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    at = to_utc(now)
    values: list[dict[str, Any]] = []
    for doc, out in zip(docs, done, strict=True):
        if doc.heartbeat:
            continue
        values.extend(_values(doc.doc_id, doc.claim, doc.journey))
        facts = {**batch, "outcome": "new" if out.outcome == "stored" else "repeat"}
        values.append(
            {"sha256": doc.doc_id, "claim": doc.claim, "kind": "stored", "at": at, "facts": json.dumps(facts)}
        )
    for failure in failures:
        values.extend(_values(failure.doc_id, failure.claim, failure.journey))
    if not values:
        return 0
    if conn.dialect.name == "postgresql":
        pgfast.copy_journey(conn, values)
    else:
        conn.execute(sa.insert(JourneyRow), values)
    return len(values)


def _values(sha: str | None, claim: str, events: Iterable[JourneyEvent]) -> list[dict[str, Any]]:
    return [
        {
            "sha256": sha,
            "claim": claim,
            "kind": e.kind,
            "at": to_utc(e.at),
            "facts": json.dumps(e.facts, ensure_ascii=False) if e.facts else None,
        }
        for e in events
    ]


def prune(engine: Engine, before: datetime) -> int:
    """Delete the journey events older than ``before``; how many went."""
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
        log.info("store.journey_pruned", events=gone, before=before.isoformat())
