"""One document through enrich: parse the page into articles, then find the entities in them.

A pure function of a ``DocumentReceived`` and an entity extractor; no queue, no Celery. ``enrich_batch``
does the same for several documents with one pass of the NER model over all their articles (the same
result per document, fewer model calls). Input that can
never be enriched comes back as a failed ``DocumentDone`` (the dead-letter path) rather than an
exception, so the adapter around it cannot turn bad input into a crash loop; ``failure`` makes that
record for any error, judged by ``shared.retry.failure_of`` as both enrich pools do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from services.enrich.parser import PARSER_VERSION, ParsedPage, parse_page
from shared.errors import ParseError, PermanentError, TooLarge
from shared.logging import get_logger
from shared.messages import Article, DocumentDone, DocumentEnriched, DocumentReceived
from shared.retry import failure_of
from shared.storyprint import with_story_print

log = get_logger(__name__)

# The longest article body the NER model is given: spaCy's own limit (``Language.max_length``), past
# which it refuses the text; real articles are a few thousand characters.
MAX_ARTICLE_CHARS = 1_000_000


class Extractor(Protocol):
    version: str

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]: ...


Result = DocumentEnriched | DocumentDone


def enrich(received: DocumentReceived, extractor: Extractor) -> Result:
    """Parse and annotate one document; a failed ``DocumentDone`` (stage enrich) when it cannot be done."""
    try:
        page = parse(received)
        articles = extractor.annotate(page.articles)
    except Exception as exc:
        return failure(received, exc)
    return enriched(received, page, articles, extractor.version)


def enrich_batch(batch: Sequence[DocumentReceived], extractor: Extractor) -> list[Result]:
    """``enrich`` for each of ``batch``, in order, with one NER pass over every article of the batch.

    Falls back to ``enrich`` one document at a time when the batched pass fails, so that one bad
    input fails alone. An extractor without ``annotate_many`` is called per document.
    """
    annotate_many = getattr(extractor, "annotate_many", None)
    if annotate_many is None or len(batch) < 2:
        return [enrich(received, extractor) for received in batch]
    results: list[Result | None] = []
    pages: list[tuple[int, ParsedPage]] = []
    for received in batch:
        try:
            pages.append((len(results), parse(received)))
            results.append(None)
        except Exception as exc:
            results.append(failure(received, exc))
    try:
        annotated = annotate_many([page.articles for _, page in pages])
    except Exception:
        log.warning("enrich.batch_fallback", documents=len(batch), exc_info=True)
        return [enrich(received, extractor) for received in batch]
    for (index, page), articles in zip(pages, annotated, strict=True):
        results[index] = enriched(batch[index], page, articles, extractor.version)
    return [result for result in results if result is not None]


def parse(received: DocumentReceived) -> ParsedPage:
    """The page of ``received``, split into articles; a ``PermanentError`` when none can be annotated."""
    page = parse_page(received.text, received_at=received.received_at)
    if not page.articles:
        raise ParseError("no article found in the page")
    longest = max(len(a.body) for a in page.articles)
    if longest > MAX_ARTICLE_CHARS:
        raise TooLarge(
            "an article is too long for entity recognition", chars=longest, max_chars=MAX_ARTICLE_CHARS
        )
    return page


def failure(received: DocumentReceived, exc: BaseException) -> DocumentDone:
    """The failed ``DocumentDone`` for ``exc``, judged by the project's one policy (``failure_of``).

    Only called for errors that cannot heal: the input's own (``PermanentError``, with its reason) or a
    parser/model bug on this input (reason ``internal``, the traceback in the log), so that a file is
    recorded as failed instead of failing again at every re-publish.
    """
    judged = failure_of(exc)
    if judged.kind == "transient":
        raise exc  # a dependency away (none is used here today): the adapter around retries it
    if not isinstance(exc, PermanentError):
        log.error("enrich.internal_error", doc_id=received.doc_id, reason=judged.reason, exc_info=exc)
    return failed(received, judged.reason, judged.detail)


def enriched(
    received: DocumentReceived, page: ParsedPage, articles: tuple[Article, ...], model_version: str
) -> DocumentEnriched:
    """The ``DocumentEnriched`` of ``received``: its page's data and its annotated articles."""
    return DocumentEnriched(
        doc_id=received.doc_id,
        claim=received.claim,
        name=received.name,
        received_at=received.received_at,
        mtime=received.mtime,
        size=received.size,
        encoding=received.encoding,
        section=page.section,
        articles=tuple(with_story_print(a) for a in articles),  # the store's story keys, made here
        parser_version=PARSER_VERSION,
        model_version=model_version,
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
