"""The store's pure core: batched, idempotent writes and the operators' queries. No Celery here.

``Repository`` is assembled from three halves, one concern each: ``batch.BatchWriter`` (the write
path below), ``reads.Reads`` (the queries) and ``rebuild.StoryRebuild`` (the stories back-fill);
the records they return are in ``views``.

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

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from services.store.batch import (
    LOOKUP_CHUNK,
    REJECTED_REASON,
    STAGE,
    STORY_RACE_ATTEMPTS,
    BatchResult,
    BatchWriter,
    RejectedByDatabase,
)
from services.store.reads import DEFAULT_ARTICLE_LIMIT, DEFAULT_STORY_LIMIT, Reads
from services.store.rebuild import REBUILD_CHUNK, StoryRebuild
from services.store.storydb import StoryIndex
from services.store.times import utcnow
from services.store.views import (
    ArticleView,
    Counts,
    EntityCount,
    FailureView,
    HeartbeatView,
    RebuildProgress,
    StoryView,
    WarnedDocument,
)
from shared.messages import DocumentDone, DocumentEnriched
from shared.settings import ProvenanceSettings

__all__ = [
    "DEFAULT_ARTICLE_LIMIT",
    "DEFAULT_STORY_LIMIT",
    "LOOKUP_CHUNK",
    "REBUILD_CHUNK",
    "REJECTED_REASON",
    "STAGE",
    "STORY_RACE_ATTEMPTS",
    "ArticleView",
    "BatchResult",
    "Counts",
    "EntityCount",
    "FailureView",
    "HeartbeatView",
    "RebuildProgress",
    "RejectedByDatabase",
    "Repository",
    "StoryView",
    "WarnedDocument",
    "utcnow",
]


class Repository(BatchWriter, Reads, StoryRebuild):
    """Reads and writes the store's tables through one engine (one per process; never across fork)."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utcnow,
        *,
        stories: bool = True,
        provenance: bool | None = None,
    ) -> None:
        self.engine = engine
        # Write each document's journey events in its batch (default: DROPWIRE_PROVENANCE).
        settings = ProvenanceSettings()
        self.provenance = settings.provenance if provenance is None else provenance
        self.retention_days = settings.provenance_retention_days
        self._next_prune = 0.0
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
