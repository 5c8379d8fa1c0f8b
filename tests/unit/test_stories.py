"""Story matching rules (``services.store.stories``): what makes two articles one wire item."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.store.stories import (
    SLOTS,
    Profile,
    Relation,
    best_match,
    key64,
    profile,
    relation,
    slots,
)

pytestmark = pytest.mark.unit

LEAD = (
    "In de binnenstad van Zwolle heeft zondagochtend een grote brand gewoed in een pand aan de "
    "Diezerstraat. Bewoners van 12 woningen zijn geëvacueerd."
)
REST = (
    "De brandweer schaalde op naar zeer grote brand. Er raakte niemand gewond, meldt de veiligheidsregio.\n"
    "Hoe de brand ontstond, is nog niet bekend. De politie doet onderzoek."
)
OTHER_AGENCY = (
    "Een uitslaande brand heeft het historische centrum van Zwolle zondag in rook gehuld. Omwonenden "
    "werd gevraagd ramen en deuren te sluiten, meldt de veiligheidsregio."
)


def art(
    body: str,
    *,
    role: str = "main",
    place: str | None = "Zwolle",
    headline: str | None = None,
    version: int | None = None,
    preamble: str | None = None,
) -> Profile:
    return profile(
        role=role, place=place, headline=headline, headline_version=version, preamble=preamble, body=body
    )


def test_the_same_text_again_is_a_repeat_whatever_its_quotes_spaces_and_case() -> None:
    """Curly quotes, double spaces, line breaks and case do not make another item."""
    quoted = LEAD + ' "We zijn geschrokken", zei een buurvrouw.'
    other = LEAD.upper().replace(". ", ".  ") + " “We zijn geschrokken”, zei een buurvrouw."
    assert relation(art(other), art(quoted)) is Relation.REPEAT


def test_a_brief_that_is_the_lead_of_an_article_is_the_same_story_in_either_order() -> None:
    """Brief before main and main before brief: both orders find the cut, and call it one version."""
    brief, main = art(LEAD, role="brief"), art(LEAD + "\n" + REST, headline="Grote brand in Zwolle")
    assert relation(main, brief) is Relation.CUT  # main-after-brief
    assert relation(brief, main) is Relation.CUT  # brief-after-main


def test_a_brief_cut_inside_the_first_paragraph_is_the_same_story() -> None:
    """A brief may be a cut of the lead, ending mid-paragraph."""
    cut = " ".join(LEAD.split()[:15])
    assert relation(art(cut, role="brief"), art(LEAD + "\n" + REST)) is Relation.CUT


def test_a_very_short_opening_is_not_enough_to_call_two_texts_one_item() -> None:
    """Five shared words ("Het kabinet is gevallen.") could open two different items."""
    short = art("Het kabinet is gevallen.", role="brief", place="Den Haag")
    long = art("Het kabinet is gevallen. De premier trad dinsdag af na ruzie over geld.", place="Den Haag")
    assert relation(short, long) is None


def test_the_same_event_by_another_agency_is_another_story() -> None:
    """Same place, same fire, other text: item identity, not topic."""
    assert relation(art(OTHER_AGENCY, role="brief"), art(LEAD + "\n" + REST)) is None


def test_another_dateline_place_is_another_story() -> None:
    """The same words under another dateline are not the same wire item."""
    assert relation(art(LEAD, place="Deventer"), art(LEAD, place="Zwolle")) is None


def test_a_light_edit_is_a_new_version() -> None:
    """One figure corrected (12 → 14 woningen) is a version of the same item."""
    edited = LEAD.replace("12 woningen", "14 woningen") + "\n" + REST
    assert relation(art(edited), art(LEAD + "\n" + REST)) is Relation.VERSION


def test_a_full_text_that_runs_on_is_a_new_version_but_a_brief_is_not() -> None:
    """A main article that adds a paragraph to another main is version 2; a brief is a cut, not a version."""
    longer = LEAD + "\n" + REST + "\nAan het eind van de middag was het vuur onder controle."
    assert relation(art(longer), art(LEAD + "\n" + REST)) is Relation.VERSION
    assert relation(art(LEAD, role="brief"), art(longer)) is Relation.CUT


def test_the_same_words_with_another_date_and_figures_are_another_item() -> None:
    """A march held again the next week: only the date and the count differ, yet it is another item."""
    first = "In Den Haag zijn dinsdag 12 maart 400 boeren de straat op gegaan tegen de stikstofregels."
    again = "In Den Haag zijn dinsdag 19 maart 650 boeren de straat op gegaan tegen de stikstofregels."
    assert relation(art(again, place="Den Haag"), art(first, place="Den Haag")) is None


def test_a_headline_version_marker_makes_a_version_even_with_a_rewritten_text() -> None:
    """A version marker, "Kop (2)", under the same headline and place is the next version, whatever its text."""
    v1 = art(LEAD, headline="Grote brand in Zwolse binnenstad")
    v2 = art(OTHER_AGENCY, headline="Grote brand in Zwolse binnenstad (2)", version=2)
    assert relation(v2, v1) is Relation.VERSION


def test_a_correction_preamble_names_the_version_it_replaces() -> None:
    """'N i e u w bericht, vervangt: <old headline>' ties a new headline and text to the old one."""
    v1 = art(LEAD, headline="Brand in Zwolle")
    v2 = art(
        OTHER_AGENCY,
        headline="Zwolse binnenstad in rook gehuld (2)",
        version=2,
        preamble="N i e u w bericht, vervangt: Brand in Zwolle",
    )
    assert relation(v2, v1) is Relation.VERSION
    assert slots(key64("headline", "zwolle", "brand in zwolle"))[0] in v2.lookup_keys()


def test_the_same_headline_without_any_version_mark_is_not_enough() -> None:
    """Two items may share a headline ("Brand in Zwolle"); without a marker the texts must agree."""
    assert (
        relation(art(OTHER_AGENCY, headline="Brand in Zwolle"), art(LEAD, headline="Brand in Zwolle")) is None
    )


def test_the_same_opening_sentence_with_the_rest_rewritten_is_a_version() -> None:
    """A long first sentence word for word the same names the item, even with the rest rewritten."""
    a = "De bouw van de nieuwe zeesluis bij Terneuzen loopt opnieuw vertraging op. Het kost meer."
    b = "De bouw van de nieuwe zeesluis bij Terneuzen loopt opnieuw vertraging op. De sluis gaat later open."
    assert relation(art(b, place="Terneuzen"), art(a, place="Terneuzen")) is Relation.VERSION


def test_a_brief_shares_its_lead_key_with_its_article() -> None:
    """The index finds the article behind a brief: they share the lead key (place + first words)."""
    brief, main = art(LEAD, role="brief"), art(LEAD + "\n" + REST, headline="Grote brand")
    assert set(brief.index_keys()) & set(main.index_keys())


def test_keys_are_stable_and_named_keys_have_slots() -> None:
    """Keys are the same in every process (stored keys must keep matching); named keys get SLOTS places."""
    assert art(LEAD).index_keys() == art(LEAD).index_keys()
    assert key64("lead", "x") == key64("lead", "x") != key64("lead", "y")
    named = art(LEAD, headline="Kop").named_keys()
    lookups = set(art(LEAD, headline="Kop").lookup_keys())
    assert all(len(slots(k)) == SLOTS and set(slots(k)) <= lookups for k in named)


def test_best_match_prefers_the_strongest_relation_then_the_oldest_story() -> None:
    """A repeat beats a version; between equals, the lowest story id wins (order of candidates aside)."""
    new = art(LEAD + "\n" + REST)
    edited = art(LEAD.replace("12 woningen", "14 woningen") + "\n" + REST)
    same = art(LEAD + "\n" + REST)
    match = best_match(new, [(7, 70, edited), (9, 90, same)])
    assert match is not None and (match.story, match.relation) == (9, Relation.REPEAT)
    match = best_match(new, [(9, 90, same), (4, 40, same)])
    assert match is not None and match.story == 4
    assert best_match(art(OTHER_AGENCY), [(1, 10, same)]) is None


WEATHER = (
    "Het KNMI verwacht voor {city} morgen een maximumtemperatuur van {degrees} graden, een zwakke tot "
    "matige zuidwestenwind en in de middag kans op een enkele lokale bui. De nacht blijft droog en "
    "vrij zacht."
)


def test_one_template_filled_in_for_two_cities_is_two_items() -> None:
    """The weather for two cities: the same words but a place and a figure. Under one dateline, under
    none, and as a cut (one a brief of the other's lead) they stay apart."""
    utrecht = WEATHER.format(city="Utrecht", degrees=12)
    groningen = WEATHER.format(city="Groningen", degrees=9)
    assert relation(art(groningen, place="De Bilt"), art(utrecht, place="De Bilt")) is None
    assert relation(art(groningen, place=None), art(utrecht, place=None)) is None
    brief = art(groningen.split(", een zwakke")[0] + " en wind.", role="brief", place="De Bilt")
    assert relation(brief, art(utrecht, place="De Bilt")) is None


def test_a_template_for_another_place_with_the_dateline_only_on_one_is_another_item() -> None:
    """A changed figure with a dateline place on one side only: another place's copy of the template."""
    assert (
        relation(
            art(WEATHER.format(city="ons land", degrees=9), place=None),
            art(WEATHER.format(city="ons land", degrees=12), place="De Bilt"),
        )
        is None
    )


def test_a_corrected_figure_keeps_its_names_and_place_so_it_is_still_a_version() -> None:
    """The guard leaves a real correction alone: same city, same dateline, one figure changed."""
    first = art(WEATHER.format(city="Utrecht", degrees=12), place="De Bilt")
    corrected = art(WEATHER.format(city="Utrecht", degrees=13), place="De Bilt")
    assert relation(corrected, first) is Relation.VERSION
    # A changed name alone (no figure) is an edit too: a misspelt name corrected.
    renamed = art(WEATHER.format(city="Utrecht-Stad", degrees=12), place="De Bilt")
    assert relation(renamed, first) is Relation.VERSION


def test_an_explicit_version_of_a_template_item_still_joins_it() -> None:
    """A version marker under the same headline says it is the same item, whatever changed."""
    old = art(WEATHER.format(city="Utrecht", degrees=12), headline="Weerbericht Utrecht")
    new = art(WEATHER.format(city="Groningen", degrees=9), headline="Weerbericht Utrecht (2)", version=2)
    assert relation(new, old) is Relation.VERSION


def test_story_prints_from_enrich_give_the_store_the_same_keys() -> None:
    """A profile built with enrich's print has the keys the store computes without one."""
    from shared.messages import Article, Dateline
    from shared.storyprint import story_print

    article = Article(
        seq=0,
        role="main",
        headline="Grote brand in Zwolle (2)",
        headline_version=2,
        preamble="N i e u w bericht, vervangt: Brand in Zwolle",
        dateline=Dateline(place="ZWOLLE"),
        body=LEAD + "\n" + REST,
    )
    fields = {
        "role": article.role,
        "place": "ZWOLLE",
        "headline": article.headline,
        "headline_version": 2,
        "preamble": article.preamble,
        "body": article.body,
    }
    given = profile(**fields, story_print=story_print(article))  # type: ignore[arg-type]
    computed = profile(**fields)  # type: ignore[arg-type]
    assert given.print is not computed.print
    assert given.print == computed.print
    assert given.lookup_keys() == computed.lookup_keys()
    assert computed.exact in computed.index_keys()


@settings(max_examples=120, deadline=None)
@given(
    headline=st.one_of(st.none(), st.text(max_size=80)),
    preamble=st.one_of(st.none(), st.text(max_size=60)),
    place=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
    body=st.text(max_size=600),
    role=st.sampled_from(["main", "brief"]),
    version=st.one_of(st.none(), st.integers(1, 9)),
)
def test_any_text_gets_the_same_keys_from_enrich_and_from_the_store(
    headline: str | None, preamble: str | None, place: str | None, body: str, role: str, version: int | None
) -> None:
    """Whatever the wire text (any Unicode, empty fields, odd places), the print enrich sends gives the
    store the keys it would compute itself: a print can never split or join a story."""
    from shared.messages import Article, Dateline
    from shared.storyprint import story_print

    article = Article(
        seq=0,
        role=role,  # type: ignore[arg-type]
        headline=headline,
        headline_version=version,
        preamble=preamble,
        dateline=Dateline(place=place) if place else None,
        body=body,
    )
    fields = {
        "role": role,
        "place": place,
        "headline": headline,
        "headline_version": version,
        "preamble": preamble,
        "body": body,
    }
    given_print = profile(**fields, story_print=story_print(article))  # type: ignore[arg-type]
    computed = profile(**fields)  # type: ignore[arg-type]
    assert given_print.print == computed.print
    assert given_print.lookup_keys() == computed.lookup_keys()
    assert given_print.index_keys() == computed.index_keys()
