"""The read model's typed results: frozen pydantic records, which the console's API serves as they are."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Filters(_Record):
    """What the document list and search narrow by; every field optional."""

    since: datetime | None = None
    until: datetime | None = None
    place: str | None = None  # canonical or as written, any case
    entity: str | None = None  # canonical name, any case
    section: str | None = None
    role: str | None = None  # main | brief


class Counts(_Record):
    documents: int
    articles: int
    entities: int
    mentions: int
    failures: int


class RatePoint(_Record):
    minute: datetime
    documents: int


class HeartbeatAge(_Record):
    stage: str
    seen_at: datetime
    age_seconds: float


class FailureRecord(_Record):
    claim: str
    name: str
    stage: str
    reason: str
    detail: str | None
    failed_at: datetime


class DocumentSummary(_Record):
    id: int
    sha256: str
    name: str
    section: str | None
    article_count: int
    received_at: datetime
    stored_at: datetime
    headline: str | None  # the first article's


class MentionRecord(_Record):
    entity_id: int
    label: str
    name: str
    start: int
    end: int
    surface: str


class ArticleRecord(_Record):
    id: int
    seq: int
    role: str
    section: str | None
    headline: str | None
    preamble: str | None
    place_raw: str | None
    place: str | None
    country: str | None
    lat: float | None
    lon: float | None
    agencies: list[str]
    relative_time: str | None
    published_at: datetime | None
    subheads: list[str]
    body: str
    mentions: list[MentionRecord]


class DocumentDetail(_Record):
    id: int
    sha256: str
    name: str
    size: int
    encoding: str
    section: str | None
    received_at: datetime
    stored_at: datetime
    parser_version: str
    model_version: str
    articles: list[ArticleRecord]


class SearchHit(_Record):
    article_id: int
    document_sha256: str
    document_name: str
    seq: int
    role: str
    headline: str | None
    place: str | None
    published_at: datetime | None
    rank: float
    body: str


class EntityCount(_Record):
    id: int
    label: str
    name: str
    mentions: int
    articles: int


class EntityArticle(_Record):
    article_id: int
    document_sha256: str
    document_name: str
    seq: int
    headline: str | None
    place: str | None
    published_at: datetime | None
    mentions: int


class EntityDetail(_Record):
    id: int
    label: str
    name: str
    articles: list[EntityArticle]
