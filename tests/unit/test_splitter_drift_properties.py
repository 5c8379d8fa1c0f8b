"""Properties of the other-site layouts: furniture and stamps added to any generated page change nothing.

Pages come from the generator of ``test_splitter_properties``; each is then dressed as a news site
would print it — menu, login and cookie lines and a "Net binnen" list on top, the main headline
printed twice, a clock time or date before datelines — and must read back as the bare page did, with
no warning, every piece of text still in exactly one part.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.enrich.datelines import match_dateline
from services.enrich.parser import parse_page
from tests.unit.test_splitter_properties import (
    Expected,
    assert_parts_agree_with_articles,
    covered,
    pages,
    squash,
)

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

FURNITURE = [
    "Home | Nieuws | Sport | Webmail",
    "Webmail",
    "Menu",
    "Inloggen",
    "Log in om te reageren",
    "Wij gebruiken cookies om de site te verbeteren. Akkoord",
    "Cookie-instellingen",
    "Net binnen\n- Binnenland 16:29 Brand in loods\n- Sport 16:12 Ajax wint van PSV",
    "Laatste nieuws\n– Economie 14:05 Beurs hoger\n– Cultuur & Media 13:30 Museum open",
    "Foto: ANP",
]
STAMPS = ["16:29", "09.05", "13 oktober", "2 januari 2026", "ma 23 feb 18:30", "28-02-2026, 07:45"]


@st.composite
def dressed_pages(draw: st.DrawFn) -> tuple[str, str, list[Expected]]:
    """(bare page, the same page dressed as a site prints it, what the bare page holds)."""
    bare, expected, _ = draw(pages())
    lines = bare.split("\n")
    top = draw(st.lists(st.sampled_from(FURNITURE), max_size=4))
    if expected[0].headline is not None and draw(st.booleans()):
        top.append(lines[0].split(" (")[0] if expected[0].version else lines[0])  # the headline, twice
    dressed = []
    for line in lines:
        if match_dateline(line) is not None and draw(st.booleans()):
            line = f"{draw(st.sampled_from(STAMPS))} {line}"
        dressed.append(line)
    return bare, "\n".join([*top, *dressed]), expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dressed_pages())
def test_site_dressing_changes_no_article(generated: tuple[str, str, list[Expected]]) -> None:
    """Headlines, datelines, bodies and times of the dressed page are the bare page's; no warning."""
    bare, dressed, _ = generated
    want = parse_page(bare, received_at=RECEIVED)
    got = parse_page(dressed, received_at=RECEIVED)
    assert covered(got) == squash(dressed)
    assert_parts_agree_with_articles(got)
    assert got.warnings == ()

    def fields(page_articles: tuple[object, ...]) -> list[tuple[object, ...]]:
        return [
            (a.role, a.headline, a.dateline.place, a.dateline.agencies, a.body, a.relative_time)  # type: ignore[attr-defined]
            for a in page_articles
        ]

    assert fields(got.articles) == fields(want.articles)
