"""Pages in the layouts of other Dutch news sites and older crawls, and the warnings that report drift.

The fixture pages are written for this project (``tests/fixtures/pages/make_other_site_pages.py``);
the inline pages vary one thing each, so that a rule is shown to hold beyond the fixture it came from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.enrich.parser import ParsedPage, parse_page
from shared.decoding import decode_bytes
from tests.unit.pages import PAGES, outline

pytestmark = pytest.mark.unit

# Saturday 14 October 2017, 14:00 in Amsterdam (summer time, UTC+2).
RECEIVED = datetime(2017, 10, 14, 12, 0, tzinfo=UTC)
KNOWN_LAYOUTS = [
    "standard_cp1252_crlf.txt",
    "main_only_utf8_bom.txt",
    "no_headline_utf16_crlf.txt",
    "correction_version_subheads_trailer_cr.txt",
    "older_layout.txt",
    "agencies_places_times.txt",
    "false_datelines.txt",
    "shouted_headline_with_dash.txt",
    "run_in_time_headline.txt",
    "clock_and_date_prefixes.txt",
    "site_boilerplate_byline_cp1252_crlf.txt",
    "net_binnen_list_date_line.txt",
    "laatste_nieuws_after_article.txt",
]


def parse_fixture(name: str) -> ParsedPage:
    return parse_page(decode_bytes((PAGES / name).read_bytes()).text, received_at=RECEIVED)


def parse_text(text: str) -> ParsedPage:
    return parse_page(text, received_at=RECEIVED)


def kinds(page: ParsedPage) -> list[tuple[str, int | None]]:
    return [(w.kind, w.article) for w in page.warnings]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- clock times and dates before the place -------------------------------------------------------------


def test_clock_and_date_before_the_place_open_articles_and_set_their_time() -> None:
    """'16:29 TERNEUZEN - ' is a dateline of TERNEUZEN whose clock time, read on the wall clock of
    Amsterdam, is the latest such moment before the file came in; a date without a year likewise."""
    page = parse_fixture("clock_and_date_prefixes.txt")
    assert [outline(a) for a in page.articles] == [
        ("main", "Brand in bedrijfspand aan de Kanaalweg onder controle", "TERNEUZEN", (), None,
         "De brandweer heeft de grote"),
        ("brief", "Vrachtwagen gekanteld op de A58 bij Goes", "GOES", (), None, "Op de A58 bij Goes"),
        ("brief", "Nieuwe woonwijk op voormalig scheepswerfterrein", "VLISSINGEN", (), None,
         "Het college van Vlissingen wil"),
        ("brief", None, "MIDDELBURG", ("ANP",), None, "De provincie Zeeland trekt vijf"),
    ]  # fmt: skip
    assert [a.dateline.stamp for a in page.articles if a.dateline] == [
        "16:29",
        "15:02",
        "13 oktober",
        "9 oktober 2016, 11:45",
    ]
    assert [a.published_at for a in page.articles] == [
        utc(2017, 10, 13, 14, 29),  # 16:29 is later than 14:00 on the 14th: the day before
        utc(2017, 10, 13, 13, 2),
        utc(2017, 10, 12, 22, 0),  # 13 October, midnight in Amsterdam
        utc(2016, 10, 9, 9, 45),
    ]
    assert page.warnings == () and not page.truncated
    first = [p for p in page.parts if p.article == 0][:4]
    assert [(p.kind, p.text) for p in first] == [
        ("headline", "Brand in bedrijfspand aan de Kanaalweg onder controle"),
        ("stamp", "16:29 "),
        ("dateline", "TERNEUZEN - "),
        ("body", first[3].text),
    ]


@pytest.mark.parametrize(
    ("prefix", "published"),
    [
        ("09:05", utc(2017, 10, 14, 7, 5)),
        ("23.40", utc(2017, 10, 13, 21, 40)),
        ("13-10-2017", utc(2017, 10, 12, 22, 0)),
        ("vr 13 okt 18:30", utc(2017, 10, 13, 16, 30)),
        ("Vrijdag 13 oktober 2017, 18:30 |", utc(2017, 10, 13, 16, 30)),
        ("2 januari", utc(2017, 1, 1, 23, 0)),  # winter time: UTC+1
        ("20 december", utc(2016, 12, 19, 23, 0)),  # a later date than the received one: last year
    ],
)
def test_stamp_forms_before_the_place(prefix: str, published: datetime) -> None:
    """Clock with colon or dot, numeric and written dates, a weekday, a separator bar all give the place."""
    page = parse_text(f"Kop van het bericht\n{prefix} ZIERIKZEE - De haven van Zierikzee wordt uitgediept.")
    (article,) = page.articles
    assert article.dateline is not None and article.dateline.place == "ZIERIKZEE"
    assert article.published_at == published
    assert article.body.startswith("De haven")


def test_stamped_datelines_without_headlines_follow_each_other() -> None:
    """Without agency or headline, a stamped dateline still opens the next article: a time before a
    place in capitals and a dash is no sentence of a running body."""
    page = parse_text(
        "16:29 TERNEUZEN - De brand is onder controle.\n"
        "Omwonenden mogen de ramen weer openen.\n"
        "15:02 GOES - Op de A58 is een vrachtwagen gekanteld.\n"
    )
    assert [(a.dateline.place if a.dateline else None, a.body.count("\n")) for a in page.articles] == [
        ("TERNEUZEN", 1),
        ("GOES", 0),
    ]


def test_a_number_before_capitals_is_not_a_stamp() -> None:
    """'11.000 MILITAIREN - ...' and '2017 WAS ...' are no stamps: no dateline, the text stays whole."""
    page = parse_text("Kop\n11.000 MILITAIREN - dat is het aantal dat werd genoemd.\n")
    (article,) = page.articles
    assert article.dateline is None


# --- bylines and date lines -----------------------------------------------------------------------------


def test_site_boilerplate_never_headline_nor_body_and_the_byline_sets_both_times() -> None:
    """Menu, webmail, login and cookie lines, the headline's second copy, share buttons and the
    copyright line are page lines; 'Door ANP - 5-1-2017, 17:26 (Update ...)' is the byline and gives
    published_at and updated_at (Amsterdam → UTC)."""
    page = parse_fixture("site_boilerplate_byline_cp1252_crlf.txt")
    headline = "Kabinet trekt € 300 miljoen uit voor sneller internet op het platteland"
    (article,) = page.articles
    assert outline(article) == ("main", headline, "DEN HAAG", (), None, "Het kabinet trekt de komende")
    assert article.byline == "Door ANP - 5-1-2017, 17:26 (Update 5-1-2017, 18:02)"
    assert (article.published_at, article.updated_at) == (utc(2017, 1, 5, 16, 26), utc(2017, 1, 5, 17, 2))
    assert article.preamble is None
    assert len(article.body.split("\n")) == 2 and "Delen" not in article.body
    assert page.page_lines == (
        "Home | Nieuws | Sport | Weer | Webmail",
        "Inloggen",
        "Wij gebruiken cookies om de site goed te laten werken en om advertenties af te stemmen. Akkoord",
        headline,
        "Delen",
        "Tweet",
        "© 2017 ANP. Alle rechten voorbehouden.",
    )
    assert page.warnings == ()


@pytest.mark.parametrize(
    ("line", "published", "updated"),
    [
        ("Door ANP - 5-1-2017, 17:26 (Update 18:02)", utc(2017, 1, 5, 16, 26), utc(2017, 1, 5, 17, 2)),
        ("Maandag 27 maart 2017 08:19", utc(2017, 3, 27, 6, 19), None),
        ("27 maart 2017, 08:19 uur", utc(2017, 3, 27, 6, 19), None),
        (
            "Gepubliceerd: 27-03-2017 08:19 | Gewijzigd: 09:40",
            utc(2017, 3, 27, 6, 19),
            utc(2017, 3, 27, 7, 40),
        ),
        ("Door Jan de Vries", None, None),
        ("Door onze verslaggever - 12 okt 2017 21:05", utc(2017, 10, 12, 19, 5), None),
        ("Door Jan de Vries, correspondent Brussel", None, None),
        ("Laatst bijgewerkt: 13 oktober 2017 18:02", None, utc(2017, 10, 13, 16, 2)),
    ],
)
def test_byline_and_date_line_forms(line: str, published: datetime | None, updated: datetime | None) -> None:
    """Between headline and dateline, a byline or date line is the byline, never preamble or headline."""
    page = parse_text(f"Brug bij Arnhem weer open\n{line}\nARNHEM (ANP) - De brug is weer open.")
    (article,) = page.articles
    assert (article.headline, article.byline, article.preamble) == ("Brug bij Arnhem weer open", line, None)
    assert (article.published_at, article.updated_at) == (published, updated)


def test_a_date_line_and_an_update_line_together() -> None:
    """A date line and a separate update line: published from the one, updated from the other."""
    page = parse_text(
        "Brug bij Arnhem weer open\nvr 13 okt 2017 09:15\nBijgewerkt om 11:40\n"
        "ARNHEM (ANP) - De brug is weer open."
    )
    (article,) = page.articles
    assert (article.published_at, article.updated_at) == (utc(2017, 10, 13, 7, 15), utc(2017, 10, 13, 9, 40))
    assert article.byline == "vr 13 okt 2017 09:15\nBijgewerkt om 11:40"


def test_a_headline_that_starts_with_door_is_a_headline() -> None:
    """'Door regen valt de wedstrijd uit' is a sentence, not a byline."""
    page = parse_text("Door regen valt de wedstrijd uit\nROTTERDAM (ANP) - Het duel gaat niet door.")
    (article,) = page.articles
    assert (article.headline, article.byline) == ("Door regen valt de wedstrijd uit", None)


def test_date_and_clock_lines_close_the_briefs_of_an_older_crawl() -> None:
    """An older crawl gives each brief a date or clock line where the seeds write '3 uur geleden'."""
    page = parse_text(
        "Kop van het hoofdbericht\nUTRECHT (ANP) - Het hoofdbericht begint hier.\nMeer uit Binnenland\n"
        "Brug dicht\nZWOLLE (ANP) - De brug is dicht.\n16:29\n"
        "Weg open\nDELFT (ANP) - De weg is weer open.\n13-10-2017 09:12\n"
    )
    assert [(a.headline, a.published_at) for a in page.articles] == [
        ("Kop van het hoofdbericht", None),
        ("Brug dicht", utc(2017, 10, 13, 14, 29)),
        ("Weg open", utc(2017, 10, 13, 7, 12)),
    ]
    assert page.warnings == () and not page.truncated


# --- lists of recent items ------------------------------------------------------------------------------


def test_net_binnen_list_before_the_article_is_page_furniture() -> None:
    """'Net binnen' and its '- <Section> HH:MM <headline>' items are page lines: not an article, not the
    headline; the date line above the headline dates the main article."""
    page = parse_fixture("net_binnen_list_date_line.txt")
    assert page.section == "Binnenland"
    assert [outline(a) for a in page.articles] == [
        ("main", "Meer mensen met schulden melden zich bij de gemeente", "UTRECHT", ("ANP",), None,
         "Steeds meer mensen met problematische"),
        ("brief", None, "ZWOLLE", ("ANP",), "35 minuten geleden", "De IJssel bij Zwolle staat"),
        ("brief", None, "GRONINGEN", ("ANP",), "1 uur geleden", "Bij een aardbeving in de"),
    ]  # fmt: skip
    assert page.page_lines[:4] == (
        "Net binnen",
        "- Binnenland 08:12 Treinverkeer tussen Utrecht en Amersfoort weer op gang",
        "- Sport 07:58 Ajax zonder aanvoerder naar Rotterdam",
        "- Buitenland 07:41 Zware aardbeving voor de kust van Japan",
    )
    assert page.articles[0].byline == "Maandag 27 maart 2017 08:19"
    assert page.articles[0].published_at == utc(2017, 3, 27, 6, 19)
    assert page.warnings == ()


def test_laatste_nieuws_list_between_article_and_briefs() -> None:
    """A sidebar list after the main body (en-dash bullets, a two-word section) joins neither the main
    article's body nor the briefs."""
    page = parse_fixture("laatste_nieuws_after_article.txt")
    assert [outline(a)[:5] for a in page.articles] == [
        ("main", "Rijkswaterstaat sluit Oosterscheldekering voor storm", "ZIERIKZEE", ("ANP",), None),
        ("brief", "Dijkwerkers in Westkapelle klaar voor de winter", "WESTKAPELLE", (), "2 uur geleden"),
        ("brief", "Veerboot Vlissingen-Breskens vaart weer", "BRESKENS", ("ANP",), "gisteren"),
    ]
    assert "Laatste nieuws" not in page.articles[0].body
    assert len(page.page_lines) == 5 and page.warnings == ()


@pytest.mark.parametrize(
    "items",
    [
        ["• Economie 14.05 Pensioenfondsen houden uitkeringen gelijk", "• Sport 13.51 Feyenoord wint"],
        ["14:05 Pensioenfondsen houden uitkeringen gelijk", "13:51 Minder verkeersdoden in 2016"],
        ["- 14:05 Pensioenfondsen houden uitkeringen gelijk", "- 13:51 Minder verkeersdoden in 2016"],
        ["Economie 14:05 Pensioenfondsen houden uitkeringen gelijk", "Binnenland 13:51 Minder verkeersdoden"],
    ],
)
def test_list_item_forms_under_any_short_heading(items: list[str]) -> None:
    """Bullets or none, a section or none, a colon or a dot in the clock: a run of items and the short
    heading above it ('Meest gelezen') are furniture, and the headline is the line above the dateline."""
    page = parse_text(
        "Meest gelezen\n" + "\n".join(items) + "\nGemeente wil nieuwe brug over het kanaal\n"
        "SLUISKIL (ANP) - De gemeente Terneuzen wil een nieuwe brug over het kanaal.\n"
    )
    (article,) = page.articles
    assert article.headline == "Gemeente wil nieuwe brug over het kanaal"
    assert page.page_lines == ("Meest gelezen", *items)
    assert page.warnings == ()


# --- truncated copies -----------------------------------------------------------------------------------


def test_copy_cut_off_inside_the_last_brief_keeps_it_flagged() -> None:
    """The last brief has no time: it is kept with what there is and flagged truncated, with a warning."""
    page = parse_fixture("truncated_last_item.txt")
    assert [outline(a)[2:5] for a in page.articles] == [
        ("EINDHOVEN", ("ANP",), None),
        ("BREDA", ("ANP",), "12 minuten geleden"),
        ("TILBURG", ("ANP",), None),
    ]
    assert [a.truncated for a in page.articles] == [False, False, True]
    assert page.truncated
    assert kinds(page) == [("truncated", 2)]
    assert page.warnings[0].text == "De universiteit van Tilburg opent volgend jaar een nieuwe"


def test_copy_cut_off_inside_a_dateline_keeps_the_fragment_as_the_last_item() -> None:
    """'3 uur geledenDEN HA' ends the page: the fragment is the truncated last item, not a page line."""
    page = parse_text(
        "Kop\nUTRECHT (ANP) - Hoofdbericht.\nMeer uit Binnenland\nZWOLLE (ANP) - Eerste brief.\n3 uur geledenDEN HA"
    )
    assert [(a.dateline.place if a.dateline else None, a.body, a.truncated) for a in page.articles][1:] == [
        ("ZWOLLE", "Eerste brief.", False),
        (None, "DEN HA", True),
    ]
    assert kinds(page)[-1] == ("truncated", 2)


def test_older_layout_cut_after_a_headline() -> None:
    """Older layout: the copy stops after the next brief's headline; that line is kept as the last item."""
    page = parse_text(
        "Kop\nUTRECHT (ANP) - Hoofdbericht.\nMeer uit Binnenland\n"
        "Brug dicht\nZWOLLE (ANP) - De brug is dicht.\n1 uur geleden\nWeg bij Delft weer"
    )
    last = page.articles[-1]
    assert (last.body, last.truncated, page.truncated) == ("Weg bij Delft weer", True, True)


def test_a_page_without_brief_list_is_not_truncated() -> None:
    """A main article has no time of its own: its end is no cut."""
    page = parse_text("Kop van het bericht\nUTRECHT (ANP) - Hoofdbericht zonder lijst.")
    assert not page.truncated and page.warnings == ()


# --- drift: warnings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", KNOWN_LAYOUTS)
def test_known_layouts_read_without_warnings(name: str) -> None:
    """Every layout the parser supports reads cleanly: a warning always means something new."""
    assert parse_fixture(name).warnings == ()


def test_seeds_read_without_warnings(seeds_dir: Path) -> None:
    """The two real seed pages give no warning."""
    for path in sorted(seeds_dir.glob("*.txt")):
        page = parse_page(decode_bytes(path.read_bytes()).text, received_at=RECEIVED)
        assert page.warnings == (), path.name


def test_unknown_dateline_layout_warns_instead_of_guessing() -> None:
    """'TERNEUZEN, 13 oktober – ...' is no layout the parser knows: no headline is invented, the page
    warns that its article has no dateline."""
    page = parse_fixture("unknown_place_date_layout.txt")
    (article,) = page.articles
    assert (article.headline, article.dateline) == (None, None)
    assert kinds(page) == [("no_dateline", 0)]


def test_unknown_text_above_the_headline_is_reported_not_made_the_headline() -> None:
    """Lines above the headline that are no known furniture stay page lines and are reported unplaced."""
    page = parse_fixture("unknown_furniture_above_headline.txt")
    (article,) = page.articles
    assert article.headline == "Provincie wil meer zonneparken langs de snelweg"
    assert kinds(page) == [("unplaced", None), ("unplaced", None)]
    assert [w.text for w in page.warnings] == list(page.page_lines)


def test_furniture_taken_as_headline_is_reported() -> None:
    """A lone unknown word above the dateline is kept as the headline but reported as furniture-like."""
    page = parse_text("Zeeland\nGOES (ANP) - In Goes is het nieuwe zwembad geopend.")
    assert page.articles[0].headline == "Zeeland"
    assert kinds(page) == [("headline_furniture", 0)]


@pytest.mark.parametrize(
    "furniture",
    [
        "Menu",
        "Nieuws Sport Economie Video's Podcasts",
        "Inloggen / Registreren",
        "Log in of registreer om te reageren",
        "Wij en onze partners gebruiken cookies om content te personaliseren. Accepteren | Instellingen",
        "Deze website maakt gebruik van cookies",
        "Cookie-instellingen",
    ],
)
def test_boilerplate_forms_above_the_headline(furniture: str) -> None:
    """Menus with or without separators, login and cookie lines: page lines, no warning, right headline."""
    page = parse_text(f"{furniture}\nBrug bij Arnhem weer open\nARNHEM (ANP) - De brug is weer open.")
    (article,) = page.articles
    assert (article.headline, page.page_lines, page.warnings) == (
        "Brug bij Arnhem weer open",
        (furniture,),
        (),
    )


def test_a_cookie_sentence_in_an_article_stays_body() -> None:
    """Cookies in a news sentence, or quoted, are body text: only the site's own request is furniture."""
    lines = [
        "De toezichthouder zegt dat websites toestemming moeten vragen voor cookies.",
        '"We gebruiken geen cookies zonder toestemming", zegt de woordvoerder.',
    ]
    page = parse_text(
        "Boete voor webwinkel\nDEN HAAG (ANP) - De webwinkel krijgt een boete.\n" + "\n".join(lines)
    )
    assert page.articles[0].body.split("\n")[1:] == lines


def test_known_furniture_alone_above_the_dateline_is_no_headline() -> None:
    """'Webmail' right above the dateline is a page line; the article has no headline."""
    page = parse_text("Webmail\nGOES (ANP) - In Goes is het nieuwe zwembad geopend.")
    assert (page.articles[0].headline, page.page_lines) == (None, ("Webmail",))


def test_article_without_dateline_among_dated_ones_is_reported() -> None:
    """On a page where other articles have a dateline, one without is reported."""
    page = parse_text(
        "Kop\nUTRECHT (ANP) - Hoofdbericht.\nMeer uit Binnenland\nEen bericht zonder plaats.\n1 uur geleden\n"
        "ZWOLLE (ANP) - Tweede brief.\n2 uur geleden"
    )
    assert ("no_dateline", 1) in kinds(page)


def test_trailing_text_that_belongs_to_no_article_is_reported() -> None:
    """Trailing text after the last article that belongs to none is a page line, reported unplaced."""
    page = parse_text(
        "Kop van het bericht\nUTRECHT (ANP) - Hoofdbericht.\n1 uur geleden\nLosse regel onderaan"
    )
    assert page.page_lines == ("Losse regel onderaan",)
    assert kinds(page) == [("unplaced", None)]


def test_photo_credit_and_reading_time_between_headline_and_dateline_are_furniture() -> None:
    """'Foto: ANP' and 'Leestijd: 2 minuten' right above the dateline never become the headline."""
    page = parse_text(
        "Brand in loods Terneuzen\nFoto: ANP\nLeestijd: 2 minuten\n"
        "16:29 TERNEUZEN - De brandweer heeft de brand geblust.\n12 reacties"
    )
    (article,) = page.articles
    assert article.headline == "Brand in loods Terneuzen"
    assert page.page_lines == ("Foto: ANP", "Leestijd: 2 minuten", "12 reacties")
    assert page.warnings == ()


def test_related_headlines_under_lees_ook_are_furniture_not_body() -> None:
    """Headlines listed under 'Lees ook' after the body are page lines; the body keeps its paragraphs."""
    page = parse_text(
        "Brand in loods Terneuzen\nTERNEUZEN (ANP) - De brandweer heeft de brand geblust.\n"
        "Het pand is verloren.\nLees ook\nEerdere brand in Sluiskil\nBrandweer oefent in haven\n"
    )
    (article,) = page.articles
    assert article.body.split("\n") == ["De brandweer heeft de brand geblust.", "Het pand is verloren."]
    assert page.page_lines == ("Lees ook", "Eerdere brand in Sluiskil", "Brandweer oefent in haven")


def test_a_list_heading_right_above_an_article_leaves_its_headline() -> None:
    """'Laatste nieuws' above a headline and dateline: the heading is furniture, the headline stays."""
    page = parse_text("Laatste nieuws\nBrand in loods Terneuzen\nTERNEUZEN (ANP) - De brand is geblust.")
    assert (page.articles[0].headline, page.page_lines) == ("Brand in loods Terneuzen", ("Laatste nieuws",))


def test_a_subhead_that_reads_like_a_list_heading_stays_body() -> None:
    """'Meer over de oorzaak' followed by a paragraph is a subhead, not a related-headlines list."""
    page = parse_text(
        "Kop van bericht\nUTRECHT (ANP) - Eerste zin.\nMeer over de oorzaak\nDe oorzaak is onbekend.\n"
    )
    assert page.articles[0].subheads == ("Meer over de oorzaak",)


@pytest.mark.parametrize(
    ("prefix", "published"),
    [("gisteren 16:29", utc(2017, 10, 13, 14, 29)), ("Vandaag, 09:15", utc(2017, 10, 14, 7, 15))],
)
def test_named_day_and_clock_before_the_place(prefix: str, published: datetime) -> None:
    """'gisteren 16:29 TERNEUZEN - ' is one dated dateline, not a time closing the article above."""
    page = parse_text(
        "Kop van het bericht\nUTRECHT (ANP) - Eerste bericht met een zin.\n"
        f"{prefix} TERNEUZEN - De brandweer heeft een brand geblust.\n"
    )
    first, second = page.articles
    assert (first.relative_time, second.dateline and second.dateline.place) == (None, "TERNEUZEN")
    assert second.published_at == published


def test_a_copy_cut_right_after_meer_uit_is_truncated() -> None:
    """'Meer uit Binnenland' as the last line: the list's items are missing; the page says so."""
    page = parse_text("Kop van het bericht\nUTRECHT (ANP) - Eerste zin.\nMeer uit Binnenland")
    assert page.truncated and kinds(page) == [("truncated", None)]


def test_a_menu_printed_one_item_a_line_is_furniture() -> None:
    """Short lines around known navigation words (the site's name, 'Programma's') form one menu; the
    short headline right above the date line and dateline is not part of it."""
    page = parse_text(
        "Omroep Zeeland\nNieuws\nSport\nProgramma's\nLoods verwoest\n13 oktober 2017 16:29\n"
        "Van onze verslaggever\nTERNEUZEN - Een grote brand heeft een loods verwoest.\n"
        "Deel dit artikel\nFacebook\nTwitter"
    )
    (article,) = page.articles
    assert (article.headline, article.byline) == (
        "Loods verwoest",
        "13 oktober 2017 16:29\nVan onze verslaggever",
    )
    assert article.published_at == utc(2017, 10, 13, 14, 29)
    assert page.page_lines == (
        "Omroep Zeeland", "Nieuws", "Sport", "Programma's", "Deel dit artikel", "Facebook", "Twitter",
    )  # fmt: skip
    assert page.warnings == ()


def test_many_furniture_lines_split_in_linear_time() -> None:
    """A page of 20,000 menu and related-headline lines splits in well under the time a quadratic
    look-ahead would take (about a minute); measured ~0.3 s on the 2-core machine."""
    import time

    text = ("Webmail\nLees ook\n" + "Kop van een ander bericht\n" * 3) * 4_000
    start = time.perf_counter()
    page = parse_text(text)
    assert time.perf_counter() - start < 5
    assert page.articles == () and len(page.page_lines) == 20_000


def test_a_zero_padded_number_in_brackets_is_no_version_marker() -> None:
    """'Kop (02)' keeps its brackets in the headline: a version marker is written '(2)'."""
    page = parse_text("Brug bij Arnhem (02)\nARNHEM (ANP) - De brug is weer open.")
    assert (page.articles[0].headline, page.articles[0].headline_version) == ("Brug bij Arnhem (02)", None)


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("5 min. geleden", utc(2017, 10, 14, 11, 55)),
        ("2 u geleden", utc(2017, 10, 14, 10, 0)),
        ("een kwartier geleden", utc(2017, 10, 14, 11, 45)),
        ("Een half uur geleden", utc(2017, 10, 14, 11, 30)),
        ("zojuist", utc(2017, 10, 14, 12, 0)),
    ],
)
def test_abbreviated_and_unnumbered_relative_times_of_older_crawls(written: str, published: datetime) -> None:
    """'5 min. geleden', '2 u geleden', 'een kwartier geleden', 'zojuist' close a brief like '5 minuten
    geleden' does, run into the next dateline or on a line of their own."""
    page = parse_text(
        f"Meer uit Binnenland\nUTRECHT (ANP) - Eerste bericht.\n{written}ZWOLLE (ANP) - Tweede bericht.\n{written}"
    )
    assert [(a.relative_time, a.published_at) for a in page.articles] == [(written, published)] * 2
    assert page.warnings == ()


def test_meer_nieuws_uit_names_the_section_too() -> None:
    """An older crawl's 'Meer nieuws uit Binnenland' opens the brief list like 'Meer uit Binnenland'."""
    page = parse_text(
        "Kop van het bericht\nUTRECHT (ANP) - Eerste.\nMeer nieuws uit Binnenland\nZWOLLE (ANP) - Tweede.\n1 uur geleden"
    )
    assert (page.section, [a.role for a in page.articles]) == ("Binnenland", ["main", "brief"])


def test_the_headline_printed_twice_wins_over_a_subtitle_below_it() -> None:
    """Headline twice, then a subtitle: the repeated line is the headline, the subtitle its preamble."""
    page = parse_text(
        "Kabinet valt over asielwet\nKabinet valt over asielwet\nPremier biedt ontslag aan bij de koning\n"
        "DEN HAAG (ANP) - Het kabinet is gevallen."
    )
    (article,) = page.articles
    assert (article.headline, article.preamble) == (
        "Kabinet valt over asielwet",
        "Premier biedt ontslag aan bij de koning",
    )
    assert page.page_lines == ("Kabinet valt over asielwet",) and page.warnings == ()


def test_a_page_with_site_name_menu_author_date_update_and_most_read_list() -> None:
    """Site name and menu lines, an author line, a date with its update on one line, and a numbered
    'Meest gelezen' list after the body: one article, dated and updated, with only its own text."""
    page = parse_text(
        "AD.nl\nNieuws\nBinnenland\nBrand in loods Terneuzen: rookwolk boven stad\nDoor onze redactie\n"
        "13 okt. 2017 Laatste update: 16:45\n"
        "TERNEUZEN - Bij een grote brand in een loods is vrijdagmiddag een enorme rookwolk ontstaan.\n"
        "Omwonenden moeten ramen en deuren sluiten.\nMeest gelezen\n1. Ajax wint van PSV\n2. Storm op komst\n"
    )
    (article,) = page.articles
    assert article.headline == "Brand in loods Terneuzen: rookwolk boven stad"
    assert (article.published_at, article.updated_at) == (utc(2017, 10, 12, 22, 0), utc(2017, 10, 13, 14, 45))
    assert article.body.count("\n") == 1
    assert page.page_lines == (
        "AD.nl", "Nieuws", "Binnenland", "Meest gelezen", "1. Ajax wint van PSV", "2. Storm op komst",
    )  # fmt: skip
    assert page.warnings == ()


@pytest.mark.parametrize(
    ("line", "menu"),
    [
        ("Nieuws Sport Economie Video's", True),
        ("Home | Webmail", True),
        ("Regio regio regio", False),  # found by the drift property: one word thrice is a headline
        ("Regio Sport", False),
    ],
)
def test_a_menu_names_each_item_once(line: str, menu: bool) -> None:
    """A line of navigation words is a menu only if it names three different items, has separators,
    or has a word no headline is made of."""
    from services.enrich.furniture import is_nav_line

    assert is_nav_line(line) is menu
