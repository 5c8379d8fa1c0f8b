"""What the store's queries return: small frozen records, one per kind of row an operator reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.store.times import aware


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


def article_view(r: Any) -> ArticleView:
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
        published_at=aware(r.published_at),
        body=r.body,
        headline_version=r.headline_version,
        story_id=r.story_id,
        story_version=r.story_version,
    )
