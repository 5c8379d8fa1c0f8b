"""The message contract between services: frozen, versioned pydantic records, JSON on the wire.

Producers send tasks by name (see ``shared.celery_app``) with one argument, the JSON text of one of
these records; consumers call ``decode(Model, payload)`` at the boundary and work with typed objects
from then on. A payload that is not valid JSON, has another ``schema_version`` or does not fit the
model raises ``BadMessage`` (a permanent error: dead-lettered, never retried).

Every message carries ``claim``: the name of the claimed file inside ``processing/``. Only the
ingest service turns it back into a path, and it refuses any name that would leave that folder.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import BadMessage

#: Bumped on any incompatible change; a consumer refuses other versions instead of guessing.
SCHEMA_VERSION: Literal[1] = 1

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Role = Literal["main", "brief"]
EntityLabel = Literal["PER", "LOC", "ORG", "MISC"]
Outcome = Literal["stored", "duplicate", "failed"]
# What a parse warning is about: text placed nowhere with confidence, a headline that looks like site
# furniture, an article without dateline, a copy cut off inside its last item. A closed list: the
# values are a metric label.
WarningKind = Literal["unplaced", "headline_furniture", "no_dateline", "truncated"]
WARNING_KINDS: tuple[WarningKind, ...] = get_args(WarningKind)
Stage = Literal["ingest", "enrich", "store"]
# The steps of a file's journey (``dropwire trace``): a closed list, shown in this order when two share a time.
JourneyKind = Literal[
    "dropped",  # the file's modification time: when its drop completed
    "claimed",  # renamed into processing/ by one ingest (facts: host, pid)
    "queued",  # published to enrich (facts: publish, the how-many-th)
    "republished",  # published again after its lease ran out (facts: publish)
    "enrich_started",
    "enriched",  # facts: host, pid, ms, parser, model, articles, entities
    "stored",  # facts: batch, ms, outcome (new | repeat)
    "failed",  # facts: stage, reason
    "archived",
    "deleted",
    "retried",  # sent round again from failed/ (facts: to, the inbox name)
]
JOURNEY_KINDS: tuple[JourneyKind, ...] = get_args(JourneyKind)
Fact = str | int | float | bool | None


class Record(BaseModel):
    """Base of every value object in the contract: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(Record):
    """Base of every top-level message on a queue."""

    schema_version: Literal[1] = SCHEMA_VERSION

    def to_json(self) -> str:
        # An empty journey is left out, so a consumer older than provenance (it refuses unknown fields)
        # still reads what a newer producer sends with provenance off or nothing to tell.
        if "journey" in type(self).model_fields and not getattr(self, "journey", ()):
            return self.model_dump_json(exclude={"journey"})
        return self.model_dump_json()


class Place(Record):
    """A place resolved through the gazetteer."""

    name: str  # canonical English/GeoNames name, e.g. "The Hague"
    country: str | None = None  # ISO 3166-1 alpha-2, e.g. "NL"
    lat: float | None = None
    lon: float | None = None


class Dateline(Record):
    """The ``PLACE (AGENCY/AGENCY) -`` opening of an article."""

    place: str  # as written, e.g. "DEN HAAG"
    agencies: tuple[str, ...] = ()  # in order as written, e.g. ("ANP", "RTR")
    resolved: Place | None = None
    stamp: str | None = None  # a clock time or date written before the place, e.g. "16:29"


class Entity(Record):
    """One named-entity mention in an article body (offsets are into ``Article.body``)."""

    text: str
    label: EntityLabel
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    name: str  # canonical name: within a document "Trump" joins an earlier "Donald Trump"
    place: Place | None = None  # for LOC mentions the gazetteer knows


class StoryPrint(Record):
    """An article's story fingerprint (``shared.storyprint``): the keys the store finds its story by."""

    scheme: int  # ``shared.storyprint.PRINT_SCHEME`` it was made with; another one is recomputed
    named: tuple[int, ...] = ()  # lead and headline keys
    bands: tuple[int, ...] = ()  # MinHash band keys
    exact: int  # everything matching reads of the article, in one key


class Article(Record):
    """One article of a page, in page order."""

    seq: int = Field(ge=0)
    role: Role
    section: str | None = None
    headline: str | None = None
    headline_version: int | None = None  # the version marker after the headline: "Kabinet valt (2)" → 2
    preamble: str | None = None  # text before the dateline, e.g. a correction notice
    dateline: Dateline | None = None
    relative_time: str | None = None  # as written, e.g. "20 minuten geleden"
    published_at: datetime | None = None  # from the byline, the dateline's stamp or relative_time
    updated_at: datetime | None = None  # from the byline's update time, e.g. "(Update 5-1-2017, 18:02)"
    byline: str | None = None  # byline or date line as written, e.g. "Door ANP - 5-1-2017, 17:26"
    body: str = ""  # text after the dateline dash, paragraphs separated by "\n"
    subheads: tuple[str, ...] = ()
    trailer: str | None = None  # desk-contact line after the body, e.g. "(ANP Redactie Buitenland)"
    entities: tuple[Entity, ...] = ()
    truncated: bool = False  # the copy stops inside this article (the page's last)
    # Added in place (schema 1): enrich computes it; the store computes it itself when it is absent.
    story_print: StoryPrint | None = None


class ParseWarning(Record):
    """Something of a page the parser could not place with confidence: layout drift, as data."""

    kind: WarningKind
    text: str  # the line concerned, as written (cut to MAX_WARNING_CHARS)
    article: int | None = None  # the article's seq, or None for the page


#: A warning quotes at most this much of its line: enough to find it, not a second copy of the page.
MAX_WARNING_CHARS = 200


class JourneyEvent(Record):
    """One step of a file's journey, as the stage that took it saw it (provenance)."""

    kind: JourneyKind
    at: datetime
    facts: dict[str, Fact] = Field(default_factory=dict)


class DocumentReceived(Message):
    """ingest → enrich: one claimed file, decoded."""

    doc_id: Sha256Hex  # sha256 of the file's bytes: identity is the content, not the name
    claim: str  # file name inside processing/
    name: str  # the name it was dropped under
    received_at: datetime  # when ingest claimed it
    mtime: datetime  # the file's modification time (≈ when the drop completed)
    size: int = Field(ge=0)
    encoding: str  # detected encoding, e.g. "utf-8", "cp1252", "utf-16"
    text: str  # decoded text, line endings normalised to "\n"
    heartbeat: bool = False  # a synthetic document that proves the pipeline moves; never stored as news


class DocumentEnriched(Message):
    """enrich → store: the articles of one document."""

    doc_id: Sha256Hex
    claim: str
    name: str
    received_at: datetime
    mtime: datetime
    size: int = Field(ge=0)
    encoding: str
    section: str | None = None
    articles: tuple[Article, ...]
    parser_version: str
    model_version: str
    heartbeat: bool = False
    # Added in place (schema 1): defaults keep messages from before them readable.
    warnings: tuple[ParseWarning, ...] = ()
    truncated: bool = False  # the copy stops inside its last article
    journey: tuple[JourneyEvent, ...] = ()  # what enrich did with it, written by the store in its batch


class DocumentDone(Message):
    """store (or any stage that gives up) → ingest: what became of one claimed file."""

    doc_id: Sha256Hex | None = None  # None when the file could not even be hashed
    claim: str
    name: str
    outcome: Outcome
    stage: Stage | None = None  # the stage that failed, for outcome == "failed"
    reason: str | None = None  # bounded reason code (shared.errors), for outcome == "failed"
    detail: str | None = None  # the human explanation
    mtime: datetime | None = None  # carried back for the drop-to-stored latency
    finished_at: datetime
    heartbeat: bool = False
    journey: tuple[JourneyEvent, ...] = ()  # the steps before the failure, written with the failure row


class DocumentsDone(Message):
    """store → ingest: the outcomes of one store batch in one message (one delivery for the batch)."""

    items: tuple[DocumentDone, ...] = Field(min_length=1)

    def to_json(self) -> str:
        # Ingest files documents away without their journeys: they are left out of the batch.
        return self.model_dump_json(exclude={"items": {"__all__": {"journey"}}})


class DocumentsEnriched(Message):
    """enrich → store: the documents of one enrich batch in one message (one delivery for the batch)."""

    items: tuple[DocumentEnriched, ...] = Field(min_length=1)


M = TypeVar("M", bound=Message)


def decode(model: type[M], payload: str | bytes) -> M:
    """Decode one wire payload into ``model``, or raise ``BadMessage`` saying why.

    A payload that fits is parsed and validated in one pass by pydantic's own JSON parser: for an
    enrich batch's ``DocumentsEnriched`` that costs a third of ``json.loads`` followed by
    ``model_validate`` of the dicts (0.09-0.16 against 0.28-0.35 ms per document,
    ``scripts/decode_cost.py``), CPU the store spends on every document. One that does not fit is taken apart step by step below, to say why.
    """
    try:
        return model.model_validate_json(payload)
    except (ValidationError, ValueError, TypeError):
        pass  # not valid, or not as JSON: the steps below say which, or accept what Python's parser reads
    try:
        data = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise BadMessage("message is not valid JSON", model=model.__name__) from exc
    if not isinstance(data, dict):
        raise BadMessage("message is not a JSON object", model=model.__name__)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BadMessage(
            "unsupported schema version", model=model.__name__, got=version, expected=SCHEMA_VERSION
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadMessage(
            "message does not fit the schema", model=model.__name__, errors=exc.error_count()
        ) from exc
