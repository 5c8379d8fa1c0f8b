"""The store's write path: one batch of documents (and failure records) in ONE transaction.

The steps and the error classification are described in ``services.store.repository``; this module
holds them. ``BatchWriter`` is mixed into ``Repository``, which provides the engine, the clock, the
story index and the dialect's ``insert``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.store import journeydb, pgfast
from services.store.models import (
    ArticleRow,
    Document,
    EntityRow,
    Failure,
    Heartbeat,
    Mention,
)
from services.store.stories import profile
from services.store.storydb import Pending, StoryIndex, StoryRace
from services.store.times import to_utc
from shared.errors import DependencyUnavailable, PermanentError
from shared.logging import get_logger
from shared.messages import Article, DocumentDone, DocumentEnriched

log = get_logger(__name__)
_T = TypeVar("_T")

STAGE = "store"
# Entity look-ups by (label, name) are chunked to stay far below SQLite's 32,766 bound parameters.
LOOKUP_CHUNK = 500
# Failure reason for a document the database refused (bounded code from shared.errors.FAILURE_REASONS).
REJECTED_REASON = "internal"
# A batch that lost a story race runs again; each run sees the other worker's committed stories, so a
# second run normally succeeds. Past this many, the race is reported as transient (the caller backs off).
STORY_RACE_ATTEMPTS = 5


class RejectedByDatabase(PermanentError):
    """The database refused this data (constraint or data error): retrying it would fail again."""

    reason = REJECTED_REASON


def _warnings_json(doc: DocumentEnriched) -> str | None:
    """The document's parse warnings as stored: a JSON array, or None when there are none."""
    if not doc.warnings:
        return None
    return json.dumps([w.model_dump(mode="json") for w in doc.warnings], ensure_ascii=False)


def classify_error(exc: Exception, orig: BaseException | None, invalidated: bool) -> Exception:
    """Unreachable or lost database: transient. Anything else the database raised: it refused the data."""
    unreachable = ("OperationalError", "InterfaceError")
    names = {cls.__name__ for cls in type(orig).__mro__} if orig is not None else set()
    if (
        invalidated
        or names & set(unreachable)
        or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
    ):
        return DependencyUnavailable("database unavailable", error=type(orig).__name__)
    return RejectedByDatabase("database refused the batch", error=type(orig).__name__, detail=str(orig)[:300])


def _pending(doc: DocumentEnriched, article: Article) -> Pending:
    """What story matching needs of one article arriving in a batch."""
    line = article.dateline
    place = (line.resolved.name if line.resolved else line.place) if line else None
    return Pending(
        profile=profile(
            role=article.role,
            place=place,
            headline=article.headline,
            headline_version=article.headline_version,
            preamble=article.preamble,
            body=article.body,
            story_print=article.story_print,
        ),
        seen=to_utc(article.published_at or doc.received_at),  # type: ignore[arg-type]
        chars=len(article.body),
        headline=article.headline,
        place=place,
    )


def racing(action: Callable[[], _T]) -> _T:
    """``action`` (one transaction), run again when it lost a story race (see ``storydb``)."""
    for attempt in range(1, STORY_RACE_ATTEMPTS + 1):
        try:
            return action()
        except StoryRace as exc:
            if attempt == STORY_RACE_ATTEMPTS:
                raise
            log.info("store.story_race", attempt=attempt, error=str(exc))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class BatchResult:
    """What one ``write`` did: the outcome per document (input order) and rows inserted per table."""

    done: list[DocumentDone]
    rows: dict[str, int] = field(default_factory=dict)
    stories: dict[str, int] = field(default_factory=dict)  # articles stored as new | repeat | version

    @property
    def duplicates(self) -> int:
        return sum(1 for d in self.done if d.outcome == "duplicate")


class BatchWriter:
    """The write half of ``Repository``: ``write`` and the inserts it is made of."""

    engine: Engine
    stories: bool
    provenance: bool
    retention_days: float
    _next_prune: float
    _clock: Callable[[], datetime]
    _index: StoryIndex
    _insert: Callable[[Any], Any]
    _dbapi_error: type[Exception]

    def write(self, docs: Sequence[DocumentEnriched], failures: Sequence[DocumentDone] = ()) -> BatchResult:
        """Store ``docs`` and record ``failures`` in ONE transaction, idempotently."""
        # Signatures first, outside the transaction (and its story lock): computed here only for a
        # message without enrich's story print (an older producer).
        pending = {
            (d.doc_id, a.seq): _pending(d, a)
            for d in docs
            if not d.heartbeat and self.stories
            for a in d.articles
        }
        for p in pending.values():
            p.profile.prepare()
        started = time.perf_counter()
        result = racing(lambda: self._write_once(docs, failures, pending, started))
        if self.provenance and time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + journeydb.PRUNE_SECONDS
            journeydb.prune_quietly(self.engine, self._clock() - timedelta(days=self.retention_days))
        return result

    def _write_once(
        self,
        docs: Sequence[DocumentEnriched],
        failures: Sequence[DocumentDone],
        pending: dict[tuple[str, int], Pending],
        started: float,
    ) -> BatchResult:
        stories: dict[str, int] = {}
        try:
            with self.engine.begin() as conn:
                now = self._clock()
                done, rows = self._store_documents(conn, docs, now, stories, pending)
                rows["failures"] = self._insert_failures(conn, failures)
                if self.provenance:
                    rows["journey_events"] = journeydb.insert(conn, docs, done, failures, now, started)
        except sa.exc.DBAPIError as exc:
            raise classify_error(exc, exc.orig, exc.connection_invalidated) from exc
        except self._dbapi_error as exc:  # raised by the COPY fast path, below SQLAlchemy
            raise classify_error(exc, exc, False) from exc
        return BatchResult(done=done, rows=rows, stories=stories)

    def _store_documents(
        self,
        conn: Connection,
        docs: Sequence[DocumentEnriched],
        now: datetime,
        stories: dict[str, int],
        signatures: dict[tuple[str, int], Pending],
    ) -> tuple[list[DocumentDone], dict[str, int]]:
        rows = {"documents": 0, "articles": 0, "entities": 0, "mentions": 0}
        news: dict[str, DocumentEnriched] = {}
        for doc in docs:
            if not doc.heartbeat:
                news.setdefault(doc.doc_id, doc)
        if news and self.stories:
            # Before anything else: a lock taken after the documents' rows could wait on a worker that
            # waits on those rows (the same file delivered to both), a deadlock.
            self._index.lock(conn)
        beats = [doc for doc in docs if doc.heartbeat]
        if beats:
            self._record_heartbeat(conn, max(beats, key=lambda d: d.received_at), now)

        new_ids = self._insert_documents(conn, [news[k] for k in sorted(news)], now)
        rows["documents"] = len(new_ids)
        if new_ids:
            fresh = [news[sha] for sha in sorted(new_ids)]
            # Stories are matched in arrival order (a brief and its article, a version and the next).
            pending = [(d, a) for sha, d in news.items() if sha in new_ids for a in d.articles]
            assigned: dict[tuple[str, int], tuple[int, int]] = {}
            if self.stories:
                batch = [signatures[(d.doc_id, a.seq)] for d, a in pending]
                plan = self._index.plan(conn, batch)
                self._index.create_stories(conn, batch, plan)
                story_ids = plan.stories()
                for i, (d, a) in enumerate(pending):
                    assigned[(d.doc_id, a.seq)] = (story_ids[i], plan.assignments[i].version)
            article_ids = self._insert_articles(conn, fresh, new_ids, assigned)
            if self.stories:
                ids = [article_ids[(new_ids[d.doc_id], a.seq)] for d, a in pending]
                self._index.finish(conn, batch, plan, ids)
                stories.update(plan.counts())
            rows["articles"] = len(article_ids)
            entity_ids, rows["entities"] = self._upsert_entities(conn, fresh)
            rows["mentions"] = self._insert_mentions(conn, fresh, new_ids, article_ids, entity_ids)

        done: list[DocumentDone] = []
        claimed: set[str] = set()
        for doc in docs:
            outcome = "stored"
            if not doc.heartbeat:
                outcome = "stored" if doc.doc_id in new_ids and doc.doc_id not in claimed else "duplicate"
                claimed.add(doc.doc_id)
            done.append(
                DocumentDone(
                    doc_id=doc.doc_id,
                    claim=doc.claim,
                    name=doc.name,
                    outcome=outcome,
                    mtime=doc.mtime,
                    finished_at=now,
                    heartbeat=doc.heartbeat,
                )
            )
        return done, rows

    def _insert_documents(
        self, conn: Connection, docs: Sequence[DocumentEnriched], now: datetime
    ) -> dict[str, int]:
        if not docs:
            return {}
        values = [
            {
                "sha256": d.doc_id,
                "name": d.name,
                "size": d.size,
                "encoding": d.encoding,
                "section": d.section,
                "article_count": len(d.articles),
                "mtime": to_utc(d.mtime),
                "received_at": to_utc(d.received_at),
                "stored_at": to_utc(now),
                "parser_version": d.parser_version,
                "model_version": d.model_version,
                "parse_warnings": _warnings_json(d),
            }
            for d in docs
        ]
        stmt = (
            self._insert(Document)
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(Document.id, Document.sha256)
        )
        return {sha: doc_id for doc_id, sha in conn.execute(stmt, values)}

    def _insert_articles(
        self,
        conn: Connection,
        docs: Sequence[DocumentEnriched],
        doc_ids: dict[str, int],
        assigned: dict[tuple[str, int], tuple[int, int]],
    ) -> dict[tuple[int, int], int]:
        """Insert the articles, each with its story and version from ``assigned`` (none when absent)."""
        values = []
        for d in docs:
            for a in d.articles:
                story, version = assigned.get((d.doc_id, a.seq), (None, None))
                line = a.dateline
                resolved = line.resolved if line else None
                values.append(
                    {
                        "document_id": doc_ids[d.doc_id],
                        "seq": a.seq,
                        "role": a.role,
                        "section": a.section,
                        "headline": a.headline,
                        "preamble": a.preamble,
                        "place_raw": line.place if line else None,
                        "place": resolved.name if resolved else None,
                        "country": resolved.country if resolved else None,
                        "lat": resolved.lat if resolved else None,
                        "lon": resolved.lon if resolved else None,
                        "agencies": "/".join(line.agencies) if line and line.agencies else None,
                        "relative_time": a.relative_time,
                        "published_at": to_utc(a.published_at),
                        "subheads": "\n".join(a.subheads) if a.subheads else None,
                        "body": a.body,
                        "headline_version": a.headline_version,
                        "story_id": story,
                        "story_version": version,
                    }
                )
        if not values:
            return {}
        if conn.dialect.name == "postgresql":
            return pgfast.copy_articles(conn, values)
        stmt = sa.insert(ArticleRow).returning(ArticleRow.id, ArticleRow.document_id, ArticleRow.seq)
        return {(doc_id, seq): art_id for art_id, doc_id, seq in conn.execute(stmt, values)}

    def _upsert_entities(
        self, conn: Connection, docs: Sequence[DocumentEnriched]
    ) -> tuple[dict[tuple[str, str], int], int]:
        keys = sorted({(e.label, e.name) for d in docs for a in d.articles for e in a.entities})
        if not keys:
            return {}, 0
        if conn.dialect.name == "postgresql":
            return pgfast.upsert_entities(conn, keys)
        stmt = (
            self._insert(EntityRow)
            .on_conflict_do_nothing(index_elements=["label", "name"])
            .returning(EntityRow.id, EntityRow.label, EntityRow.name)
        )
        ids = {
            (label, name): ent_id
            for ent_id, label, name in conn.execute(stmt, [{"label": lb, "name": nm} for lb, nm in keys])
        }
        inserted = len(ids)
        missing = [k for k in keys if k not in ids]
        for start in range(0, len(missing), LOOKUP_CHUNK):
            chunk = missing[start : start + LOOKUP_CHUNK]
            query = sa.select(EntityRow.id, EntityRow.label, EntityRow.name).where(
                sa.tuple_(EntityRow.label, EntityRow.name).in_(chunk)
            )
            ids.update({(label, name): ent_id for ent_id, label, name in conn.execute(query)})
        return ids, inserted

    def _insert_mentions(
        self,
        conn: Connection,
        docs: Sequence[DocumentEnriched],
        doc_ids: dict[str, int],
        article_ids: dict[tuple[int, int], int],
        entity_ids: dict[tuple[str, str], int],
    ) -> int:
        values = [
            {
                "article_id": article_ids[(doc_ids[d.doc_id], a.seq)],
                "entity_id": entity_ids[(e.label, e.name)],
                "start_offset": e.start,
                "end_offset": e.end,
                "surface": e.text,
            }
            for d in docs
            for a in d.articles
            for e in a.entities
        ]
        if not values:
            return 0
        if conn.dialect.name == "postgresql":
            pgfast.copy_mentions(conn, values)
        else:
            conn.execute(sa.insert(Mention), values)
        return len(values)

    def _record_heartbeat(self, conn: Connection, beat: DocumentEnriched, now: datetime) -> None:
        values = {"stage": STAGE, "sha256": beat.doc_id, "seen_at": to_utc(now), "mtime": to_utc(beat.mtime)}
        stmt = self._insert(Heartbeat).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["stage"],
            set_={
                "sha256": stmt.excluded.sha256,
                "seen_at": stmt.excluded.seen_at,
                "mtime": stmt.excluded.mtime,
            },
        )
        conn.execute(stmt)

    def _insert_failures(self, conn: Connection, failures: Iterable[DocumentDone]) -> int:
        values = [
            {
                "sha256": f.doc_id,
                "claim": f.claim,
                "name": f.name,
                "stage": f.stage or STAGE,
                "reason": f.reason or REJECTED_REASON,
                "detail": f.detail,
                "failed_at": to_utc(f.finished_at),
            }
            for f in failures
        ]
        if not values:
            return 0
        stmt = (
            self._insert(Failure)
            .on_conflict_do_nothing(index_elements=["claim", "stage", "failed_at"])
            .returning(Failure.id)
        )
        return len(conn.execute(stmt, values).all())
