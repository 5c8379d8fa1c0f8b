"""What the entity extractor finds in text written for a test."""

from __future__ import annotations

from services.enrich.entities import EntityExtractor
from shared.messages import Article


def entities(extractor: EntityExtractor, *bodies: str) -> list[tuple[str, str]]:
    """(text, label) of every entity of the articles of one document, one article per body."""
    articles = [Article(seq=n, role="main", body=body) for n, body in enumerate(bodies)]
    return [(e.text, e.label) for a in extractor.annotate(articles) for e in a.entities]
