"""The spool's journal: the steps of a file's journey that happen outside the store's transaction.

Ingest claims, queues, re-publishes and files away; a file may fail before enrich ever sees it. Those
steps are appended, one JSON line per step group (``{"claim", "doc_id", "events": [...]}``), to
``<spool>/.journal/YYYY-MM-DD.jsonl`` in the same step that claims or moves the file: one ``write``
on a file opened for appending, no fsync, no message. Lines are far below ``PIPE_BUF``, so several
ingest replicas appending at once never interleave inside a line. Pruning deletes whole day files.

The store writes the rest (enrich's steps and its own) into ``journey_events``; ``dropwire trace``
(``shared.readmodel.journey``) reads both.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.logging import get_logger
from shared.messages import Fact, JourneyEvent, JourneyKind
from shared.settings import ProvenanceSettings

log = get_logger(__name__)

JOURNAL_DIR = ".journal"
SUFFIX = ".jsonl"
HOST = socket.gethostname()


def step(kind: JourneyKind, at: datetime | None = None, /, **facts: Fact) -> JourneyEvent:
    """One journey event (now, unless ``at`` is given)."""
    return JourneyEvent(kind=kind, at=at or datetime.now(UTC), facts=facts)


def here() -> dict[str, Fact]:
    """The facts that say which process took a step: host and pid."""
    return {"host": HOST, "pid": os.getpid()}


@dataclass(frozen=True)
class JournalLine:
    claim: str
    doc_id: str | None
    events: tuple[JourneyEvent, ...]


class Journal:
    """Append-only journal under ``<spool root>/.journal``."""

    def __init__(self, spool_root: Path) -> None:
        self.dir = spool_root / JOURNAL_DIR

    @classmethod
    def for_spool(cls, spool_root: Path, settings: ProvenanceSettings | None = None) -> Journal | None:
        """The spool's journal, or None when provenance is switched off."""
        settings = settings or ProvenanceSettings()
        return cls(spool_root) if settings.provenance else None

    def record(self, claim: str, events: Sequence[JourneyEvent], doc_id: str | None = None) -> None:
        """Append one line: ``events`` of the claim ``claim`` (of the bytes ``doc_id``, when known)."""
        if not events:
            return
        line = {
            "claim": claim,
            "doc_id": doc_id,
            "events": [{"kind": e.kind, "at": e.at.isoformat(), "facts": e.facts} for e in events],
        }
        data = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        path = self.dir / (events[-1].at.astimezone(UTC).date().isoformat() + SUFFIX)
        try:
            self._append(path, data)
        except OSError as exc:
            # Provenance is a record of the work, never a reason to stop it (a full disk, a read-only
            # spool): the file moves on, its journey misses this step, the log says why.
            log.warning("journal.not_written", claim=claim, error=repr(exc))

    def _append(self, path: Path, data: bytes) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except FileNotFoundError:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def lines(self) -> Iterator[JournalLine]:
        """Every line, oldest day first; a torn or foreign line is skipped."""
        try:
            days = sorted(p for p in self.dir.iterdir() if p.name.endswith(SUFFIX))
        except (FileNotFoundError, NotADirectoryError):
            return
        for day in days:
            with day.open(encoding="utf-8", errors="replace") as fh:
                for raw in fh:
                    parsed = _parse(raw)
                    if parsed is not None:
                        yield parsed

    def prune(self, retention_days: float, now: datetime | None = None) -> int:
        """Delete day files wholly older than the retention; how many went."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=retention_days)).date()
        gone = 0
        try:
            days = list(self.dir.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return 0
        for day in days:
            try:
                when = datetime.strptime(day.name.removesuffix(SUFFIX), "%Y-%m-%d").date()
            except ValueError:
                continue
            if when < cutoff:
                day.unlink(missing_ok=True)
                gone += 1
        return gone


def _parse(raw: str) -> JournalLine | None:
    try:
        data: Any = json.loads(raw)
        events = tuple(JourneyEvent.model_validate(e) for e in data["events"])
        return JournalLine(claim=str(data["claim"]), doc_id=data.get("doc_id"), events=events)
    except (ValueError, KeyError, TypeError):
        return None
