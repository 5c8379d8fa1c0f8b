"""Every supported page layout and variant, from the project's own fixture pages, split as an editor would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.enrich.parser import ParsedPage, parse_page
from shared.decoding import decode_bytes
from tests.unit.pages import PAGES, outline

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def parse_fixture(name: str) -> tuple[str, str, ParsedPage]:
    decoded = decode_bytes((PAGES / name).read_bytes())
    return decoded.encoding, decoded.line_endings, parse_page(decoded.text, received_at=RECEIVED)


def parse_text(text: str) -> ParsedPage:
    return parse_page(text, received_at=RECEIVED)


def test_standard_layout_in_cp1252_with_crlf() -> None:
    """Main article, 'Meer uit', briefs whose times run into the next dateline, the last time at the end."""
    encoding, endings, page = parse_fixture("standard_cp1252_crlf.txt")
    assert (encoding, endings, page.section, page.page_lines) == (
        "cp1252",
        "CRLF",
        "Buitenland",
        ("Meer uit Buitenland",),
    )
    assert [outline(a) for a in page.articles] == [
        ("main", "Oekraïne meldt grote drone-aanval op energiecentrale", "KYIV", ("ANP", "RTR"), None,
         "Rusland heeft in de nacht"),
        ("brief", None, "BRUSSEL", ("ANP", "Belga"), "12 minuten geleden", "De Europese Commissie wil dat"),
        ("brief", None, "MÜNCHEN", ("ANP", "DPA"), "2 uur geleden", "Op het vliegveld van München"),
        ("brief", None, "SÃO PAULO", ("ANP", "AFP", "RTR", "AP"), "5 uur geleden", "Bij zware regenval in de"),
    ]  # fmt: skip
    assert "Oekraïense" in page.articles[0].body and "40 miljoen €" in page.articles[0].body
    assert [a.published_at for a in page.articles] == [
        None,
        datetime(2026, 3, 1, 11, 48, tzinfo=UTC),
        datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 7, 0, tzinfo=UTC),
    ]
    assert all(a.section == "Buitenland" for a in page.articles)
    assert [a.seq for a in page.articles] == [0, 1, 2, 3]


def test_page_with_only_a_main_article() -> None:
    """A page without briefs is one main article with its paragraphs kept, no section, no time."""
    encoding, _, page = parse_fixture("main_only_utf8_bom.txt")
    assert encoding == "utf-8-sig"
    assert page.section is None and page.page_lines == ()
    (article,) = page.articles
    assert outline(article) == (
        "main", "Kabinet wil strengere regels voor verhuur van vakantiewoningen", "DEN HAAG", ("ANP",), None,
        "Het kabinet wil gemeenten meer",
    )  # fmt: skip
    assert article.body.count("\n") == 1  # two paragraphs
    assert article.published_at is None
    assert article.dateline is not None and article.dateline.resolved is not None
    assert article.dateline.resolved.name == "The Hague"


def test_file_that_starts_with_the_dateline() -> None:
    """No headline line: the main article's headline is null; the apostrophe place is read whole."""
    encoding, endings, page = parse_fixture("no_headline_utf16_crlf.txt")
    assert (encoding, endings) == ("utf-16", "CRLF")
    (article,) = page.articles
    assert outline(article) == (
        "main",
        None,
        "'S-HERTOGENBOSCH",
        ("ANP",),
        None,
        "De gemeente 's-Hertogenbosch sluit het",
    )
    assert article.dateline is not None and article.dateline.resolved is not None
    assert article.dateline.resolved.country == "NL"


def test_version_marker_preamble_subheads_and_trailer() -> None:
    """'(2)' leaves the headline, the correction notice is kept as preamble, subheads and desk trailer found."""
    _, endings, page = parse_fixture("correction_version_subheads_trailer_cr.txt")
    assert endings == "CR"
    (article,) = page.articles
    assert article.headline == "Treinverkeer rond Utrecht urenlang plat door storing"
    assert article.headline_version == 2
    assert article.preamble == "N i e u w bericht, vervangt: Treinverkeer rond Utrecht plat door storing"
    assert article.subheads == ("Oorzaak onbekend", "Gevolgen voor maandag")
    assert article.trailer == "(ANP Redactie Binnenland, tel. 088-1234567)"
    assert article.body.split("\n") == [
        "Het treinverkeer rond Utrecht Centraal heeft zondag urenlang stilgelegen door een storing in de "
        "beveiligingssystemen. Reizigers tussen Amsterdam en Den Bosch moesten rekening houden met flinke vertraging.",
        "ProRail meldt dat de storing rond 15.00 uur is verholpen.",
        "Oorzaak onbekend",
        "Wat de storing precies heeft veroorzaakt, is nog niet duidelijk. Een woordvoerder spreekt van "
        '"een zeldzame combinatie van omstandigheden".',
        "Gevolgen voor maandag",
        "NS verwacht dat de dienstregeling maandagochtend weer normaal is.",
    ]
    assert [p.kind for p in page.parts] == [
        "headline", "version", "preamble", "dateline", "body", "body", "subhead", "body", "subhead", "body",
        "trailer",
    ]  # fmt: skip


def test_older_layout_with_brief_headlines_and_times_on_their_own_lines() -> None:
    """Each brief takes the headline above its dateline and the time below it; em dash without agency works."""
    _, _, page = parse_fixture("older_layout.txt")
    assert page.section == "Binnenland"
    assert [outline(a) for a in page.articles] == [
        ("main", "Waterschap waarschuwt voor hoog water in de Maas", "ROERMOND", ("ANP",), None,
         "Het waterschap Limburg verwacht dat"),
        ("brief", "Strand bij Domburg afgesloten na vondst explosief", "DOMBURG", (), "45 minuten geleden",
         "Een deel van het strand"),
        ("brief", "Gemeenteraad Den Haag draagt nieuwe burgemeester voor", "DEN HAAG", ("ANP",), "gisteren",
         "De gemeenteraad van Den Haag"),
        ("brief", "Bouw van zeesluis Terneuzen loopt vertraging op", "TERNEUZEN", ("ANP", "Belga"),
         "3 dagen geleden", "De bouw van de nieuwe"),
        ("brief", "Recordaantal bezoekers voor musea", "AMSTERDAM", ("ANP", "AFN"), "1 week geleden",
         "De Nederlandse musea hebben vorig"),
    ]  # fmt: skip
    assert [a.published_at for a in page.articles[2:]] == [
        datetime(2026, 2, 28, 12, 0, tzinfo=UTC),
        datetime(2026, 2, 26, 12, 0, tzinfo=UTC),
        datetime(2026, 2, 22, 12, 0, tzinfo=UTC),
    ]


def test_agencies_places_and_times_of_every_kind() -> None:
    """Multi-word and hyphenated places, one to four agencies, an en dash, day and week times."""
    _, _, page = parse_fixture("agencies_places_times.txt")
    assert page.section == "Economie"
    assert [outline(a)[2:5] for a in page.articles] == [
        ("RIO DE JANEIRO", ("AFP", "ANP"), None),
        ("NEW YORK", ("ANP", "BLOOMBERG"), "35 minuten geleden"),
        ("SINT-PETERSBURG", ("ANP", "RTR", "DPA", "AFP"), "4 uur geleden"),
        ("FRANKFURT", ("AP",), "2 dagen geleden"),
        ("LONDEN", ("ANP", "AFN"), "2 weken geleden"),
    ]
    resolved = [a.dateline.resolved for a in page.articles if a.dateline]
    assert [(p.name, p.country) if p else None for p in resolved] == [
        ("Rio de Janeiro", "BR"),
        ("New York City", "US"),
        ("Saint Petersburg", "RU"),
        ("Frankfurt am Main", "DE"),
        ("London", "GB"),
    ]


def test_text_that_is_not_a_dateline_stays_in_the_body() -> None:
    """'COVID-19 (ANP) -' in or opening a sentence, capitals in a quote and a shouted line are body text."""
    _, _, page = parse_fixture("false_datelines.txt")
    (article,) = page.articles
    assert article.headline == "STORM RAAST OVER HET LAND"
    assert article.dateline is not None and article.dateline.place == "AMSTERDAM"
    paragraphs = article.body.split("\n")
    assert len(paragraphs) == 6
    assert paragraphs[1].startswith("In ziekenhuizen werd opnieuw gewaarschuwd voor COVID-19 (ANP) -")
    assert paragraphs[2].startswith('"STOP NU - het is veel te gevaarlijk"')
    assert paragraphs[3].startswith("COVID-19 (ANP) - dat woord")
    assert article.subheads == ("ALARMFASE - OOK IN ZEELAND",)


def test_shouted_headline_with_a_dash_above_a_dateline_is_a_headline() -> None:
    """'BREAKING - Kabinet valt ...' directly above the real dateline is the headline, not a place."""
    _, _, page = parse_fixture("shouted_headline_with_dash.txt")
    (article,) = page.articles
    assert article.headline == "BREAKING - Kabinet valt over asielwet"
    assert article.dateline is not None and article.dateline.place == "DEN HAAG"


def test_time_run_into_the_next_briefs_headline() -> None:
    """'20 minuten geledenAjax ontslaat ...' closes one brief and opens the next with its headline."""
    _, _, page = parse_fixture("run_in_time_headline.txt")
    assert [outline(a)[:5] for a in page.articles] == [
        ("brief", "Feyenoord wint topper in De Kuip", "ROTTERDAM", ("ANP",), "20 minuten geleden"),
        ("brief", "Ajax ontslaat trainer na slechte reeks", "AMSTERDAM", ("ANP",), "1 uur geleden"),
    ]


def test_text_without_any_dateline_is_one_undated_article() -> None:
    """A file that is not wire copy yields one main article with no dateline, headline or time."""
    _, _, page = parse_fixture("not_wire_text.txt")
    (article,) = page.articles
    assert (article.dateline, article.headline, article.relative_time) == (None, None, None)
    assert article.body.split("\n")[0] == "Boodschappenlijst voor het weekend"


def test_blank_text_has_no_articles() -> None:
    """Whitespace only: nothing to split."""
    page = parse_text("  \n\n \t\n")
    assert page.articles == () and page.parts == ()


def test_two_main_articles_without_a_brief_list() -> None:
    """A second headline + dateline after a finished body opens a second article instead of joining it."""
    page = parse_text(
        "Eerste kop\nUTRECHT (ANP) - Eerste bericht met een zin.\nTweede kop\nZWOLLE (ANP) - Tweede bericht.\n"
    )
    assert [outline(a)[:3] for a in page.articles] == [
        ("main", "Eerste kop", "UTRECHT"),
        ("brief", "Tweede kop", "ZWOLLE"),
    ]


def test_correction_preamble_without_headline() -> None:
    """A notice line right before the dateline is a preamble even when no headline precedes it."""
    page = parse_text(
        "C o r r e c t i e: eerder bericht bevatte een fout\nARNHEM (ANP) - De brug is weer open."
    )
    (article,) = page.articles
    assert article.headline is None
    assert article.preamble == "C o r r e c t i e: eerder bericht bevatte een fout"


@pytest.mark.parametrize(
    "notice",
    [
        "Correctie: in een eerdere versie stond een verkeerde datum",
        "Herhaling van een eerder verzonden bericht",
    ],
)
def test_notice_lines_before_the_dateline_are_preamble(notice: str) -> None:
    """A notice line ('Correctie', 'Herhaling') between headline and dateline is preamble, kept verbatim."""
    page = parse_text(f"Brug bij Arnhem weer open\n{notice}\nARNHEM (ANP) - De brug is weer open.")
    (article,) = page.articles
    assert (article.headline, article.preamble) == ("Brug bij Arnhem weer open", notice)


def test_a_time_with_a_space_before_the_next_dateline_is_cut_too() -> None:
    """'1 uur geleden ZWOLLE (ANP) - ...' on one line: the time closes the brief above."""
    page = parse_text(
        "Meer uit Binnenland\nUTRECHT (ANP) - Eerste bericht.\n1 uur geleden ZWOLLE (ANP) - Tweede bericht.\n2 uur geleden"
    )
    assert [(a.dateline.place if a.dateline else None, a.relative_time) for a in page.articles] == [
        ("UTRECHT", "1 uur geleden"),
        ("ZWOLLE", "2 uur geleden"),
    ]


def test_sentence_starting_with_meer_uit_is_not_a_section_line() -> None:
    """'Meer uit angst dan ...' in a body is text; only 'Meer uit <Capitalised Section>' is a page line."""
    page = parse_text(
        "Kop\nUTRECHT (ANP) - Eerste zin.\nMeer uit angst dan uit overtuiging.\nMeer uit Cultuur & Media\n"
    )
    assert page.section == "Cultuur & Media"
    assert page.articles[0].body.endswith("Meer uit angst dan uit overtuiging.")
    assert page.page_lines == ("Meer uit Cultuur & Media",)


def test_sentence_starting_with_gisteren_is_not_a_time() -> None:
    """'Gisteren heeft ...' inside a body is text, not the brief's time."""
    page = parse_text("Kop\nUTRECHT (ANP) - Eerste zin.\nGisteren heeft de raad besloten.\n")
    (article,) = page.articles
    assert article.relative_time is None
    assert article.body.endswith("Gisteren heeft de raad besloten.")


def test_dateline_place_resolution_reads_the_article_for_its_country() -> None:
    """'MOSKOU (ANP) - ... Moskou (VS) ...' resolves to Moscow, Idaho; a plain MOSKOU to Moscow, Russia."""
    page = parse_text(
        "Kop\nMOSKOU (ANP) - In het stadje Moskou (VS) is een halve meter sneeuw gevallen.\n"
        "Meer uit Buitenland\nMOSKOU (ANP) - Het Kremlin reageerde niet op vragen.\n1 uur geleden"
    )
    places = [a.dateline.resolved for a in page.articles if a.dateline]
    assert [(p.name, p.country) if p else None for p in places] == [("Moscow", "US"), ("Moscow", "RU")]


def test_shouted_opening_without_agency_inside_a_body_stays_body() -> None:
    """'NU OF NOOIT - we moeten ...' in the middle of an article is a paragraph, not a new article."""
    page = parse_text(
        "Kop\nUTRECHT (ANP) - De actievoerders waren duidelijk.\n"
        "NU OF NOOIT - we moeten nu handelen, zei een van hen.\nDe politie greep niet in."
    )
    (article,) = page.articles
    assert article.body.split("\n")[1] == "NU OF NOOIT - we moeten nu handelen, zei een van hen."


def test_a_dateline_with_agency_inside_a_body_opens_a_new_article() -> None:
    """A full dateline (with agency) after a body is the next article even without a time in between."""
    page = parse_text("Kop\nUTRECHT (ANP) - Eerste bericht.\nZWOLLE (ANP) - Tweede bericht.")
    assert [a.dateline.place for a in page.articles if a.dateline] == ["UTRECHT", "ZWOLLE"]


@pytest.mark.parametrize("headline", ["11.000 banen weg bij chipfabriek", '"We gaan door", zegt de bond'])
def test_time_run_into_a_headline_starting_with_a_digit_or_quote(headline: str) -> None:
    """The run-in cut also works when the next headline starts with a digit or a quotation mark."""
    page = parse_text(
        f"Meer uit Economie\nKop een\nEINDHOVEN (ANP) - Eerste bericht.\n1 uur geleden{headline}\n"
        "DELFT (ANP) - Tweede bericht.\n2 uur geleden"
    )
    assert [(a.headline, a.relative_time) for a in page.articles] == [
        ("Kop een", "1 uur geleden"),
        (headline, "2 uur geleden"),
    ]


def test_two_places_joined_by_a_slash_resolve_to_the_first() -> None:
    """'BRUSSEL/STRAATSBURG (ANP) -' is one dateline, written as is, resolved to Brussels."""
    page = parse_text("Kop\nBRUSSEL/STRAATSBURG (ANP) - Het Europees Parlement stemt over de begroting.")
    (article,) = page.articles
    assert article.dateline is not None and article.dateline.place == "BRUSSEL/STRAATSBURG"
    assert article.dateline.resolved is not None and article.dateline.resolved.name == "Brussels"


def test_headline_that_starts_like_a_notice_is_still_the_headline() -> None:
    """'Herhaling: Ajax ontslaat trainer' above a notice line is the headline; the notice is preamble."""
    page = parse_text(
        "Herhaling: Ajax ontslaat trainer\nHerhaling van een eerder verzonden bericht\n"
        "AMSTERDAM (ANP) - Ajax heeft de trainer ontslagen."
    )
    (article,) = page.articles
    assert (article.headline, article.preamble) == (
        "Herhaling: Ajax ontslaat trainer",
        "Herhaling van een eerder verzonden bericht",
    )
