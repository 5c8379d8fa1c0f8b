"""The store's pure core: batched, idempotent writes and the operators' queries. No Celery here.

One call to ``write`` is ONE transaction for a whole batch of documents (and failure records):

1. documents: one multi-row ``INSERT … ON CONFLICT (sha256) DO NOTHING RETURNING id, sha256``; a
   document whose hash comes back is new, any other is a ``duplicate`` (a redelivery, or the same
   bytes under another name) and gets no rows at all;
2. articles of the new documents: one multi-row insert returning their ids;
3. entities: ``ON CONFLICT (label, name) DO NOTHING RETURNING``, then one look-up for the ids of
   those that already existed;
4. mentions: one executemany insert;
5. stories (``services.store.storydb``): before the articles go in, each new article is matched to a
   story through the story index (or starts one), so its row is written with its ``story_id``; after,
   the stories' figures and the new index keys. A ``StoryRace`` (another worker indexed the same item
   meanwhile) rolls the batch back and runs it again, up to ``STORY_RACE_ATTEMPTS`` times.

Keys are inserted in sorted order so two workers writing overlapping entities lock rows in the same
order (no deadlocks). The same SQL runs on PostgreSQL and SQLite (``dialects.*.insert`` with
``on_conflict_do_nothing``); SQLAlchemy's "insertmanyvalues" turns each executemany into a few
multi-row statements, which is what makes a batch cost a handful of round trips instead of one per
row.

Heartbeat documents never become news rows: they upsert the one row of ``heartbeats`` for the
store stage (when it was seen, and the drop time it carried) and come back as ``stored``.

Errors: a database that cannot be reached (``OperationalError``, ``InterfaceError``) is raised as
``DependencyUnavailable`` (transient: retry the batch). Any other database error means this batch's
data was refused (e.g. a NUL byte in a text for PostgreSQL): it is raised as ``RejectedByDatabase``
(permanent) and the caller isolates the offending document by writing the batch one by one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from services.store.models import ArticleRow, Document, EntityRow, Failure, Heartbeat, Mention, Story
from services.store.stories import profile
from services.store.storydb import Pending, StoryIndex, StoryRace
from shared.errors import DependencyUnavailable, PermanentError
from shared.logging import get_logger
from shared.messages import Article, DocumentDone, DocumentEnriched

log = get_logger(__name__)
_T = TypeVar("_T")

STAGE = "store"
# Entity look-ups by (label, name) are chunked to stay far below SQLite's 32,766 bound parameters.
LOOKUP_CHUNK = 500
# Default page of `dropwire articles`: a screenful.
DEFAULT_ARTICLE_LIMIT = 20
# Failure reason for a document the database refused (bounded code from shared.errors.FAILURE_REASONS).
REJECTED_REASON = "internal"
# A batch that lost a story race runs again; each run sees the other worker's committed stories, so a
# second run normally succeeds. Past this many, the race is reported as transient (the caller backs off).
STORY_RACE_ATTEMPTS = 5
# Articles per transaction of `dropwire stories rebuild`: progress is committed at least this often.
REBUILD_CHUNK = 500
# Default page of `dropwire stories`.
DEFAULT_STORY_LIMIT = 20


_PG_INSERT_ENTITIES = sa.text(
    "INSERT INTO entities (label, name) "
    "SELECT label, name FROM unnest(CAST(:labels AS text[]), CAST(:names AS text[])) AS k(label, name) "
    "ORDER BY label, name ON CONFLICT (label, name) DO NOTHING RETURNING id, label, name"
)
_PG_SELECT_ENTITIES = sa.text(
    "SELECT e.id, e.label, e.name FROM entities e "
    "JOIN unnest(CAST(:labels AS text[]), CAST(:names AS text[])) AS k(label, name) USING (label, name)"
)


class RejectedByDatabase(PermanentError):
    """The database refused this data (constraint or data error): retrying it would fail again."""

    reason = REJECTED_REASON


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC for storage: SQLite keeps no zone, so everything is written in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """A time read back from either backend, as aware UTC (SQLite hands back naive UTC)."""
    return _utc(value)


def _warnings_json(doc: DocumentEnriched) -> str | None:
    """The document's parse warnings as stored: a JSON array, or None when there are none."""
    if not doc.warnings:
        return None
    return json.dumps([w.model_dump(mode="json") for w in doc.warnings], ensure_ascii=False)


def _classify(exc: Exception, orig: BaseException | None, invalidated: bool) -> Exception:
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
        ),
        seen=_utc(article.published_at or doc.received_at),  # type: ignore[arg-type]
        chars=len(article.body),
        headline=article.headline,
        place=place,
    )


@dataclass(frozen=True)
class BatchResult:
    """What one ``write`` did: the outcome per document (input order) and rows inserted per table."""

    done: list[DocumentDone]
    rows: dict[str, int] = field(default_factory=dict)
    stories: dict[str, int] = field(default_factory=dict)  # articles stored as new | repeat | version

    @property
    def duplicates(self) -> int:
        return sum(1 for d in self.done if d.outcome == "duplicate")


@dataclass(frozen=True)
class Counts:
    documents: int
    articles: int
    entities: int
    mentions: int
    failures: int


@dataclass(frozen=True)
class FailureView:
    sha256: str | None
    claim: str
    name: str
    stage: str
    reason: str
    detail: str | None
    failed_at: datetime


@dataclass(frozen=True)
class WarnedDocument:
    """A stored document the parser had warnings about (layout drift)."""

    sha256: str
    name: str
    stored_at: datetime
    warnings: list[dict[str, Any]]  # {kind, text, article} as the parser gave them


@dataclass(frozen=True)
class ArticleView:
    id: int
    sha256: str
    document_name: str
    seq: int
    role: str
    section: str | None
    headline: str | None
    place_raw: str | None
    place: str | None
    country: str | None
    lat: float | None
    lon: float | None
    agencies: tuple[str, ...]
    relative_time: str | None
    published_at: datetime | None
    body: str
    headline_version: int | None = None
    story_id: int | None = None  # None until assigned (rows stored before stories: `stories rebuild`)
    story_version: int | None = None


@dataclass(frozen=True)
class EntityCount:
    label: str
    name: str
    mentions: int
    articles: int
    stories: int  # distinct stories (an article not yet in a story counts as its own)


@dataclass(frozen=True)
class StoryView:
    """One story as the operator sees it."""

    id: int
    headline: str | None
    place: str | None
    first_seen: datetime
    last_seen: datetime
    sightings: int
    versions: int
    fullest_article_id: int | None
    newest_article_id: int | None


@dataclass(frozen=True)
class RebuildProgress:
    """Where ``rebuild_stories`` is: articles assigned so far of those that had no story at the start."""

    assigned: int
    total: int
    new_stories: int


@dataclass(frozen=True)
class HeartbeatView:
    sha256: str
    seen_at: datetime
    mtime: datetime


def _article_view(r: Any) -> ArticleView:
    """One ``articles`` row (joined with its document's sha256 and name) as an ``ArticleView``."""
    return ArticleView(
        id=r.id,
        sha256=r.sha256,
        document_name=r.document_name,
        seq=r.seq,
        role=r.role,
        section=r.section,
        headline=r.headline,
        place_raw=r.place_raw,
        place=r.place,
        country=r.country,
        lat=r.lat,
        lon=r.lon,
        agencies=tuple(r.agencies.split("/")) if r.agencies else (),
        relative_time=r.relative_time,
        published_at=_aware(r.published_at),
        body=r.body,
        headline_version=r.headline_version,
        story_id=r.story_id,
        story_version=r.story_version,
    )


class Repository:
    """Reads and writes the store's tables through one engine (one per process; never across fork)."""

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = utcnow, *, stories: bool = True
    ) -> None:
        self.engine = engine
        self._clock = clock
        self.stories = stories  # assign stories as articles are stored (off: only for the benchmark)
        self._index = StoryIndex(engine.dialect.name)
        self._insert: Callable[[Any], Any] = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    # ------------------------------------------------------------------ writes

    def store(self, docs: Sequence[DocumentEnriched]) -> list[DocumentDone]:
        """Store a batch in one transaction; one ``stored``/``duplicate`` outcome per input, in order."""
        return self.write(docs).done

    def record_failure(self, done: DocumentDone) -> None:
        """Record one dead-lettered document (idempotent on claim, stage and time)."""
        self.write((), failures=(done,))

    def write(self, docs: Sequence[DocumentEnriched], failures: Sequence[DocumentDone] = ()) -> BatchResult:
        """Store ``docs`` and record ``failures`` in ONE transaction, idempotently."""
        # Signatures first, outside the transaction (and its story lock): they are the CPU-heavy part.
        pending = {
            (d.doc_id, a.seq): _pending(d, a)
            for d in docs
            if not d.heartbeat and self.stories
            for a in d.articles
        }
        for p in pending.values():
            p.profile.lookup_keys()
        return self._racing(lambda: self._write_once(docs, failures, pending))

    def _racing(self, action: Callable[[], _T]) -> _T:
        """``action`` (one transaction), run again when it lost a story race (see ``storydb``)."""
        for attempt in range(1, STORY_RACE_ATTEMPTS + 1):
            try:
                return action()
            except StoryRace as exc:
                if attempt == STORY_RACE_ATTEMPTS:
                    raise
                log.info("store.story_race", attempt=attempt, error=str(exc))
        raise AssertionError("unreachable")

    def _write_once(
        self,
        docs: Sequence[DocumentEnriched],
        failures: Sequence[DocumentDone],
        pending: dict[tuple[str, int], Pending],
    ) -> BatchResult:
        stories: dict[str, int] = {}
        try:
            with self.engine.begin() as conn:
                now = self._clock()
                done, rows = self._store_documents(conn, docs, now, stories, pending)
                rows["failures"] = self._insert_failures(conn, failures)
        except sa.exc.DBAPIError as exc:
            raise _classify(exc, exc.orig, exc.connection_invalidated) from exc
        except self._dbapi_error as exc:  # raised by the COPY fast path, below SQLAlchemy
            raise _classify(exc, exc, False) from exc
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
                for i, (d, a) in enumerate(pending):
                    assigned[(d.doc_id, a.seq)] = (plan.story_of(i), plan.assignments[i].version)
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
                "mtime": _utc(d.mtime),
                "received_at": _utc(d.received_at),
                "stored_at": _utc(now),
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
                        "published_at": _utc(a.published_at),
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
            return self._copy_articles(conn, values)
        stmt = sa.insert(ArticleRow).returning(ArticleRow.id, ArticleRow.document_id, ArticleRow.seq)
        return {(doc_id, seq): art_id for art_id, doc_id, seq in conn.execute(stmt, values)}

    @staticmethod
    def _copy_articles(conn: Connection, values: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
        """PostgreSQL: take the ids from the table's sequence in one query, then COPY the rows with them
        (bodies make articles the heaviest rows; COPY moves them without per-row statement overhead)."""
        ids = (
            conn.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, :n)"
                ),
                {"n": len(values)},
            )
            .scalars()
            .all()
        )
        columns = ("id", *(c.name for c in ArticleRow.__table__.columns if c.name != "id"))
        raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
        with raw.cursor() as cursor, cursor.copy(f"COPY articles ({', '.join(columns)}) FROM STDIN") as copy:
            for art_id, row in zip(ids, values, strict=True):
                row["id"] = art_id
                copy.write_row(tuple(row[c] for c in columns))
        return {(row["document_id"], row["seq"]): row["id"] for row in values}

    def _upsert_entities(
        self, conn: Connection, docs: Sequence[DocumentEnriched]
    ) -> tuple[dict[tuple[str, str], int], int]:
        keys = sorted({(e.label, e.name) for d in docs for a in d.articles for e in a.entities})
        if not keys:
            return {}, 0
        if conn.dialect.name == "postgresql":
            return self._upsert_entities_pg(conn, keys)
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

    @staticmethod
    def _upsert_entities_pg(
        conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], int], int]:
        """PostgreSQL: the keys travel as two arrays (two parameters, however many keys), inserted in
        sorted order; the look-up of those that existed is a second statement, so it also sees rows a
        concurrent batch committed while this insert waited on them."""
        arrays = {"labels": [k[0] for k in keys], "names": [k[1] for k in keys]}
        inserted = conn.execute(_PG_INSERT_ENTITIES, arrays).all()
        ids = {(label, name): ent_id for ent_id, label, name in inserted}
        if len(ids) < len(keys):
            missing = [k for k in keys if k not in ids]
            arrays = {"labels": [k[0] for k in missing], "names": [k[1] for k in missing]}
            ids.update(
                {(label, name): ent_id for ent_id, label, name in conn.execute(_PG_SELECT_ENTITIES, arrays)}
            )
        return ids, len(inserted)

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
            self._copy_mentions(conn, values)
        else:
            conn.execute(sa.insert(Mention), values)
        return len(values)

    @staticmethod
    def _copy_mentions(conn: Connection, values: list[dict[str, Any]]) -> None:
        """PostgreSQL: mentions are the bulk of every batch and need no ids back, so they go in by COPY
        (several times faster than multi-row INSERTs), on the batch's own connection and transaction."""
        columns = ("article_id", "entity_id", "start_offset", "end_offset", "surface")
        raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY lives on its cursor
        with raw.cursor() as cursor, cursor.copy(f"COPY mentions ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(tuple(row[c] for c in columns))

    def _record_heartbeat(self, conn: Connection, beat: DocumentEnriched, now: datetime) -> None:
        values = {"stage": STAGE, "sha256": beat.doc_id, "seen_at": _utc(now), "mtime": _utc(beat.mtime)}
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
                "failed_at": _utc(f.finished_at),
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

    # ------------------------------------------------------------------ reads

    def counts(self) -> Counts:
        """Rows per table, for ``dropwire status``."""
        tables = (Document, ArticleRow, EntityRow, Mention, Failure)
        query = sa.select(*(sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in tables))
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
        return Counts(*(int(n) for n in row))

    def warned_documents(self, limit: int = 5) -> tuple[int, list[WarnedDocument]]:
        """How many stored documents have parse warnings, and the latest ``limit`` of them."""
        warned = Document.parse_warnings.is_not(None)
        count = sa.select(sa.func.count()).select_from(Document).where(warned)
        latest = (
            sa.select(Document.sha256, Document.name, Document.stored_at, Document.parse_warnings)
            .where(warned)
            .order_by(Document.stored_at.desc(), Document.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            total = int(conn.execute(count).scalar_one())
            rows = [
                WarnedDocument(
                    sha256=r.sha256,
                    name=r.name,
                    stored_at=_aware(r.stored_at),  # type: ignore[arg-type]
                    warnings=json.loads(r.parse_warnings),
                )
                for r in conn.execute(latest)
            ]
        return total, rows

    def recent_failures(self, limit: int = 10) -> list[FailureView]:
        """The latest failures, newest first."""
        query = (
            sa.select(Failure.__table__).order_by(Failure.failed_at.desc(), Failure.id.desc()).limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                FailureView(
                    sha256=r.sha256,
                    claim=r.claim,
                    name=r.name,
                    stage=r.stage,
                    reason=r.reason,
                    detail=r.detail,
                    failed_at=_aware(r.failed_at),  # type: ignore[arg-type]
                )
                for r in conn.execute(query)
            ]

    def articles(
        self,
        entity: str | None = None,
        place: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_ARTICLE_LIMIT,
    ) -> list[ArticleView]:
        """Articles, newest first; filtered by an entity's canonical name, a place (canonical or as
        written) and a publication time (articles without one count from their document's receipt).
        Names and places match case-insensitively."""
        when = sa.func.coalesce(ArticleRow.published_at, Document.received_at)
        query = (
            sa.select(ArticleRow.__table__, Document.sha256, Document.name.label("document_name"))
            .join(Document, Document.id == ArticleRow.document_id)
            .order_by(when.desc(), ArticleRow.id.desc())
            .limit(limit)
        )
        if entity is not None:
            query = query.where(
                sa.exists()
                .where(Mention.article_id == ArticleRow.id)
                .where(Mention.entity_id == EntityRow.id)
                .where(sa.func.lower(EntityRow.name) == entity.lower())
            )
        if place is not None:
            wanted = place.lower()
            query = query.where(
                sa.or_(
                    sa.func.lower(ArticleRow.place) == wanted, sa.func.lower(ArticleRow.place_raw) == wanted
                )
            )
        if since is not None:
            query = query.where(when >= _utc(since))
        with self.engine.connect() as conn:
            return [_article_view(r) for r in conn.execute(query)]

    def top_entities(self, n: int = 10, label: str | None = None, by: str = "stories") -> list[EntityCount]:
        """The ``n`` entities in the most stories (``by="stories"``: a brief seen on 13 pages counts once)
        or with the most mentions (``by="mentions"``), ties by name; optionally of one label."""
        mentions = sa.func.count(Mention.id).label("mentions")
        story = sa.func.coalesce(ArticleRow.story_id, -ArticleRow.id)  # unassigned: its own story
        stories = sa.func.count(sa.distinct(story)).label("stories")
        first = stories if by == "stories" else mentions
        query = (
            sa.select(
                EntityRow.label,
                EntityRow.name,
                mentions,
                sa.func.count(sa.distinct(Mention.article_id)).label("articles"),
                stories,
            )
            .join(Mention, Mention.entity_id == EntityRow.id)
            .join(ArticleRow, ArticleRow.id == Mention.article_id)
            .group_by(EntityRow.id, EntityRow.label, EntityRow.name)
            .order_by(first.desc(), mentions.desc(), EntityRow.name, EntityRow.label)
            .limit(n)
        )
        if label is not None:
            query = query.where(EntityRow.label == label.upper())
        with self.engine.connect() as conn:
            return [
                EntityCount(r.label, r.name, int(r.mentions), int(r.articles), int(r.stories))
                for r in conn.execute(query)
            ]

    def stories_list(
        self, entity: str | None = None, since: datetime | None = None, limit: int = DEFAULT_STORY_LIMIT
    ) -> list[StoryView]:
        """Stories, newest (first seen) first; filtered by an entity's canonical name (any of the
        story's articles mentions it, case-insensitively) and by being seen at or after ``since``."""
        query = (
            sa.select(Story.__table__)
            .where(Story.merged_into.is_(None))
            .order_by(Story.first_seen.desc(), Story.id.desc())
            .limit(limit)
        )
        if entity is not None:
            query = query.where(
                sa.exists()
                .where(ArticleRow.story_id == Story.id)
                .where(Mention.article_id == ArticleRow.id)
                .where(Mention.entity_id == EntityRow.id)
                .where(sa.func.lower(EntityRow.name) == entity.lower())
            )
        if since is not None:
            query = query.where(Story.last_seen >= _utc(since))
        with self.engine.connect() as conn:
            return [
                StoryView(
                    id=r.id,
                    headline=r.headline,
                    place=r.place,
                    first_seen=_aware(r.first_seen),  # type: ignore[arg-type]
                    last_seen=_aware(r.last_seen),  # type: ignore[arg-type]
                    sightings=r.sightings,
                    versions=r.versions,
                    fullest_article_id=r.fullest_article_id,
                    newest_article_id=r.newest_article_id,
                )
                for r in conn.execute(query)
            ]

    def story_articles(self, story_id: int) -> list[ArticleView]:
        """The articles of one story, in the order they were stored."""
        query = (
            sa.select(ArticleRow.__table__, Document.sha256, Document.name.label("document_name"))
            .join(Document, Document.id == ArticleRow.document_id)
            .where(ArticleRow.story_id == story_id)
            .order_by(ArticleRow.id)
        )
        with self.engine.connect() as conn:
            return [_article_view(r) for r in conn.execute(query)]

    # ------------------------------------------------------------------ back-fill

    def unassigned_articles(self) -> int:
        """Articles without a story (stored before stories existed, or with stories switched off)."""
        query = sa.select(sa.func.count()).select_from(ArticleRow).where(ArticleRow.story_id.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def rebuild_stories(
        self, chunk: int = REBUILD_CHUNK, progress: Callable[[RebuildProgress], None] | None = None
    ) -> RebuildProgress:
        """Assign a story to every article that has none, oldest first, ``chunk`` articles per transaction.

        Idempotent and resumable: assigned articles are never touched again (ids are never renumbered),
        so an interrupted run continues where it stopped. Safe beside running store workers.
        """
        total = self.unassigned_articles()
        state = RebuildProgress(0, total, 0)
        while True:
            try:
                done, created = self._racing(lambda: self._rebuild_chunk(chunk))
            except sa.exc.DBAPIError as exc:
                raise _classify(exc, exc.orig, exc.connection_invalidated) from exc
            if done == 0:
                return state
            state = RebuildProgress(
                state.assigned + done, max(total, state.assigned + done), state.new_stories + created
            )
            if progress is not None:
                progress(state)

    def _rebuild_chunk(self, chunk: int) -> tuple[int, int]:
        a = ArticleRow
        query = (
            sa.select(
                a.id,
                a.role,
                a.place,
                a.place_raw,
                a.headline,
                a.headline_version,
                a.preamble,
                a.body,
                a.published_at,
                Document.received_at,
            )
            .join(Document, Document.id == a.document_id)
            .where(a.story_id.is_(None))
            .order_by(a.id)
            .limit(chunk)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return 0, 0
            batch = [
                Pending(
                    profile=profile(
                        role=r.role,
                        place=r.place or r.place_raw,
                        headline=r.headline,
                        headline_version=r.headline_version,
                        preamble=r.preamble,
                        body=r.body,
                    ),
                    seen=_aware(r.published_at or r.received_at),  # type: ignore[arg-type]
                    chars=len(r.body),
                    headline=r.headline,
                    place=r.place or r.place_raw,
                )
                for r in rows
            ]
            self._index.lock(conn)
            plan = self._index.plan(conn, batch)
            self._index.create_stories(conn, batch, plan)
            stmt = (
                sa.update(ArticleRow)
                .where(ArticleRow.id == sa.bindparam("aid"), ArticleRow.story_id.is_(None))
                .values(story_id=sa.bindparam("sid"), story_version=sa.bindparam("ver"))
            )
            values = [
                {"aid": r.id, "sid": plan.story_of(i), "ver": plan.assignments[i].version}
                for i, r in enumerate(rows)
            ]
            updated = conn.execute(stmt, values).rowcount
            if updated != len(values):  # another rebuild assigned some of them meanwhile: start over
                raise StoryRace("articles assigned by another process", articles=len(values) - updated)
            self._index.finish(conn, batch, plan, [r.id for r in rows])
            return len(rows), len(plan.new_stories)

    def last_heartbeat(self) -> HeartbeatView | None:
        """When the store last saw the pipeline's heartbeat document, if ever."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(Heartbeat.__table__).where(Heartbeat.stage == STAGE)).first()
        if row is None:
            return None
        return HeartbeatView(row.sha256, _aware(row.seen_at), _aware(row.mtime))  # type: ignore[arg-type]
