"""The context rules of the second round of issue 12 (0.1.4), one test per rule; each fails without it.

Sentences are the team's own, written in the style of the dev material (none is from a frozen set).
The second frozen set, ``tests/data/open_gov_nl``, is checked for its size only: it is never tuned on.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor
from services.enrich.entities.conll import read_documents, spans
from tests.entities import entities

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    ("body", "name", "label"),
    [
        # an institution noun with a capital after an article starts the name (institution_names)
        ("Het Havenbedrijf Antwerpen-Brugge maakte eerder een plan.", "Havenbedrijf Antwerpen-Brugge", "ORG"),
        # a party in brackets makes the name before it a person (party_members), particles included
        ("Koekkoek (Volt) stelde de vragen.", "Koekkoek", "PER"),
        ("Indiener is Gijs van Dijk (PvdA) uit Den Haag.", "Gijs van Dijk", "PER"),
        ("Vragen van Rooderkerk (beiden D66) over de begroting.", "Rooderkerk", "PER"),
        ("Vragen van Zeedijk (Nieuw Sociaal Contract) over de begroting.", "Nieuw Sociaal Contract", "ORG"),
        # "het lid X" names a member of parliament (EXTRA_TITLES)
        ("Vragen van het lid Slootweg over de banken.", "Slootweg", "PER"),
        # an English industry word ends a company's name (ORG_END_WORDS)
        ("De vergunning van Tata Steel wordt strenger.", "Tata Steel", "ORG"),
        # the words before an acronym in brackets that spell it are its name (acronym_expansions)
        (
            "Het onderzoek van het Rijksinstituut voor Volksgezondheid en Milieu (RIVM) is klaar.",
            "Rijksinstituut voor Volksgezondheid en Milieu",
            "ORG",
        ),
        # one word with a capital inside is a company (camel_case_names)
        ("De zzp-constructie die UberEats gebruikt, is omstreden.", "UberEats", "ORG"),
        # a portfolio after "van" ends a person's name, even one with particles (person_end)
        ("De minister David van Weel van Justitie zei dat niet.", "David van Weel", "PER"),
    ],
)
def test_context_rule_types_the_name(extractor: EntityExtractor, body: str, name: str, label: str) -> None:
    found = entities(extractor, body)
    assert (name, label) in found, found


@pytest.mark.parametrize(
    ("body", "portfolio"),
    [
        ("Het Amerikaanse ministerie van Defensie stuurt extra schepen.", "Defensie"),
        ("Vragen aan de Minister van Economische Zaken over de fabriek.", "Economische Zaken"),
        ("De vaste commissie voor Infrastructuur en Waterstaat vergadert.", "Infrastructuur en Waterstaat"),
    ],
)
def test_a_portfolio_is_no_name(extractor: EntityExtractor, body: str, portfolio: str) -> None:
    """drop_portfolios: the team's conventions leave the portfolio after "ministerie van" untagged."""
    found = entities(extractor, body)
    assert portfolio not in [text for text, _ in found], found


def test_a_person_with_a_name_prefix_is_no_camel_case_company(extractor: EntityExtractor) -> None:
    found = entities(extractor, "Volgens DiCaprio is de film klaar.")
    assert ("DiCaprio", "ORG") not in found, found


def test_the_head_of_a_company_name_keeps_its_type_in_the_document(extractor: EntityExtractor) -> None:
    """The name before an industry word or legal form ("Tata" of "Tata Steel") is that company wherever
    it stands alone in the same document (canonical.COMPANY_ENDS), though the model reads it as a person."""
    found = entities(
        extractor,
        "Het bericht « Tata vervuilender dan gedacht » kwam hard aan.",
        "Bij de vergunning van Tata Steel in IJmuiden is veel mis.",
    )
    assert {label for text, label in found if text == "Tata"} == {"ORG"}, found


def test_the_second_frozen_set_is_intact() -> None:
    """tests/data/open_gov_nl keeps its size: 35 documents, 416 names (frozen before tuning, corrected once)."""
    lines = (DATA / "open_gov_nl" / "test.conll").read_text(encoding="utf-8").splitlines()
    documents = read_documents(lines)
    names = [s for d in documents for sentence in d.sentences for s in spans(sentence.gold)]
    assert len(documents) == 35
    assert Counter(label for *_, label in names) == {"ORG": 187, "LOC": 87, "PER": 81, "MISC": 61}
