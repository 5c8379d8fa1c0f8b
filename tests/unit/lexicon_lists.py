"""What the tests of the NER rules' shipped name lists share: the shipped extractor with and without
one list (same weights, same other lists), to show what that list changes, and the entities found."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from services.enrich.entities import EntityExtractor
from services.enrich.entities.engine import LEXICON_DIR, load_pipeline
from services.enrich.entities.rules import Lexicon
from shared.messages import Article


def without_and_with(shipped: Path) -> tuple[EntityExtractor, EntityExtractor]:
    """The shipped extractor without the ORG names of ``shipped`` (a lexicon file), and as shipped."""
    nlp = load_pipeline(None)
    full = Lexicon.from_dir(Path(LEXICON_DIR))
    names = frozenset(shipped.read_text(encoding="utf-8").splitlines())
    bare = replace(full, phrases={**full.phrases, "ORG": full.phrases["ORG"] - names})
    return EntityExtractor(nlp, bare), EntityExtractor(nlp, full)


def labels(extractor: EntityExtractor, body: str) -> list[tuple[str, str]]:
    """(text, label) of each entity ``extractor`` finds in a one-article document of ``body``."""
    found = extractor.annotate([Article(seq=0, role="main", body=body)])[0].entities
    return [(e.text, e.label) for e in found]
