"""A file's journey (provenance): one function that ``dropwire trace`` and the console's document page share.

The steps come from two places: ``journey_events`` in the database (enrich's steps, carried in its
messages, and the store's, written in the store's batch) and the spool's journal (ingest's steps:
claimed, queued, re-published, filed away, failed before enrich; ``shared.journal``). Each claim of
the bytes is a journey of its own: the same bytes dropped twice make two claims, shown apart. Where
the file is now comes from the spool's folders, so a file still in the inbox or in processing/ shows too.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.journal import Journal, JournalLine
from shared.messages import JOURNEY_KINDS, Fact, JourneyEvent
from shared.readmodel.schema import documents
from shared.spool import FOLDERS, escape_name, original_name

journey_events = sa.table(
    "journey_events",
    sa.column("sha256", sa.String),
    sa.column("claim", sa.String),
    sa.column("kind", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("steps", sa.String),
)
_SHA = re.compile(r"^[0-9a-f]{64}$")
# Position (1-based) of the original name inside a claim ``<8 hex>__<name>``.
_NAME_AT = 11
# Claims asked about in one query at most (far below any bound-parameter limit).
CHUNK = 500
_ORDER: dict[str, int] = {kind: i for i, kind in enumerate(JOURNEY_KINDS)}


@dataclass(frozen=True)
class Step:
    kind: str
    at: datetime
    facts: dict[str, Fact]
    since_previous: float | None  # seconds since the step before (None for the first)


@dataclass
class ClaimJourney:
    """One claim of the bytes (one drop of the file), its steps in time order and where it is now."""

    claim: str
    name: str
    doc_id: str | None
    folder: str | None  # inbox | processing | archive | failed, or None (deleted, or not in this spool)
    steps: list[Step] = field(default_factory=list)

    @property
    def total_seconds(self) -> float | None:
        return (self.steps[-1].at - self.steps[0].at).total_seconds() if self.steps else None


def trace(query: str, *, engine: Engine | None, spool_root: Path | None) -> list[ClaimJourney]:
    """The journeys of the file named ``query``, of the bytes with that sha256, or of that document id.

    ``engine`` or ``spool_root`` may be None (a console without the spool, a spool without the database):
    the journey is then told from what is at hand.
    """
    journal = list(Journal(spool_root).lines()) if spool_root is not None else []
    shas: set[str] = set()
    names: set[str] = set()
    if _SHA.match(query):
        shas.add(query)
    elif query.isdigit() and engine is not None:
        with engine.connect() as conn:
            sha = conn.execute(sa.select(documents.c.sha256).where(documents.c.id == int(query))).scalar()
        if sha:
            shas.add(sha)
    if not shas:
        names = {query, escape_name(query)}
    claims = {ln.claim for ln in journal if ln.doc_id in shas or original_name(ln.claim) in names}
    rows = _rows(engine, shas, claims, names)
    claims |= {r["claim"] for r in rows}
    shas |= {r["sha256"] for r in rows if r["sha256"]} | {
        ln.doc_id for ln in journal if ln.claim in claims and ln.doc_id
    }
    if shas - {r["sha256"] for r in rows}:
        rows = _rows(engine, shas, claims, set())
        claims |= {r["claim"] for r in rows}
    out = _assemble(claims, journal, rows, spool_root)
    if spool_root is not None:
        out.extend(_waiting(spool_root, names))
    return sorted(
        out, key=lambda j: (j.steps[0].at if j.steps else datetime.max.replace(tzinfo=UTC), j.claim)
    )


def journeys_of(
    claims: Iterable[str], *, engine: Engine | None, spool_root: Path | None
) -> list[ClaimJourney]:
    """The journeys of the given claims (the chaos run checks every file's this way)."""
    wanted = set(claims)
    journal = [ln for ln in Journal(spool_root).lines() if ln.claim in wanted] if spool_root else []
    ordered = sorted(wanted)
    rows = [
        r
        for i in range(0, len(ordered), CHUNK)
        for r in _rows(engine, set(), set(ordered[i : i + CHUNK]), set())
    ]
    return _assemble(wanted, journal, rows, spool_root)


def _assemble(
    claims: set[str], journal: list[JournalLine], rows: list[dict[str, Any]], spool_root: Path | None
) -> list[ClaimJourney]:
    """One journey per claim from the journal's lines and the database's rows (a step seen twice, once)."""
    events: dict[str, dict[tuple[str, datetime], dict[str, Fact]]] = {c: {} for c in claims}
    doc_ids: dict[str, str | None] = dict.fromkeys(claims)
    for ln in journal:
        if ln.claim in claims:
            doc_ids[ln.claim] = doc_ids[ln.claim] or ln.doc_id
            for e in ln.events:
                events[ln.claim].setdefault((e.kind, e.at), dict(e.facts))
    for r in rows:
        doc_ids[r["claim"]] = doc_ids[r["claim"]] or r["sha256"]
        for e in _decoded(r["steps"]):
            events[r["claim"]].setdefault((e.kind, e.at), dict(e.facts))
    return [
        ClaimJourney(c, original_name(c), doc_ids[c], _folder(spool_root, c), _steps(events[c].items()))
        for c in sorted(claims)
    ]


def _rows(engine: Engine | None, shas: set[str], claims: set[str], names: set[str]) -> list[dict[str, Any]]:
    if engine is None:
        return []
    t = journey_events.c
    where: list[sa.ColumnElement[bool]] = [t.sha256.in_(sorted(shas)), t.claim.in_(sorted(claims))]
    where += [sa.func.substr(t.claim, _NAME_AT) == n for n in sorted(names)]
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(journey_events).where(sa.or_(*where)))]
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []  # no journey table (a database before migration 0005): the spool's journal alone


def _decoded(steps: str) -> list[JourneyEvent]:
    """A row's steps; a row that does not parse (written by hand, cut short) gives none."""
    try:
        return [JourneyEvent.model_validate(e) for e in json.loads(steps)]
    except (ValueError, TypeError):
        return []


def _steps(items: Iterable[tuple[tuple[str, datetime], dict[str, Fact]]]) -> list[Step]:
    ordered = sorted(items, key=lambda kv: (kv[0][1], _ORDER.get(kv[0][0], 99)))
    steps: list[Step] = []
    for (kind, at), facts in ordered:
        since = (at - steps[-1].at).total_seconds() if steps else None
        steps.append(Step(kind, at, facts, since))
    return steps


def _folder(spool_root: Path | None, claim: str) -> str | None:
    if spool_root is None:
        return None
    for folder in ("processing", "archive", "failed"):
        if os.path.lexists(spool_root / folder / claim):
            return folder
    return None


def _waiting(spool_root: Path, names: set[str]) -> list[ClaimJourney]:
    """Files of that name still in the inbox: dropped, not yet claimed."""
    out = []
    for name in sorted(names):
        path = spool_root / FOLDERS[0] / name
        if "/" in name or not name or not path.is_file():
            continue
        dropped = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        out.append(ClaimJourney("", escape_name(name), None, "inbox", [Step("dropped", dropped, {}, None)]))
    return out


def as_records(journeys: list[ClaimJourney]) -> list[dict[str, Any]]:
    """One JSON-ready record per step (``dropwire trace --json``, the console's API)."""
    return [
        {
            "claim": j.claim,
            "name": j.name,
            "doc_id": j.doc_id,
            "folder": j.folder,
            "kind": s.kind,
            "at": s.at.isoformat(),
            "since_previous_seconds": s.since_previous,
            "facts": s.facts,
        }
        for j in journeys
        for s in j.steps
    ]
