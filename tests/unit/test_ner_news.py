"""Rules of the sixth round of issue 12 (0.1.6), chosen on the news dev split ``tests/data/open_news_nl_dev``;
one test per rule, each fails without it. Sentences are the team's own (none is from a frozen set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor
from services.enrich.entities.conll import read_documents, spans
from services.enrich.entities.headlines import headline_runs
from tests.entities import entities

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"


def test_a_headline_in_capitals_holds_no_names(extractor: EntityExtractor) -> None:
    """drop_headline_names: the model and the acronym rule made ORGs of the common words before."""
    found = entities(extractor, "BRANDWEER BLUST GROTE BRAND ; BEWONERS ONGEDEERD\nDe brand woedde urenlang.")
    assert found == []


def test_a_dateline_and_a_row_of_acronyms_are_no_headline() -> None:
    """headline_runs: one capitalised word before a dash, or short acronyms, keep their names."""
    assert headline_runs(["ROTTERDAM", "-", "De", "politie", "zocht"]) == []
    assert headline_runs(["NOS", ",", "RTL", ",", "SBS", "en", "KRO"]) == []
    assert headline_runs(["BRANDWEER", "BLUST", "GROTE", "BRAND"]) == [(0, 4)]


def test_news_dev_split_size() -> None:
    """The dev split the news rules were chosen on: 8 documents, 108 names (23 ORG)."""
    text = (DATA / "open_news_nl_dev" / "test.conll").read_text(encoding="utf-8").splitlines()
    documents = read_documents(text)
    labels = [label for d in documents for s in d.sentences for *_, label in spans(s.gold)]
    assert (len(documents), len(labels), labels.count("ORG")) == (8, 108, 23)


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("De Koning ontving de gasten op Paleis Noordeinde in Den Haag.", "Paleis Noordeinde"),
        ("De president van de Republiek Korea kwam op staatsbezoek.", "Republiek Korea"),
    ],
)
def test_a_palace_or_state_head_and_its_name_are_one_place(
    extractor: EntityExtractor, body: str, name: str
) -> None:
    """_place_context: the model took "Noordeinde" alone and missed "Republiek Korea" before."""
    assert (name, "LOC") in entities(extractor, body)


def test_a_capitalised_institution_compound_after_an_article_is_an_organisation(
    extractor: EntityExtractor,
) -> None:
    """institution_compounds: the model left "Rijksvoorlichtingsdienst" untagged after "de"."""
    found = entities(extractor, "Dat meldde de Rijksvoorlichtingsdienst dinsdag in een korte verklaring.")
    assert ("Rijksvoorlichtingsdienst", "ORG") in found
