"""``ReadModel``: every query the console needs, on one engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.readmodel.clauses import (
    at_place,
    counts_query,
    failures_query,
    mentions_entity,
    published_or_received,
    with_document,
)
from shared.readmodel.records import (
    ArticleRecord,
    Counts,
    DocumentDetail,
    DocumentSummary,
    EntityArticle,
    EntityCount,
    EntityDetail,
    FailureRecord,
    Filters,
    HeartbeatAge,
    MentionRecord,
    RatePoint,
    SearchHit,
)
from shared.readmodel.schema import articles, articles_search, documents, entities, heartbeats, mentions
from shared.readmodel.schema import aware as _aware
from shared.search_text import fts5_match

# Rows per page when the caller does not say; the console's pages show 50.
DEFAULT_LIMIT = 50
# The most rows one call returns, whatever the caller asks (keeps a page and a query bounded).
MAX_LIMIT = 500
# bm25 weights of the SQLite index's columns (headline, body): a hit in the headline counts more.
SQLITE_BM25 = "bm25(articles_search, 4.0, 1.0)"


def _bounded(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


class ReadModel:
    """Every query the console needs, on one engine (the caller owns and disposes of it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    # ---------------------------------------------------------------- overview

    def counts(self) -> Counts:
        with self.engine.connect() as conn:
            row = conn.execute(counts_query()).one()
        return Counts(**dict(zip(Counts.model_fields, (int(n) for n in row), strict=True)))

    def documents_per_minute(self, minutes: int, now: datetime | None = None) -> list[RatePoint]:
        """Documents stored in each of the last ``minutes`` whole minutes, oldest first, zeros included."""
        end = (now or datetime.now(UTC)).replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(minutes=minutes)
        query = sa.select(documents.c.stored_at).where(documents.c.stored_at >= start)
        buckets = [0] * minutes
        with self.engine.connect() as conn:
            for (stored_at,) in conn.execute(query):
                index = int((_aware(stored_at) - start).total_seconds() // 60)  # type: ignore[operator]
                if 0 <= index < minutes:
                    buckets[index] += 1
        return [RatePoint(minute=start + timedelta(minutes=i), documents=n) for i, n in enumerate(buckets)]

    def heartbeats(self, now: datetime | None = None) -> list[HeartbeatAge]:
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(heartbeats).order_by(heartbeats.c.stage)).all()
        out = []
        for row in rows:
            seen = _aware(row.seen_at)
            assert seen is not None
            out.append(HeartbeatAge(stage=row.stage, seen_at=seen, age_seconds=(now - seen).total_seconds()))
        return out

    def recent_failures(self, limit: int = 10) -> list[FailureRecord]:
        """Failures recorded in the database, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(failures_query(_bounded(limit))).all()
        return [FailureRecord.model_validate(r) for r in rows]

    # ---------------------------------------------------------------- documents

    def _article_conditions(self, filters: Filters) -> list[Any]:
        """Conditions on one ``articles`` row for the place, entity, section and role filters."""
        conditions: list[Any] = []
        if filters.place:
            conditions.append(at_place(filters.place))
        if filters.entity:
            conditions.append(mentions_entity(filters.entity))
        if filters.section:
            conditions.append(sa.func.lower(articles.c.section) == filters.section.lower())
        if filters.role:
            conditions.append(articles.c.role == filters.role.lower())
        return conditions

    def documents(
        self, filters: Filters | None = None, limit: int = DEFAULT_LIMIT, before: int | None = None
    ) -> list[DocumentSummary]:
        """Stored documents, newest first (by id: the store's commit order); ``before`` pages on."""
        filters = filters or Filters()
        first = (
            sa.select(articles.c.headline)
            .where(articles.c.document_id == documents.c.id)
            .order_by(articles.c.seq)
            .limit(1)
            .scalar_subquery()
        )
        query = sa.select(
            documents.c.id,
            documents.c.sha256,
            documents.c.name,
            documents.c.section,
            documents.c.article_count,
            documents.c.received_at,
            documents.c.stored_at,
            first.label("headline"),
        ).order_by(documents.c.id.desc())
        if before is not None:
            query = query.where(documents.c.id < before)
        if filters.since is not None:
            query = query.where(documents.c.stored_at >= filters.since)
        if filters.until is not None:
            query = query.where(documents.c.stored_at < filters.until)
        conditions = self._article_conditions(filters)
        if conditions:
            query = query.where(
                sa.exists().where(articles.c.document_id == documents.c.id).where(*conditions)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(_bounded(limit))).all()
        return [DocumentSummary.model_validate(r) for r in rows]

    def document(self, sha256: str) -> DocumentDetail | None:
        """One document with its articles in page order and each article's mentions in text order."""
        with self.engine.connect() as conn:
            doc = conn.execute(sa.select(documents).where(documents.c.sha256 == sha256)).first()
            if doc is None:
                return None
            rows = conn.execute(
                sa.select(articles).where(articles.c.document_id == doc.id).order_by(articles.c.seq)
            ).all()
            by_article = self._mentions(conn, [r.id for r in rows])
        with_mentions = [
            ArticleRecord.model_validate({**r._mapping, "mentions": by_article.get(r.id, [])}) for r in rows
        ]
        return DocumentDetail.model_validate({**doc._mapping, "articles": with_mentions})

    @staticmethod
    def _mentions(conn: sa.Connection, article_ids: Sequence[int]) -> dict[int, list[MentionRecord]]:
        if not article_ids:
            return {}
        query = (
            sa.select(
                mentions.c.article_id,
                mentions.c.entity_id,
                mentions.c.start_offset.label("start"),
                mentions.c.end_offset.label("end"),
                mentions.c.surface,
                entities.c.label,
                entities.c.name,
            )
            .join(entities, entities.c.id == mentions.c.entity_id)
            .where(mentions.c.article_id.in_(article_ids))
            .order_by(mentions.c.article_id, mentions.c.start_offset, mentions.c.end_offset.desc())
        )
        out: dict[int, list[MentionRecord]] = {}
        for r in conn.execute(query):
            out.setdefault(r.article_id, []).append(MentionRecord.model_validate(r))
        return out

    # ---------------------------------------------------------------- search

    def search(
        self, text: str, filters: Filters | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[SearchHit]:
        """Articles matching every word of ``text`` (Dutch stems), best first; [] for a query with no words."""
        filters = filters or Filters()
        query: Any
        rank: Any
        order: list[Any]
        if self.postgres:
            tsquery = sa.func.plainto_tsquery(sa.literal_column("'dutch'::regconfig"), text)
            document: Any = sa.literal_column("articles.search_vector")
            rank = sa.func.ts_rank(document, tsquery)
            query = sa.select(articles, rank.label("rank")).where(document.op("@@")(tsquery))
            order = [rank.desc(), articles.c.id.desc()]
        else:
            match = fts5_match(text)
            if match is None:
                return []
            # bm25 is lower for better matches; negated so that rank grows with relevance on both backends.
            rank = -sa.literal_column(SQLITE_BM25)
            query = (
                sa.select(articles, rank.label("rank"))
                .join(articles_search, articles_search.c.rowid == articles.c.id)
                .where(sa.literal_column("articles_search").op("MATCH")(match))
            )
            order = [sa.literal_column(SQLITE_BM25), articles.c.id.desc()]
        # The hit's own names for the article's id and its document's hash.
        query = with_document(query).add_columns(
            articles.c.id.label("article_id"), documents.c.sha256.label("document_sha256")
        )
        when = published_or_received()
        if filters.since is not None:
            query = query.where(when >= filters.since)
        if filters.until is not None:
            query = query.where(when < filters.until)
        conditions = self._article_conditions(filters)
        if conditions:
            query = query.where(*conditions)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(*order).limit(_bounded(limit))).all()
        return [SearchHit.model_validate(r) for r in rows]

    # ---------------------------------------------------------------- entities

    def top_entities(self, label: str | None = None, limit: int = DEFAULT_LIMIT) -> list[EntityCount]:
        """The most mentioned entities (ties by name), optionally of one label."""
        count = sa.func.count(mentions.c.id).label("mentions")
        query = (
            sa.select(
                entities.c.id,
                entities.c.label,
                entities.c.name,
                count,
                sa.func.count(sa.distinct(mentions.c.article_id)).label("articles"),
            )
            .join(mentions, mentions.c.entity_id == entities.c.id)
            .group_by(entities.c.id, entities.c.label, entities.c.name)
            .order_by(count.desc(), entities.c.name, entities.c.label)
            .limit(_bounded(limit))
        )
        if label:
            query = query.where(entities.c.label == label.upper())
        with self.engine.connect() as conn:
            return [EntityCount.model_validate(r) for r in conn.execute(query)]

    def entity(self, entity_id: int, limit: int = DEFAULT_LIMIT) -> EntityDetail | None:
        """One entity and the articles that mention it, newest first."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(entities).where(entities.c.id == entity_id)).first()
            if row is None:
                return None
            count = sa.func.count(mentions.c.id).label("mentions")
            query = (
                sa.select(
                    articles.c.id.label("article_id"),
                    articles.c.seq,
                    articles.c.headline,
                    articles.c.place,
                    articles.c.published_at,
                    documents.c.sha256.label("document_sha256"),
                    documents.c.name.label("document_name"),
                    count,
                )
                .join(mentions, mentions.c.article_id == articles.c.id)
                .join(documents, documents.c.id == articles.c.document_id)
                .where(mentions.c.entity_id == entity_id)
                .group_by(
                    articles.c.id,
                    articles.c.seq,
                    articles.c.headline,
                    articles.c.place,
                    articles.c.published_at,
                    documents.c.sha256,
                    documents.c.name,
                )
                .order_by(articles.c.id.desc())
                .limit(_bounded(limit))
            )
            rows = conn.execute(query).all()
        found = [EntityArticle.model_validate(r) for r in rows]
        return EntityDetail.model_validate({**row._mapping, "articles": found})
