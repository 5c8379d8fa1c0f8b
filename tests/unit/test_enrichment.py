"""enrich(): a received document becomes articles with entities, or a failed DocumentDone — never an exception."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from services.enrich.enrichment import enrich
from services.enrich.parser import PARSER_VERSION
from shared.messages import Article, DocumentDone, DocumentEnriched, DocumentReceived

pytestmark = pytest.mark.unit

PAGE = (
    "Nieuwe brug over de IJssel geopend\n"
    "ZWOLLE (ANP) - In Zwolle is dinsdag een nieuwe fietsbrug over de IJssel in gebruik genomen.\n"
    "Meer uit Binnenland\n"
    "ARNHEM (ANP) - De provincie Gelderland trekt extra geld uit voor dijkversterking.\n"
    "2 uur geleden\n"
)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def received(text: str) -> DocumentReceived:
    data = text.encode()
    return DocumentReceived(
        doc_id=hashlib.sha256(data).hexdigest(),
        claim="abcd1234__p.txt",
        name="p.txt",
        received_at=NOW,
        mtime=NOW,
        size=len(data),
        encoding="utf-8",
        text=text,
    )


class PassThrough:
    """The extractor interface, annotating nothing (the real model is tested by its own suite)."""

    version = "test-0"

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]:
        return articles


class Broken:
    version = "broken-0"

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]:
        raise RuntimeError("model exploded")


def test_a_page_becomes_its_articles_with_both_versions() -> None:
    """The parser's articles come through in order, stamped with the parser and model versions."""
    result = enrich(received(PAGE), PassThrough())
    assert isinstance(result, DocumentEnriched)
    assert [a.dateline.place if a.dateline else None for a in result.articles] == ["ZWOLLE", "ARNHEM"]
    assert (result.parser_version, result.model_version) == (PARSER_VERSION, "test-0")
    assert (result.claim, result.mtime) == ("abcd1234__p.txt", NOW)


def test_a_page_without_articles_is_a_parse_error() -> None:
    """Text with no article in it is dead-lettered with reason parse_error, stage enrich."""
    result = enrich(received("\n\n"), PassThrough())
    assert isinstance(result, DocumentDone)
    assert (result.outcome, result.stage, result.reason, result.claim) == (
        "failed",
        "enrich",
        "parse_error",
        "abcd1234__p.txt",
    )


def test_a_crash_inside_enrichment_is_a_recorded_failure_not_an_exception() -> None:
    """An unexpected error in the parser or model fails this document (reason internal) instead of the task."""
    result = enrich(received(PAGE), Broken())
    assert isinstance(result, DocumentDone)
    assert (result.reason, result.stage) == ("internal", "enrich")
    assert result.detail is not None and "model exploded" in result.detail
