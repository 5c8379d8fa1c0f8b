"""The read model's typed results: frozen pydantic records, which the console's API serves as they are.

A record reads a query row itself (``Record.model_validate(row)``: the query labels its columns with
the record's field names), so the read model holds no field-by-field copying: stored times become
aware UTC (``UtcTime``) and the joined text columns lists (``agencies``, ``subheads``) on the way in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from shared.readmodel.schema import aware

#: A stored time, as aware UTC whichever backend read it (SQLite hands back naive UTC).
UtcTime = Annotated[datetime, AfterValidator(aware)]


def _split_on(separator: str) -> Callable[[Any], Any]:
    """A stored joined text (``"ANP/RTR"``) as its list; NULL or empty as []; a list as it is."""
    return lambda value: value.split(separator) if isinstance(value, str) and value else (value or [])


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


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
    minute: UtcTime
    documents: int


class HeartbeatAge(_Record):
    stage: str
    seen_at: UtcTime
    age_seconds: float


class FailureRecord(_Record):
    claim: str
    name: str
    stage: str
    reason: str
    detail: str | None
    failed_at: UtcTime


class DocumentSummary(_Record):
    id: int
    sha256: str
    name: str
    section: str | None
    article_count: int
    received_at: UtcTime
    stored_at: UtcTime
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
    agencies: Annotated[list[str], BeforeValidator(_split_on("/"))]
    relative_time: str | None
    published_at: UtcTime | None
    subheads: Annotated[list[str], BeforeValidator(_split_on("\n"))]
    body: str
    mentions: list[MentionRecord]


class DocumentDetail(_Record):
    id: int
    sha256: str
    name: str
    size: int
    encoding: str
    section: str | None
    received_at: UtcTime
    stored_at: UtcTime
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
    published_at: UtcTime | None
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
    published_at: UtcTime | None
    mentions: int


class EntityDetail(_Record):
    id: int
    label: str
    name: str
    articles: list[EntityArticle]
