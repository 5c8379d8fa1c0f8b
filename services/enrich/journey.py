"""Enrich's steps of a file's journey (provenance), added to the record it already sends on.

One function, called by the task adapter around ``enrich``: it knows nothing of Celery or of how
many documents a message carries, so a batched enrich calls it per document.
"""

from __future__ import annotations

from datetime import datetime

from shared.journal import here, step
from shared.messages import DocumentDone, DocumentEnriched


def with_enrich_steps(
    result: DocumentEnriched | DocumentDone, started: datetime, seconds: float, *, batch: int | None = None
) -> DocumentEnriched | DocumentDone:
    """``result`` carrying enrich's steps: started, then finished (facts: host, pid, ms, versions,
    counts) or nothing more for a failure (ingest journals the failure when it files the file away).
    ``batch``: how many documents shared the NER pass whose time ``seconds`` is."""
    where = here() if batch is None else {**here(), "batch": batch}
    ms = round(seconds * 1000, 2)
    if not isinstance(result, DocumentEnriched):
        events = [step("enrich_started", started, **where, ms=ms)]
    else:
        events = [
            step("enrich_started", started, **where),
            step(
                "enriched",
                **where,
                ms=ms,
                parser=result.parser_version,
                model=result.model_version,
                articles=len(result.articles),
                entities=sum(len(a.entities) for a in result.articles),
                warnings=len(result.warnings),
            ),
        ]
    return result.model_copy(update={"journey": (*result.journey, *events)})
