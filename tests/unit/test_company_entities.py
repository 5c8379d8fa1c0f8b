"""Issue 12: companies in business news are organisations, datelines are places, the frozen set scores.

The business page (``tests/data/business_nl/page.txt``, the team's own text in the seeds' layout) and the
seed pages go through the parser and the extractor as in the pipeline; among the entities named in the
most articles, no company may be a person.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor
from services.enrich.entities.conll import Score, dateline_spans, read_documents, spans
from services.enrich.parser import parse_page
from shared.messages import Article

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"
BUSINESS_PAGE = DATA / "business_nl" / "page.txt"
RECEIVED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOP = 10

# Every company named on the business page (and on the seeds: the Financial Times, CBS News, ...).
COMPANIES = {
    "Jumbo", "Colruyt", "Shell", "Unilever", "Heineken", "ASML", "ASML Holding N.V.", "Philips", "Prosus",
    "Ahold Delhaize", "Albert Heijn", "Tata Steel", "Adyen", "Booking Holdings Inc.", "Booking.com",
    "Naspers", "FNV", "Financial Times", "CBS News", "Fox News", "The New York Times",
}  # fmt: skip


def page_entities(extractor: EntityExtractor, text: str) -> list[list[tuple[str, str, str]]]:
    """(text, canonical name, label) of the entities of each article of a page, as the pipeline finds them."""
    page = parse_page(text, received_at=RECEIVED_AT)
    return [[(e.text, e.name, e.label) for e in a.entities] for a in extractor.annotate(page.articles)]


def top_entities(articles: list[list[tuple[str, str, str]]], top: int = TOP) -> list[tuple[str, str]]:
    """(name, label) in the most articles, as ``dropwire entities --by stories`` ranks them."""
    counts: Counter[tuple[str, str]] = Counter()
    for found in articles:
        counts.update({(name, label) for _, name, label in found})
    return [key for key, _ in counts.most_common(top)]


def test_no_company_is_a_person_on_the_business_page(extractor: EntityExtractor) -> None:
    """Not in the top entities and not anywhere: every company mention of the page is no person."""
    articles = page_entities(extractor, BUSINESS_PAGE.read_text(encoding="utf-8"))
    persons = [text for found in articles for text, _, label in found if label == "PER" and text in COMPANIES]
    assert persons == [], articles
    top = top_entities(articles)
    assert not [name for name, label in top if label == "PER" and name in COMPANIES], top


def test_no_company_in_the_top_entities_of_seeds_and_business_page_is_a_person(
    extractor: EntityExtractor, seeds_dir: Path
) -> None:
    """The seeds and the business page dropped together: the top entities hold no company typed PER."""
    articles = page_entities(extractor, BUSINESS_PAGE.read_text(encoding="utf-8"))
    for path in sorted(seeds_dir.glob("*.txt")):
        articles += page_entities(extractor, path.read_text(encoding="utf-8"))
    top = top_entities(articles, top=20)
    assert any(label == "ORG" for _, label in top)
    assert not [name for name, label in top if label == "PER" and name in COMPANIES], top


@pytest.mark.parametrize(
    ("body", "name", "label"),
    [
        ("Supermarktketen Jumbo sluit winkels. Jumbo zegt dat de markt te klein is.", "Jumbo", "ORG"),
        ("De winst van Shell N.V. steeg, meldt het concern.", "Shell N.V.", "ORG"),
        ("Beleggers kochten aandelen Unilever plc en Apple Inc. op de beurs.", "Unilever plc", "ORG"),
        ("Beleggers kochten aandelen Unilever plc en Apple Inc. op de beurs.", "Apple Inc.", "ORG"),
        ("Shell, 's werelds grootste handelaar in aardgas, maakte winst.", "Shell", "ORG"),
        ("Bij Unilever verdwijnen banen, zegt de vakbond.", "Unilever", "ORG"),
        ("Ahold Delhaize, het moederbedrijf van Albert Heijn, groeit.", "Albert Heijn", "ORG"),
        ("Staalbedrijf Tata Steel krijgt steun van het Rijk.", "Tata Steel", "ORG"),
        ("Het Brugse IT-bedrijf Tectrade bouwt websites.", "Tectrade", "ORG"),
        ("Het Brugse IT-bedrijf Tectrade bouwt websites.", "Brugse", "MISC"),
        ("Volgens Bank Nagelmackers blijft de rente laag.", "Bank Nagelmackers", "ORG"),
        ("De piloten van Air Europa staken morgen.", "Air Europa", "ORG"),
        ("Ook Vandemoortele Pharma groeit.", "Vandemoortele Pharma", "ORG"),
        ("De Zuid-Afrikanen zijn blij met de uitslag.", "Zuid-Afrikanen", "MISC"),
        ("Minister Sophie Hermans van Klimaat sprak in Den Haag.", "Sophie Hermans", "PER"),
    ],
)
def test_company_cues(extractor: EntityExtractor, body: str, name: str, label: str) -> None:
    """Each cue of issue 12 types the name, whole, with its CoNLL-2002 label."""
    found = extractor.annotate([Article(seq=0, role="main", body=body)])[0].entities
    assert (name, label) in [(e.text, e.label) for e in found], found


def test_a_cue_keeps_its_type_across_the_document(extractor: EntityExtractor) -> None:
    """A company typed once by a cue is that company in every later article of the document."""
    articles = [
        Article(seq=0, role="main", body="Chipfabrikant Nexperia schrapt banen in Nijmegen."),
        Article(
            seq=1,
            role="brief",
            body="Nexperia zegt dat de vraag tegenvalt. Volgens Nexperia is dat tijdelijk.",
        ),
    ]
    labels = {e.label for a in extractor.annotate(articles) for e in a.entities if e.text == "Nexperia"}
    assert labels == {"ORG"}


def test_dateline_place_keeps_its_type_in_the_body(extractor: EntityExtractor) -> None:
    """The dateline reader's place votes LOC for the document: the same place in the body is LOC."""
    text = (
        "Gemeente bouwt meer\nGRONINGEN (ANP) - De gemeente Groningen wil meer woningen bouwen. "
        "Groningen groeit snel, zegt de wethouder.\nMeer uit Binnenland\n"
    )
    found = [(t, label) for a in page_entities(extractor, text) for t, _, label in a]
    assert [label for t, label in found if t == "Groningen"] == ["LOC", "LOC"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GRONINGEN ( ANP ) - De gemeente is blij .", [("GRONINGEN", "LOC"), ("ANP", "ORG")]),
        ("RIO DE JANEIRO - De Braziliaanse regering heeft gisteren besloten .", [("RIO DE JANEIRO", "LOC")]),
        (
            "DEN HAAG ( ANP / RTR ) - Het kabinet valt .",
            [("DEN HAAG", "LOC"), ("ANP", "ORG"), ("RTR", "ORG")],
        ),
        ("De man zegt - niets .", []),
        ("COVID-19 ( ANP ) - het virus", []),
    ],
)
def test_conll_datelines_are_read_by_the_dateline_reader(line: str, expected: list[tuple[str, str]]) -> None:
    tokens = line.split()
    assert [(" ".join(tokens[s:e]), label) for s, e, label in dateline_spans(tokens)] == expected


def test_conll_tagging_types_an_uppercase_dateline_place(extractor: EntityExtractor) -> None:
    """``dropwire ner --conll``: "GRONINGEN ( ANP ) -" is LOC and ORG whatever the model thought."""
    lines = [
        "GRONINGEN",
        "(",
        "ANP",
        ")",
        "-",
        "De",
        "provincie",
        "Groningen",
        "wil",
        "snel",
        "duidelijkheid",
        ".",
    ]
    document = read_documents([f"{w} O" for w in lines])[0]
    tags = extractor.tag_conll(document)[0]
    assert (0, 1, "LOC") in spans(tags) and (2, 3, "ORG") in spans(tags)


def test_confusion_pairs_labels_boundaries_misses_and_spurious_names() -> None:
    score = Score()
    gold = ["B-ORG", "O", "B-PER", "I-PER", "O", "B-LOC", "O", "O"]
    pred = ["B-PER", "O", "B-PER", "O", "O", "O", "O", "B-MISC"]
    score.add(gold, pred)
    assert score.confusion == {("ORG", "PER"): 1, ("PER", "bound"): 1, ("LOC", "O"): 1, ("O", "MISC"): 1}
    table = score.confusion_table().splitlines()
    assert table[0].split() == ["gold/pred", "LOC", "MISC", "ORG", "PER", "bound", "O"]


def test_the_frozen_open_news_set_is_intact() -> None:
    """The frozen set (tests/data/open_news_nl) keeps its size: 6 documents, 71 names."""
    lines = (DATA / "open_news_nl" / "test.conll").read_text(encoding="utf-8").splitlines()
    documents = read_documents(lines)
    names = [s for d in documents for sentence in d.sentences for s in spans(sentence.gold)]
    assert len(documents) == 6
    assert Counter(label for *_, label in names) == {"LOC": 24, "MISC": 21, "ORG": 14, "PER": 12}


def test_stored_top_entities_hold_no_company_as_a_person(extractor: EntityExtractor, sqlite_url: str) -> None:
    """The worker's enrichment and the store, as ``make run`` does: ``dropwire entities`` (top entities
    by stories and by mentions) lists no company of the business page as PER."""

    from services.enrich.enrichment import enrich
    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository
    from shared.messages import DocumentEnriched
    from tests.documents import received_text

    text = BUSINESS_PAGE.read_text(encoding="utf-8")
    received = received_text(text, claim="b__business.txt", name="business.txt", at=RECEIVED_AT)
    enriched = enrich(received, extractor)
    assert isinstance(enriched, DocumentEnriched)
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        repo = Repository(engine)
        repo.store([enriched])
        for by in ("stories", "mentions"):
            top = repo.top_entities(TOP, by=by)  # what ``dropwire entities --by ...`` lists
            assert any(row.label == "ORG" for row in top)
            assert [(r.name, r.label) for r in top if r.label == "PER" and r.name in COMPANIES] == [], top
    finally:
        engine.dispose()
