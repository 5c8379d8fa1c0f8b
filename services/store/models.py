"""The relational schema, as SQLAlchemy 2.0 typed declarative models.

Natural keys carry the idempotency: ``documents.sha256`` (identity is the content), ``articles
(document_id, seq)``, ``entities (label, name)``, ``failures (claim, stage, failed_at)``, ``story_keys
(key)`` (one story per index key: two workers cannot both start a story for the same item). Every
insert uses ``ON CONFLICT DO NOTHING`` on them, so a redelivered message writes nothing new (story keys
on PostgreSQL go in by COPY: a key already there rolls the batch back to run again, see ``storydb``).

Times are stored in UTC. PostgreSQL keeps the zone (``timestamptz``); SQLite keeps naive UTC text,
which the repository turns back into aware datetimes on the way out.

The Alembic revisions in ``migrations/versions`` are the source of truth for the database; these
models must describe the same schema (``tests/integration/test_migrations.py`` compares them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CHAR,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are spelt out so that migrations on PostgreSQL and SQLite agree and can be dropped.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UtcDateTime = DateTime(timezone=True)
# 64-bit keys on PostgreSQL (mentions grow fast); SQLite needs INTEGER PRIMARY KEY for its rowid.
Key = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Document(Base):
    """One stored file, identified by the sha256 of its bytes."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    sha256: Mapped[str] = mapped_column(CHAR(64), unique=True)
    name: Mapped[str] = mapped_column(Text)  # the name it was dropped under (first one seen)
    size: Mapped[int] = mapped_column(Integer)  # bytes on disk
    encoding: Mapped[str] = mapped_column(String(32))
    section: Mapped[str | None] = mapped_column(Text)
    article_count: Mapped[int] = mapped_column(Integer)
    mtime: Mapped[datetime] = mapped_column(UtcDateTime)  # when the drop completed
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when ingest claimed it
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when the store committed it
    parser_version: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(128))
    # The parser's warnings as a JSON array of {kind, text, article}; NULL when the page read cleanly.
    parse_warnings: Mapped[str | None] = mapped_column(Text)


class ArticleRow(Base):
    """One article of a document, in page order."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("document_id", "seq"),
        Index(None, "published_at"),
        Index(None, "place"),
        Index(None, "story_id"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    document_id: Mapped[int] = mapped_column(Key, ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))  # main | brief
    section: Mapped[str | None] = mapped_column(Text)
    headline: Mapped[str | None] = mapped_column(Text)
    preamble: Mapped[str | None] = mapped_column(Text)
    place_raw: Mapped[str | None] = mapped_column(Text)  # the dateline place as written, e.g. "DEN HAAG"
    place: Mapped[str | None] = mapped_column(Text)  # canonical, e.g. "The Hague"
    country: Mapped[str | None] = mapped_column(CHAR(2))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    agencies: Mapped[str | None] = mapped_column(Text)  # as written, joined by "/": "ANP/RTR"
    relative_time: Mapped[str | None] = mapped_column(Text)  # as written, e.g. "20 minuten geleden"
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    subheads: Mapped[str | None] = mapped_column(Text)  # joined by "\n"
    body: Mapped[str] = mapped_column(Text)
    headline_version: Mapped[int | None] = mapped_column(Integer)  # "Kop (2)" → 2
    # The story (wire item) this article is a sighting of; NULL until assigned (old rows: `stories rebuild`).
    # No foreign key: SQLite cannot add one to an existing table without copying it (which, with
    # foreign keys on, would cascade into mentions); stories are never deleted, so it cannot dangle.
    story_id: Mapped[int | None] = mapped_column(Key)
    story_version: Mapped[int | None] = mapped_column(Integer)  # which version of the story, from 1


class Story(Base):
    """One wire item and its versions, however many pages carried it (see ``services.store.stories``)."""

    __tablename__ = "stories"
    __table_args__ = (Index(None, "last_seen"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    headline: Mapped[str | None] = mapped_column(Text)  # the first headline seen (briefs have none)
    place: Mapped[str | None] = mapped_column(Text)  # canonical dateline place (as written if unresolved)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)  # earliest publication (or receipt) time
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)  # latest
    sightings: Mapped[int] = mapped_column(Integer)  # articles of this story
    versions: Mapped[int] = mapped_column(Integer)  # highest version number
    fullest_article_id: Mapped[int | None] = mapped_column(Key)  # longest body
    fullest_chars: Mapped[int] = mapped_column(Integer)
    newest_article_id: Mapped[int | None] = mapped_column(Key)  # the highest version, latest seen
    newest_version: Mapped[int] = mapped_column(Integer)
    # Set when a later article showed this story and another to be one item: the one it joined.
    merged_into: Mapped[int | None] = mapped_column(Key)


class StoryKey(Base):
    """The story index: a 64-bit key (lead, MinHash band or headline fingerprint) → its story, and the
    article whose text gave it (what a new article is compared with)."""

    __tablename__ = "story_keys"
    __table_args__ = (Index(None, "story_id"),)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # No foreign keys (migration 0006): their checks doubled the cost of every key inserted; stories
    # are never deleted, and a key whose article is gone still names its story.
    story_id: Mapped[int] = mapped_column(Key)
    article_id: Mapped[int] = mapped_column(Key)


class EntityRow(Base):
    """A named entity, once per (label, canonical name)."""

    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("label", "name"), Index(None, "name"))

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    label: Mapped[str] = mapped_column(String(8))  # PER | LOC | ORG | MISC
    name: Mapped[str] = mapped_column(Text)


class Mention(Base):
    """One occurrence of an entity in an article body (offsets into ``articles.body``)."""

    __tablename__ = "mentions"
    __table_args__ = (Index(None, "entity_id"), Index(None, "article_id"))

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    article_id: Mapped[int] = mapped_column(Key, ForeignKey("articles.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(Key, ForeignKey("entities.id", ondelete="CASCADE"))
    start_offset: Mapped[int] = mapped_column(Integer)
    end_offset: Mapped[int] = mapped_column(Integer)
    surface: Mapped[str] = mapped_column(Text)  # the text as it stands in the body


class Failure(Base):
    """A document some stage gave up on (the dead-letter record)."""

    __tablename__ = "failures"
    __table_args__ = (UniqueConstraint("claim", "stage", "failed_at"), Index(None, "failed_at"))

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    sha256: Mapped[str | None] = mapped_column(CHAR(64))  # None when the file could not even be hashed
    claim: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Heartbeat(Base):
    """One row per stage that saw the pipeline's heartbeat document: cheap proof the pipeline moves."""

    __tablename__ = "heartbeats"

    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    sha256: Mapped[str] = mapped_column(CHAR(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    mtime: Mapped[datetime] = mapped_column(UtcDateTime)


class JourneyRow(Base):
    """The steps of one claim's journey that one store batch wrote (``dropwire trace``): enrich's steps,
    carried in its message, and the store's own, as one JSON array in one row per document, written in
    the batch's transaction. Pruned by age."""

    __tablename__ = "journey_events"
    __table_args__ = (Index(None, "sha256"), Index(None, "claim"), Index(None, "at"))

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    sha256: Mapped[str | None] = mapped_column(CHAR(64))
    claim: Mapped[str] = mapped_column(Text)  # which claim of those bytes (the same bytes dropped twice)
    kind: Mapped[str] = mapped_column(String(16))  # the last step of the row (stored, failed)
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # its time: what the retention prunes by
    steps: Mapped[str] = mapped_column(Text)  # JSON array of {kind, at, facts} (shared.messages.JourneyEvent)
