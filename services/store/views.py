"""What the store's queries return: small frozen records, one per kind of row an operator reads."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from services.store.times import aware

V = TypeVar("V")  # a view dataclass


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


def from_row(view: type[V], row: Any, **given: Any) -> V:
    """The ``view`` dataclass of a query row whose columns carry its field names (other columns are
    left out), stored times as aware UTC; ``given`` sets fields the row holds in another form."""
    values = row._mapping
    return view(
        **{
            f.name: given[f.name] if f.name in given else _as_read(values[f.name])
            for f in fields(view)  # type: ignore[arg-type]
            if f.name in given or f.name in values
        }
    )


def _as_read(value: Any) -> Any:
    return aware(value) if isinstance(value, datetime) else value


def article_view(r: Any) -> ArticleView:
    """One ``articles`` row (joined with its document's sha256 and name) as an ``ArticleView``."""
    return from_row(ArticleView, r, agencies=tuple(r.agencies.split("/")) if r.agencies else ())
