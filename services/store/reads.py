"""The store's read half: the operators' queries behind ``dropwire status|articles|entities|stories``."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.store.times import to_utc
from services.store.views import (
    ArticleView,
    Counts,
    EntityCount,
    FailureView,
    HeartbeatView,
    StoryView,
    WarnedDocument,
    article_view,
    from_row,
)
from shared.readmodel.clauses import (
    at_place,
    counts_query,
    failures_query,
    mentions_entity,
    published_or_received,
    with_document,
)
from shared.readmodel.schema import articles as A
from shared.readmodel.schema import documents as D
from shared.readmodel.schema import entities as E
from shared.readmodel.schema import heartbeats as H
from shared.readmodel.schema import mentions as M
from shared.readmodel.schema import stories as S

STAGE = "store"
# Default page of `dropwire articles`: a screenful.
DEFAULT_ARTICLE_LIMIT = 20
# Default page of `dropwire stories`.
DEFAULT_STORY_LIMIT = 20


class Reads:
    """The read half of ``Repository``: each query opens its own connection on ``engine``."""

    engine: Engine

    def counts(self) -> Counts:
        """Rows per table, for ``dropwire status``."""
        with self.engine.connect() as conn:
            row = conn.execute(counts_query()).one()
        return Counts(*(int(n) for n in row))

    def warned_documents(self, limit: int = 5) -> tuple[int, list[WarnedDocument]]:
        """How many stored documents have parse warnings, and the latest ``limit`` of them."""
        warned = D.c.parse_warnings.is_not(None)
        count = sa.select(sa.func.count()).select_from(D).where(warned)
        latest = (
            sa.select(D.c.sha256, D.c.name, D.c.stored_at, D.c.parse_warnings)
            .where(warned)
            .order_by(D.c.stored_at.desc(), D.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            total = int(conn.execute(count).scalar_one())
            rows = [
                from_row(WarnedDocument, r, warnings=json.loads(r.parse_warnings))
                for r in conn.execute(latest)
            ]
        return total, rows

    def recent_failures(self, limit: int = 10) -> list[FailureView]:
        """The latest failures, newest first."""
        with self.engine.connect() as conn:
            return [from_row(FailureView, r) for r in conn.execute(failures_query(limit))]

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
        when = published_or_received()
        query = with_document(sa.select(*A.c)).order_by(when.desc(), A.c.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(mentions_entity(entity))
        if place is not None:
            query = query.where(at_place(place))
        if since is not None:
            query = query.where(when >= to_utc(since))
        with self.engine.connect() as conn:
            return [article_view(r) for r in conn.execute(query)]

    def top_entities(self, n: int = 10, label: str | None = None, by: str = "stories") -> list[EntityCount]:
        """The ``n`` entities in the most stories (``by="stories"``: a brief seen on 13 pages counts once)
        or with the most mentions (``by="mentions"``), ties by name; optionally of one label."""
        mentions = sa.func.count(M.c.id).label("mentions")
        story = sa.func.coalesce(A.c.story_id, -A.c.id)  # unassigned: its own story
        stories = sa.func.count(sa.distinct(story)).label("stories")
        first = stories if by == "stories" else mentions
        query = (
            sa.select(
                E.c.label,
                E.c.name,
                mentions,
                sa.func.count(sa.distinct(M.c.article_id)).label("articles"),
                stories,
            )
            .join(M, M.c.entity_id == E.c.id)
            .join(A, A.c.id == M.c.article_id)
            .group_by(E.c.id, E.c.label, E.c.name)
            .order_by(first.desc(), mentions.desc(), E.c.name, E.c.label)
            .limit(n)
        )
        if label is not None:
            query = query.where(E.c.label == label.upper())
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
            sa.select(*S.c)
            .where(S.c.merged_into.is_(None))
            .order_by(S.c.first_seen.desc(), S.c.id.desc())
            .limit(limit)
        )
        if entity is not None:
            query = query.where(mentions_entity(entity).where(A.c.story_id == S.c.id))
        if since is not None:
            query = query.where(S.c.last_seen >= to_utc(since))
        with self.engine.connect() as conn:
            return [from_row(StoryView, r) for r in conn.execute(query)]

    def story_articles(self, story_id: int) -> list[ArticleView]:
        """The articles of one story, in the order they were stored."""
        query = with_document(sa.select(*A.c)).where(A.c.story_id == story_id).order_by(A.c.id)
        with self.engine.connect() as conn:
            return [article_view(r) for r in conn.execute(query)]

    # ------------------------------------------------------------------ back-fill

    def last_heartbeat(self) -> HeartbeatView | None:
        """When the store last saw the pipeline's heartbeat document, if ever."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*H.c).where(H.c.stage == STAGE)).first()
        if row is None:
            return None
        return from_row(HeartbeatView, row)
