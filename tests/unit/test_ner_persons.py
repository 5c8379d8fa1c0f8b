"""Person and party rules of the fifth round of issue 12 (0.1.5), chosen on ``tests/data/open_plenary_nl_dev``;
one test per rule, each fails without it. Sentences are the team's own (none is from a frozen set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor
from services.enrich.entities.conll import read_documents, spans
from tests.entities import entities

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"


def test_an_honorific_opening_a_line_is_no_part_of_the_name(extractor: EntityExtractor) -> None:
    """party_members stops at "Mevrouw": the model and the rule took "Mevrouw Kant" whole before."""
    assert ("Kant", "PER") in entities(extractor, "Mevrouw Kant ( SP ) zei dat niet.")


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Het woord is aan het lid Kraneveldt-van der Veen van de PvdA.", "Kraneveldt-van der Veen"),
        ("Het amendement van Dik-van der Laan is aangenomen.", "Dik-van der Laan"),
    ],
)
def test_a_double_surname_with_a_particle_is_one_person(
    extractor: EntityExtractor, body: str, name: str
) -> None:
    """double_surnames: not a compound "Kraneveldt-van" (MISC) and a place "Veen"."""
    assert (name, "PER") in entities(extractor, body)


def test_plenary_dev_split_size() -> None:
    """The dev split the person rules were chosen on: 4 documents, 56 names (35 PER)."""
    text = (DATA / "open_plenary_nl_dev" / "test.conll").read_text(encoding="utf-8").splitlines()
    documents = read_documents(text)
    labels = [label for d in documents for s in d.sentences for *_, label in spans(s.gold)]
    assert (len(documents), len(labels), labels.count("PER")) == (4, 56, 35)


def test_a_party_of_several_words_is_an_organisation_outside_brackets(extractor: EntityExtractor) -> None:
    """party_names: the model leaves "Partij voor de Dieren" untagged after "namens de"."""
    found = entities(extractor, "Het woord is aan de heer Wassenberg namens de Partij voor de Dieren.")
    assert ("Partij voor de Dieren", "ORG") in found
