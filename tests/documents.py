"""Test documents the suites share: a received wire page made from its text, and an extractor that
annotates nothing (the NER model has its own tests; these are about what happens around it)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from shared.messages import Article, DocumentReceived

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def received_text(
    text: str, *, claim: str = "abcd1234__p.txt", name: str = "p.txt", at: datetime = NOW, **extra: Any
) -> DocumentReceived:
    """``text`` as ingest would send it for a UTF-8 file dropped (and claimed) at ``at``; ``extra``:
    more ``DocumentReceived`` fields (``heartbeat=True``)."""
    data = text.encode()
    return DocumentReceived(
        doc_id=hashlib.sha256(data).hexdigest(),
        claim=claim,
        name=name,
        received_at=at,
        mtime=at,
        size=len(data),
        encoding="utf-8",
        text=text,
        **extra,
    )


class PassThrough:
    """The extractor interface, annotating nothing."""

    version = "test-0"

    def annotate(self, articles: tuple[Article, ...]) -> tuple[Article, ...]:
        return articles
