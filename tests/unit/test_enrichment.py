"""enrich(): a received document becomes articles with entities, or a failed DocumentDone — never an exception."""

from __future__ import annotations

import pytest

from services.enrich.enrichment import enrich, enrich_batch
from services.enrich.parser import PARSER_VERSION
from shared.messages import Article, DocumentDone, DocumentEnriched
from tests.documents import NOW, PassThrough, received_text

pytestmark = pytest.mark.unit

PAGE = (
    "Nieuwe brug over de IJssel geopend\n"
    "ZWOLLE (ANP) - In Zwolle is dinsdag een nieuwe fietsbrug over de IJssel in gebruik genomen.\n"
    "Meer uit Binnenland\n"
    "ARNHEM (ANP) - De provincie Gelderland trekt extra geld uit voor dijkversterking.\n"
    "2 uur geleden\n"
)


class Broken:
    version = "broken-0"

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]:
        raise RuntimeError("model exploded")


def test_a_page_becomes_its_articles_with_both_versions() -> None:
    """The parser's articles come through in order, stamped with the parser and model versions."""
    result = enrich(received_text(PAGE), PassThrough())
    assert isinstance(result, DocumentEnriched)
    assert [a.dateline.place if a.dateline else None for a in result.articles] == ["ZWOLLE", "ARNHEM"]
    assert (result.parser_version, result.model_version) == (PARSER_VERSION, "test-0")
    assert (result.claim, result.mtime) == ("abcd1234__p.txt", NOW)


def test_a_page_without_articles_is_a_parse_error() -> None:
    """Text with no article in it is dead-lettered with reason parse_error, stage enrich."""
    result = enrich(received_text("\n\n"), PassThrough())
    assert isinstance(result, DocumentDone)
    assert (result.outcome, result.stage, result.reason, result.claim) == (
        "failed",
        "enrich",
        "parse_error",
        "abcd1234__p.txt",
    )


def test_a_crash_inside_enrichment_is_a_recorded_failure_not_an_exception() -> None:
    """An unexpected error in the parser or model fails this document (reason internal) instead of the task."""
    result = enrich(received_text(PAGE), Broken())
    assert isinstance(result, DocumentDone)
    assert (result.reason, result.stage) == ("internal", "enrich")
    assert result.detail is not None and "model exploded" in result.detail


class Counting(PassThrough):
    """PassThrough with a batch path that records how many documents each call was given."""

    def __init__(self, fail_batches: bool = False) -> None:
        self.calls: list[int] = []
        self.fail_batches = fail_batches

    def annotate_many(self, documents: list[tuple[Article, ...]]) -> list[tuple[Article, ...]]:
        self.calls.append(len(documents))
        if self.fail_batches:
            raise RuntimeError("batch path exploded")
        return [self.annotate(articles) for articles in documents]


def test_a_batch_is_one_pass_and_each_result_is_what_enrich_gives_alone() -> None:
    """enrich_batch: one annotate_many call for the batch's parsable documents, the results in order,
    each equal to enrich's; a page without articles fails alone."""
    pages = [received_text(PAGE), received_text("\n\n"), received_text(PAGE.replace("Zwolle", "Deventer"))]
    extractor = Counting()
    batch = enrich_batch(pages, extractor)
    assert extractor.calls == [2]
    assert [r.model_dump(exclude={"finished_at"}) for r in batch] == [
        enrich(p, PassThrough()).model_dump(exclude={"finished_at"}) for p in pages
    ]
    assert isinstance(batch[1], DocumentDone) and batch[1].reason == "parse_error"


def test_a_failing_batch_pass_falls_back_to_one_document_at_a_time() -> None:
    extractor = Counting(fail_batches=True)
    batch = enrich_batch([received_text(PAGE), received_text(PAGE + "\n")], extractor)
    assert all(isinstance(r, DocumentEnriched) for r in batch)
