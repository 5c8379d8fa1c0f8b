"""Datelines: what opens an article, and — just as important — what does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrich.datelines import match_dateline

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("line", "place", "agencies"),
    [
        ("DEN HAAG (ANP) - Het kabinet wil meer geld.", "DEN HAAG", ("ANP",)),
        ("BACHMOET (ANP/AFP) - Russische troepen rukken op.", "BACHMOET", ("ANP", "AFP")),
        ("DUBAI (ANP/RTR/AFP) - Vluchten zijn geschrapt.", "DUBAI", ("ANP", "RTR", "AFP")),
        (
            "SINT-PETERSBURG (ANP/RTR/DPA/AFP) - De haven groeit.",
            "SINT-PETERSBURG",
            ("ANP", "RTR", "DPA", "AFP"),
        ),
        ("BRUSSEL (Belga/ANP) - De Commissie komt met een plan.", "BRUSSEL", ("Belga", "ANP")),
        ("NEW YORK (ANP/BLOOMBERG) - Beurzen sluiten lager.", "NEW YORK", ("ANP", "BLOOMBERG")),
        ("AMSTERDAM (ANP/AFN) - De AEX stijgt licht.", "AMSTERDAM", ("ANP", "AFN")),
        ("WASHINGTON (AP) - Het Congres stemt.", "WASHINGTON", ("AP",)),
        ("RIO DE JANEIRO (AFP/ANP) - De rente gaat omhoog.", "RIO DE JANEIRO", ("AFP", "ANP")),
        ("MÜNCHEN (ANP/DPA) - Het vliegveld is dicht.", "MÜNCHEN", ("ANP", "DPA")),
        ("SÃO PAULO (ANP) - Zware regen valt.", "SÃO PAULO", ("ANP",)),
        ("'S-HERTOGENBOSCH (ANP) - Het stadhuis sluit.", "'S-HERTOGENBOSCH", ("ANP",)),
        ("ŁÓDŹ (ANP/PAP) - Een fabriek brandt af.", "ŁÓDŹ", ("ANP", "PAP")),
        ("ST. LOUIS (ANP) - Een tornado trekt over.", "ST. LOUIS", ("ANP",)),
        ("DEN HAAG (ANP)- Zonder spatie voor het streepje.", "DEN HAAG", ("ANP",)),
        ("LONDEN (ANP) – Met een en-streepje.", "LONDEN", ("ANP",)),
        ("PARIJS (ANP) — Met een em-streepje.", "PARIJS", ("ANP",)),
        ("BRUSSEL/STRAATSBURG (ANP) - Het parlement stemt.", "BRUSSEL/STRAATSBURG", ("ANP",)),
        ("DOMBURG - Een deel van het strand is afgesloten.", "DOMBURG", ()),
        ("DOMBURG — Een deel van het strand is afgesloten.", "DOMBURG", ()),
    ],
)
def test_datelines_are_recognised(line: str, place: str, agencies: tuple[str, ...]) -> None:
    """Place as written and agencies in order are read, and the body starts right after the dash."""
    found = match_dateline(line)
    assert found is not None
    assert (found.place, found.agencies) == (place, agencies)
    assert line[found.end :].split()[0][0].isupper()


@pytest.mark.parametrize(
    "line",
    [
        "COVID-19 (ANP) - dat woord viel vaak tijdens het overleg.",  # digits: a phrase, not a place
        "In ziekenhuizen werd gewaarschuwd voor COVID-19 (ANP) - een woordvoerder zei dat.",  # mid-sentence
        '"STOP NU - het is te gevaarlijk", riep een agent.',  # capitals in a quote
        "'STOP NU - het is te gevaarlijk', riep een agent.",  # single quote is not 's-/'t
        "ALARMFASE - OOK IN ZEELAND",  # shouted: nothing after the dash reads as a sentence
        "STORM RAAST OVER HET LAND",  # shouted headline, no dash at all
        "NAVO - RUSLAND: SPANNING LOOPT OP",
        "EU - Nee.",  # no agency and too short to be a body
        "Den Haag (ANP) - Niet in hoofdletters.",
        "DEN HAAG (anp) - Agentschap in kleine letters.",
        "DEN HAAG (ANP/AFP/RTR/DPA/AP) - Vijf agentschappen is er een te veel.",
        "DEN HAAG (ANP) -Geen spatie na het streepje.",
        "DEN HAAG-Het streepje hoort bij een samenstelling en niet bij een dateline.",
        "EEN HEEL LANGE REEKS VAN WOORDEN IN HOOFDLETTERS (ANP) - en dan tekst.",
        "A - Een enkele letter is geen plaats hier.",
        "- DEN HAAG (ANP) - Begint met een streepje.",
        "",
    ],
)
def test_non_datelines_are_rejected(line: str) -> None:
    """Text that merely resembles a dateline is not one."""
    assert match_dateline(line) is None


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_arbitrary_text(line: str) -> None:
    """Any string is either a dateline with a capitalised place or None; nothing raises."""
    found = match_dateline(line)
    if found is not None:
        assert found.place and line.startswith(found.place)
        assert 0 < found.end <= len(line)


def test_matching_is_linear_on_long_lines() -> None:
    """A very long line of capitals and dashes is rejected without a backtracking blow-up (which would
    take minutes on 200,000 characters): a complexity guard, not a speed figure."""
    import time

    line = ("A - " * 50_000) + "(ANP) - tekst"
    start = time.perf_counter()
    assert match_dateline(line) is None
    assert time.perf_counter() - start < 2
