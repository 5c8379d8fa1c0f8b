"""The brand list of the NER rules (issue 12): brands and company operators serving the Low Countries
from OpenStreetMap's name-suggestion-index, what is left out, and what the shipped list changes.

The npm package is read only by hand (``scripts/ner_brands.py PACKAGE``); the extraction is tested on a
small package written here, the filters on a small data file, and the shipped list and its committed
source file as they are in the repository.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor
from services.enrich.entities.engine import LEXICON_DIR
from services.enrich.entities.rules import Lexicon
from tests.unit.lexicon_lists import labels, without_and_with

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import ner_brands

pytestmark = pytest.mark.unit

SHIPPED = Path(LEXICON_DIR) / "brands.txt"


def _item(name: str, include: list[str], exclude: list[str] | None = None, key: str = "brand") -> dict:
    location: dict[str, list[str]] = {"include": include}
    if exclude:
        location["exclude"] = exclude
    return {"displayName": name, "locationSet": location, "tags": {key: name}}


def test_extract_keeps_company_categories_serving_the_low_countries(tmp_path: Path) -> None:
    nsi = {
        "brands/shop/supermarket": {
            "items": [
                _item("Jumbo", ["nl", "be"]),
                _item("Lidl", ["001"]),
                _item("Biedronka", ["pl"]),  # not serving NL/BE
                _item("Coop", ["150"], exclude=["nl"]),  # Europe, but not the Netherlands
                _item("Светофор", ["001"]),  # not in Latin letters
            ]
        },
        "operators/power/line": {"items": [_item("TenneT", ["nl"], key="operator")]},
        "operators/amenity/school": {"items": [_item("Gemeente Utrecht", ["nl"], key="operator")]},
        "transit/route/bus": {
            "items": [
                {"locationSet": {"include": ["nl"]}, "tags": {"network": "Twente", "operator": "Keolis"}}
            ]
        },
        "flags/man_made/flagpole": {"items": [_item("Nederland", ["nl"])]},
    }
    (tmp_path / "dist" / "json").mkdir(parents=True)
    (tmp_path / "dist" / "json" / "nsi.json").write_text(json.dumps({"nsi": nsi}), encoding="utf-8")
    rows = ner_brands.extract(tmp_path)
    assert [name for name, _, _ in rows] == ["Jumbo", "Keolis", "Lidl", "TenneT"]
    assert ("Jumbo", "shop/supermarket", "be,nl") in rows


def test_build_applies_the_company_filters_and_keeps_local_founder_names(tmp_path: Path) -> None:
    data = tmp_path / "brands.tsv"
    rows = [
        ("Jumbo", "be,nl"),
        ("Action", "be,nl"),  # an English word
        ("Diesel", "001"),  # a lower-case word of the training text
        ("Oss", "nl"),  # a listed place
        ("Albert Heijn", "be,nl"),  # a first name, but a brand of the Low Countries alone
        ("Calvin Klein", "001"),  # a designer's own name, worldwide
        ("NS", "nl"),  # a short acronym of the Low Countries
        ("BT", "001"),  # a short acronym elsewhere
        ("HEMA", "be,nl"),  # also as the press writes it
        ("ANWB", "nl"),  # spelled, not said: no "Anwb"
        ("Kuehne+Nagel B.V.", "001"),  # the legal form dropped
    ]
    data.write_text("# header\n" + "".join(f"{n}\tshop/x\t{a}\n" for n, a in rows), encoding="utf-8")
    built = ner_brands.build(common={"diesel"}, listed={"Oss"}, first_names={"Albert"}, path=data)
    assert built == {"Jumbo", "Albert Heijn", "NS", "HEMA", "Hema", "ANWB", "Kuehne+Nagel"}


def test_the_committed_source_file_names_its_origin_version_and_licence() -> None:
    header = ner_brands.DATA_FILE.read_text(encoding="utf-8").splitlines()[:4]
    assert "name-suggestion-index 8.0.20260918" in header[0]
    assert "BSD-3-Clause" in header[1]
    assert len(ner_brands.read()) > 1500


def test_the_shipped_list_holds_the_consumer_firms_the_stock_lists_miss() -> None:
    brands = set(SHIPPED.read_text(encoding="utf-8").splitlines())
    assert {"Jumbo", "Lidl", "Albert Heijn", "Kruidvat", "Coolblue", "Eneco", "Odido", "Telenet"} <= brands
    assert {"Fluvius", "Arriva", "NS", "Hema", "PostNL"} <= brands
    # names the team's own organisation list had already are not repeated in it
    assert {"Belfius", "Colruyt", "De Lijn"} <= Lexicon.from_dir(Path(LEXICON_DIR)).phrases["ORG"] - brands
    assert not brands & ner_brands.AMBIGUOUS
    folder = Path(LEXICON_DIR)
    places = set((folder / "loc.txt").read_text(encoding="utf-8").splitlines())
    companies = set((folder / "companies.txt").read_text(encoding="utf-8").splitlines())
    assert not brands & places and not brands & companies


@pytest.fixture(scope="module")
def extractors() -> tuple[EntityExtractor, EntityExtractor]:
    """The shipped extractor without and with the brand list."""
    return without_and_with(SHIPPED)


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Albert Heijn verkoopt meer vegetarische producten.", "Albert Heijn"),
        ("De klanten van Jumbo en Lidl betalen meer.", "Lidl"),
        ("Odido en Telenet schrappen banen.", "Telenet"),
        ("Volgens Eneco stijgen de prijzen.", "Eneco"),
        ("De treinen van NS en Arriva reden niet.", "Arriva"),
        ("Coolblue groeit hard.", "Coolblue"),
        ("Hans Anders opent winkels.", "Hans Anders"),
        ("Fluvius legt kabels.", "Fluvius"),
    ],
)
def test_a_brand_the_model_misses_or_takes_for_a_person_or_place_is_an_organisation(
    extractors: tuple[EntityExtractor, EntityExtractor], body: str, name: str
) -> None:
    without, with_list = extractors
    assert (name, "ORG") not in labels(without, body)
    assert (name, "ORG") in labels(with_list, body)


def test_a_dutch_noun_a_brand_is_named_after_stays_a_word(
    extractors: tuple[EntityExtractor, EntityExtractor],
) -> None:
    """ "Topman" (chief executive) opens many wire sentences; the clothing brand is left out."""
    _, with_list = extractors
    assert ("Topman", "ORG") not in labels(with_list, "Topman Dick Boer vertrekt bij het bedrijf.")
