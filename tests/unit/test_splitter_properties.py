"""Properties of the splitter: no text lost or duplicated, never a crash, generated pages read back exactly."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.enrich.datelines import match_dateline
from services.enrich.lines import read_lines
from services.enrich.parser import ParsedPage, parse_page
from services.enrich.splitter import split_page
from shared.decoding import decode_bytes
from shared.errors import PermanentError

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def squash(text: str) -> str:
    """The text with all whitespace removed: what 'the same non-blank text in the same order' compares."""
    return "".join(text.split())


def covered(page: ParsedPage) -> str:
    return squash("".join(part.text for part in page.parts))


def assert_parts_agree_with_articles(page: ParsedPage) -> None:
    """The parts are exactly the output's fields: headline, preamble, dateline, body, time, page lines."""
    for number, article in enumerate(page.articles):
        mine = [p for p in page.parts if p.article == number]
        by_kind = {kind: [p.text for p in mine if p.kind == kind] for kind in {p.kind for p in mine}}
        assert by_kind.get("headline", [None])[0] == article.headline
        assert "\n".join(by_kind.get("preamble", [])) == (article.preamble or "")
        body = [p.text for p in mine if p.kind in ("body", "subhead")]
        assert "\n".join(body) == article.body
        assert tuple(by_kind.get("subhead", [])) == article.subheads
        assert by_kind.get("time", [None])[0] == article.relative_time
        assert "\n".join(by_kind.get("trailer", [])) == (article.trailer or "")
        marker = by_kind.get("version", [None])[0]
        assert marker == (f"({article.headline_version})" if article.headline_version is not None else None)
        if article.dateline is not None:
            (dateline,) = by_kind["dateline"]
            agencies = "/".join(article.dateline.agencies)
            written = article.dateline.place + (f"({agencies})" if agencies else "")
            assert squash(dateline)[:-1] == squash(written)  # what is left is the dash
        else:
            assert "dateline" not in by_kind
    assert tuple(p.text for p in page.parts if p.article is None) == page.page_lines


# --- arbitrary text -------------------------------------------------------------------------------------

LINEISH = st.text(
    alphabet=st.sampled_from(list("abcXYZ ÉÜ'’-–—()/.:0123456789\n\r\t\u00a0\u2028\x0b\x1c")), max_size=300
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=400), LINEISH))
def test_parts_cover_arbitrary_text_exactly_once_in_order(text: str) -> None:
    """Whatever the input, the listed parts hold every non-blank character once, in input order."""
    page = parse_page(text, received_at=RECEIVED)
    assert covered(page) == squash(text)
    assert_parts_agree_with_articles(page)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_without_wire_marks_is_zero_or_one_undated_article(text: str) -> None:
    """Text with no dateline, time or section line gives no article (if blank or site furniture only) or
    one undated article, reported as having no dateline."""
    lines = [line.strip() for line in text.split("\n")]
    if any(match_dateline(line) for line in lines) or any(
        word in text for word in ("geleden", "isteren", "Meer uit")
    ):
        return
    page = parse_page(text, received_at=RECEIVED)
    news = [line for line in read_lines(text) if line.kind != "furniture"]
    assert len(page.articles) == (1 if news else 0)
    if news:
        assert "no_dateline" in {w.kind for w in page.warnings}
    dated = any(line.kind == "byline" for line in read_lines(text))  # "1 jan 10:00": a date line
    for article in page.articles:
        assert (article.dateline, article.role) == (None, "main")
        assert article.published_at is None or dated


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_decode_and_split_without_crashing(raw: bytes) -> None:
    """Bytes → decode → parse: either a permanent decoding error or a page whose parts cover its text."""
    try:
        decoded = decode_bytes(raw)
    except PermanentError:
        return
    page = parse_page(decoded.text, received_at=RECEIVED)
    assert covered(page) == squash(decoded.text)


# --- generated wire pages -------------------------------------------------------------------------------

WORDS = [
    "het",
    "kabinet",
    "wil",
    "meer",
    "geld",
    "voor",
    "de",
    "zorg",
    "en",
    "scholen",
    "in",
    "stad",
    "regio",
]
PLACES = ["DEN HAAG", "BACHMOET", "NEW YORK", "MÜNCHEN", "'S-HERTOGENBOSCH", "RIO DE JANEIRO", "SÃO PAULO",
          "SINT-PETERSBURG", "KYIV", "DOMBURG", "ST. LOUIS"]  # fmt: skip
AGENCIES = ["ANP", "AFP", "RTR", "AP", "DPA", "Belga", "AFN", "BLOOMBERG"]
SECTIONS = ["Buitenland", "Binnenland", "Economie", "Sport"]
TIMES = ["1 minuut geleden", "20 minuten geleden", "1 uur geleden", "3 uur geleden", "2 dagen geleden",
         "1 week geleden", "3 weken geleden", "gisteren"]  # fmt: skip


@st.composite
def sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=4, max_size=12))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


@st.composite
def headlines(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=7))
    return words[0].capitalize() + " " + " ".join(words[1:])


@dataclass
class Expected:
    headline: str | None
    version: int | None
    preamble: str | None
    place: str
    agencies: tuple[str, ...]
    first: str
    paragraphs: list[str]
    subheads: list[str]
    time: str | None


@st.composite
def articles(draw: st.DrawFn, *, brief: bool, older: bool) -> tuple[list[str], Expected]:
    """Lines of one article (without its time) and what the parser should read from them."""
    lines: list[str] = []
    headline = (
        draw(headlines())
        if (older or not brief) and draw(st.booleans() if not brief else st.just(True))
        else None
    )
    version = draw(st.none() | st.integers(2, 9)) if headline and not brief else None
    if headline:
        lines.append(f"{headline} ({version})" if version else headline)
    preamble = None
    if headline and not brief and draw(st.booleans()):
        preamble = "N i e u w bericht, vervangt: " + headline
        lines.append(preamble)
    place = draw(st.sampled_from(PLACES))
    agencies = tuple(
        draw(st.lists(st.sampled_from(AGENCIES), min_size=0 if brief else 1, max_size=4, unique=True))
    )
    dash = draw(st.sampled_from(["-", "–", "—"]))
    first = draw(sentences())
    opening = f"{place} ({'/'.join(agencies)}) {dash} " if agencies else f"{place} {dash} "
    lines.append(opening + first)
    paragraphs, subheads = [first], []
    for _ in range(draw(st.integers(0, 3))):
        if not brief and paragraphs and draw(st.booleans()):
            subhead = draw(headlines())
            subheads.append(subhead)
            paragraphs.append(subhead)
            lines.append(subhead)
        paragraph = draw(sentences())
        paragraphs.append(paragraph)
        lines.append(paragraph)
    return lines, Expected(headline, version, preamble, place, agencies, first, paragraphs, subheads, None)


@st.composite
def pages(draw: st.DrawFn) -> tuple[str, list[Expected], str | None]:
    older = draw(st.booleans())
    main_lines, main = draw(articles(brief=False, older=older))
    lines, expected, section = list(main_lines), [main], None
    if draw(st.booleans()):
        section = draw(st.sampled_from(SECTIONS))
        lines.append(f"Meer uit {section}")
        for _ in range(draw(st.integers(1, 5))):
            brief_lines, brief = draw(articles(brief=True, older=older))
            brief.time = draw(st.sampled_from(TIMES))
            if older or len(expected) == 1:
                lines.extend(brief_lines)
            else:
                lines[-1] += brief_lines[0]  # the previous time runs into this brief's first line
                lines.extend(brief_lines[1:])
            lines.append(brief.time)
            expected.append(brief)
    return "\n".join(lines), expected, section


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_generated_pages_read_back_exactly(generated: tuple[str, list[Expected], str | None]) -> None:
    """Headlines, versions, preambles, datelines, paragraphs, subheads and times come back as generated."""
    text, expected, section = generated
    page = parse_page(text, received_at=RECEIVED)
    assert covered(page) == squash(text)
    assert_parts_agree_with_articles(page)
    assert page.section == section
    assert len(page.articles) == len(expected)
    for article, want in zip(page.articles, expected, strict=True):
        assert article.headline == want.headline
        assert article.headline_version == want.version
        assert article.preamble == want.preamble
        assert article.dateline is not None
        assert (article.dateline.place, article.dateline.agencies) == (want.place, want.agencies)
        assert article.body.split("\n") == want.paragraphs
        assert list(article.subheads) == want.subheads
        assert article.relative_time == want.time
        assert (article.published_at is None) == (want.time is None)


ENCODINGS = [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("cp1252", b"")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages(), st.sampled_from(ENCODINGS), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_encoding_and_line_endings_do_not_change_the_split(
    generated: tuple[str, list[Expected], str | None], encoding: tuple[str, bytes], eol: str, final: bool
) -> None:
    """The same page as UTF-8, UTF-8+BOM, UTF-16 or cp1252, with LF/CRLF/CR, with or without a final newline."""
    text = generated[0]
    codec, bom = encoding
    raw = bom + (text.replace("\n", eol) + (eol if final else "")).encode(codec)
    decoded = decode_bytes(raw)
    assert split_page(decoded.text).articles == split_page(text).articles
