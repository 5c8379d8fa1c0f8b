"""The error classes issue 12's text lists, checked one small case each against 0.1.5 (the issue's
text is older than several rounds of rules). All of these held already before 0.1.5; the dateline
cases of ``dropwire ner --conll`` are in test_company_entities.py. Sentences are the team's own.
"""

from __future__ import annotations

import pytest

from services.enrich.entities import EntityExtractor
from tests.entities import entities

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # plural inhabitant names
        (
            "Veel Zuid-Afrikanen en Amsterdammers stemden niet.",
            [("Zuid-Afrikanen", "MISC"), ("Amsterdammers", "MISC")],
        ),
        # short acronyms of organisations
        ("De FNV en het CBS meldden dat de NS akkoord is.", [("FNV", "ORG"), ("CBS", "ORG"), ("NS", "ORG")]),
        # nationality adjectives and languages
        ("De Nederlandse regering spreekt Engels.", [("Nederlandse", "MISC"), ("Engels", "MISC")]),
        # a company after a sector noun, after "bij", in an apposition
        ("De supermarktketen Jumbo groeit.", [("Jumbo", "ORG")]),
        ("Bij Unilever werken veel mensen.", [("Unilever", "ORG")]),
        ("Shell, 's werelds grootste oliebedrijf, maakte winst.", [("Shell", "ORG")]),
        # a person is no place
        (
            "Minister Hoekstra sprak met Rutte in Brussel.",
            [("Hoekstra", "PER"), ("Rutte", "PER"), ("Brussel", "LOC")],
        ),
    ],
)
def test_issue_12_case(extractor: EntityExtractor, body: str, expected: list[tuple[str, str]]) -> None:
    found = entities(extractor, body)
    assert all(item in found for item in expected), found
