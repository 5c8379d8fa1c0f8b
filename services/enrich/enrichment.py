"""One document through enrich: parse the page into articles, then find the entities in them.

A pure function of a ``DocumentReceived`` and an entity extractor; no queue, no Celery. Input that can
never be enriched comes back as a failed ``DocumentDone`` (the dead-letter path) rather than an
exception, so the adapter around it cannot turn bad input into a crash loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from services.enrich.parser import PARSER_VERSION, parse_page
from shared.errors import ParseError, PermanentError, TooLarge
from shared.logging import get_logger
from shared.messages import Article, DocumentDone, DocumentEnriched, DocumentReceived
from shared.storyprint import with_story_print

log = get_logger(__name__)

# The longest article body the NER model is given: spaCy's own limit (``Language.max_length``), past
# which it refuses the text; real articles are a few thousand characters.
MAX_ARTICLE_CHARS = 1_000_000


class Extractor(Protocol):
    version: str

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]: ...


def enrich(received: DocumentReceived, extractor: Extractor) -> DocumentEnriched | DocumentDone:
    """Parse and annotate one document; a failed ``DocumentDone`` (stage enrich) when it cannot be done."""
    try:
        page = parse_page(received.text, received_at=received.received_at)
        if not page.articles:
            raise ParseError("no article found in the page")
        longest = max(len(a.body) for a in page.articles)
        if longest > MAX_ARTICLE_CHARS:
            raise TooLarge(
                "an article is too long for entity recognition", chars=longest, max_chars=MAX_ARTICLE_CHARS
            )
        articles = tuple(with_story_print(a) for a in extractor.annotate(page.articles))
    except PermanentError as exc:
        return failed(received, exc.reason, str(exc))
    except Exception as exc:
        # A parser or model bug on this input: recorded as a failure of this file (reason "internal")
        # with the traceback in the log, instead of a task that fails again at every re-publish.
        log.exception("enrich.internal_error", doc_id=received.doc_id)
        return failed(received, "internal", f"{type(exc).__name__}: {exc}")
    return DocumentEnriched(
        doc_id=received.doc_id,
        claim=received.claim,
        name=received.name,
        received_at=received.received_at,
        mtime=received.mtime,
        size=received.size,
        encoding=received.encoding,
        section=page.section,
        articles=articles,
        parser_version=PARSER_VERSION,
        model_version=extractor.version,
        heartbeat=received.heartbeat,
        warnings=page.warnings,
        truncated=page.truncated,
    )


def failed(received: DocumentReceived, reason: str, detail: str) -> DocumentDone:
    """The dead-letter record for a document enrich gave up on."""
    return DocumentDone(
        doc_id=received.doc_id,
        claim=received.claim,
        name=received.name,
        outcome="failed",
        stage="enrich",
        reason=reason,
        detail=detail,
        mtime=received.mtime,
        finished_at=datetime.now(UTC),
        heartbeat=received.heartbeat,
    )
