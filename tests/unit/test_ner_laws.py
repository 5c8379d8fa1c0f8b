"""The rules of the fifth round of issue 12 (0.1.5): laws are MISC, and so are compounds of a name
that itself has a hyphen or starts with digits; a name between two persons of one enumeration is a
person. One test per rule; each fails without it.

Sentences are the team's own, written in the style of the dev material (none is from a frozen set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor
from services.enrich.entities.conll import read_documents, spans
from tests.entities import entities

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    ("body", "name"),
    [
        # a capitalised compound on "-wet", "-besluit", "-regeling" (law_names)
        ("De gemeente werkt volgens de Woningwet aan nieuwe huizen.", "Woningwet"),
        ("Het kabinet past het Bouwbesluit aan voor zonnepanelen.", "Bouwbesluit"),
        # "Wet" and its title, up to where the sentence goes on
        ("Volgens de Wet op de ondernemingsraden mag de raad meepraten.", "Wet op de ondernemingsraden"),
        ("De Wet bescherming persoonsgegevens geldt niet meer.", "Wet bescherming persoonsgegevens"),
        ("De rechter toetste aan de Wet werk en zekerheid.", "Wet werk en zekerheid"),
        # a capitalised adjective before a lower-case "wet"
        ("Het besluit valt onder de Algemene wet bestuursrecht.", "Algemene wet bestuursrecht"),
    ],
)
def test_laws_are_misc(extractor: EntityExtractor, body: str, name: str) -> None:
    assert (name, "MISC") in entities(extractor, body)


def test_a_laws_short_form_is_misc_wherever_it_recurs(extractor: EntityExtractor) -> None:
    found = entities(
        extractor,
        "De bank moet zich houden aan de Wet ter voorkoming van witwassen (Wwft).",
        "De toezichthouder controleert de Wwft streng.",
    )
    assert found.count(("Wwft", "MISC")) == 2


@pytest.mark.parametrize(
    "body",
    [
        "Het vaccin werkt; wet en regelgeving volgen later.",  # lower case: the common noun
        "Ontwerpbesluit volgt later dit jaar.",  # a "-besluit" compound opening a sentence
        "Wet is wet, zei de burgemeester.",  # "Wet" opening a sentence without a title link
    ],
)
def test_common_nouns_are_no_laws(extractor: EntityExtractor, body: str) -> None:
    assert not [name for name, label in entities(extractor, body) if label == "MISC"]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("De GroenLinks-PvdA-fractie stemde tegen het plan.", "GroenLinks-PvdA-fractie"),
        ("De 50PLUS-fractie sluit zich daarbij aan.", "50PLUS-fractie"),
    ],
)
def test_compounds_of_hyphenated_or_numbered_names_are_misc(
    extractor: EntityExtractor, body: str, name: str
) -> None:
    assert (name, "MISC") in entities(extractor, body)


def test_laws_dev_split_size() -> None:
    """The dev split the law rule was chosen on: 6 documents, 49 names (36 MISC)."""
    text = (DATA / "open_laws_nl_dev" / "test.conll").read_text(encoding="utf-8").splitlines()
    documents = read_documents(text)
    labels = [label for d in documents for s in d.sentences for *_, label in spans(s.gold)]
    assert (len(documents), len(labels), labels.count("MISC")) == (6, 49, 36)


def test_a_name_between_two_persons_of_one_enumeration_is_a_person(extractor: EntityExtractor) -> None:
    """enumerated_persons: the model types "Thijssen" MISC here; both neighbours in the list are persons
    (the party in brackets after one of them is a remark, not an item)."""
    found = entities(
        extractor,
        "Vragen van de leden Kostić ( PvdD ) , Koekkoek ( Volt ) , Thijssen , Bamenga ( D66 ) aan de minister.",
    )
    assert ("Thijssen", "PER") in found


def test_an_enumeration_of_organisations_stays_organisations(extractor: EntityExtractor) -> None:
    found = entities(extractor, "Ajax speelde dit jaar tegen Feyenoord, PSV en AZ.")
    assert not [name for name, label in found if label == "PER"]


def test_a_titled_report_is_misc(extractor: EntityExtractor) -> None:
    """ "rapport" among WORK_CONTEXT_SUFFIXES: without it the camel-case rule made the report a company."""
    found = entities(extractor, "De minister reageert op het eindrapport GrijsWerkt van de commissie.")
    assert ("GrijsWerkt", "MISC") in found
