"""Line reading: run-in times cut off, sections, version markers, notices, trailers, subheads."""

from __future__ import annotations

import pytest

from services.enrich.lines import (
    is_notice,
    is_trailer,
    looks_like_subhead,
    read_lines,
    section_name,
    split_version,
)

pytestmark = pytest.mark.unit


def test_read_lines_cuts_a_run_in_time_and_drops_blank_lines() -> None:
    """'20 minuten geledenPARIJS (ANP) - ...' becomes a time line and a dateline line; blanks vanish."""
    lines = read_lines("Kop\n\n  \r\n20 minuten geledenPARIJS (ANP) - Tekst hier.\n3 uur geleden")
    assert [(line.kind, line.text) for line in lines] == [
        ("text", "Kop"),
        ("time", "20 minuten geleden"),
        ("dateline", "PARIJS (ANP) - Tekst hier."),
        ("time", "3 uur geleden"),
    ]
    assert [line.index for line in lines] == [0, 1, 2, 3]


def test_read_lines_keeps_a_sentence_that_starts_with_a_time_whole() -> None:
    """'Twee uur geleden werd ...' is one text line: no run-in, no dateline after it."""
    (line,) = read_lines("Twee uur geleden werd de brug gesloten.")
    assert (line.kind, line.text) == ("text", "Twee uur geleden werd de brug gesloten.")


@pytest.mark.parametrize(
    ("line", "section"),
    [("Meer uit Buitenland", "Buitenland"), ("Meer uit Cultuur & Media", "Cultuur & Media"),
     ("Meer uit angst dan uit overtuiging.", None), ("Meer uit", None)],
)  # fmt: skip
def test_section_name(line: str, section: str | None) -> None:
    """Only 'Meer uit' followed by a capitalised section name is a section line."""
    assert section_name(line) == section


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Kabinet valt (2)", ("Kabinet valt", "(2)")),
        ("Kabinet valt(3)", ("Kabinet valt", "(3)")),
        ("Verkiezingen van (2025)", ("Verkiezingen van (2025)", None)),  # a year, not a version
        ("(2)", ("(2)", None)),  # nothing left for a headline
        ("Kabinet valt", ("Kabinet valt", None)),
    ],
)
def test_split_version(line: str, expected: tuple[str, str | None]) -> None:
    """A one- or two-digit marker at the end of a headline is split off; anything else stays."""
    assert split_version(line) == expected


@pytest.mark.parametrize(
    ("line", "notice"),
    [
        ("N i e u w bericht, vervangt: Kop (1)", True),
        ("C o r r e c t i e: datum aangepast", True),
        ("Correctie: in een eerdere versie stond een fout", True),
        ("Nieuw kabinet beëdigd", False),
        ("A b", False),
    ],
)
def test_is_notice(line: str, notice: bool) -> None:
    """Letter-spaced notice words and 'Correctie'-style openings are notices."""
    assert is_notice(line) is notice


@pytest.mark.parametrize(
    ("line", "trailer"),
    [
        ("(ANP Redactie Buitenland)", True),
        ("(ANP Redactie Binnenland, tel. 088-1234567)", True),
        ("(ANP/AFP Redactie Economie)", True),
        ("(lokale tijd)", False),
        ("(ANP)", False),
        ("De minister (VVD) zei het.", False),
    ],
)
def test_is_trailer(line: str, trailer: bool) -> None:
    """A parenthesised agency plus contact text is a desk trailer; other parentheses are not."""
    assert is_trailer(line) is trailer


@pytest.mark.parametrize(
    ("line", "subhead"),
    [
        ("11.000 militairen", True),
        ("Oorzaak onbekend", True),
        ("Dat zei hij.", False),
        ("Volgens de minister gaat dit veel te ver en moet het anders", False),
        ("kleine letter", False),
        ('"Geen commentaar"', False),
    ],
)
def test_looks_like_subhead(line: str, subhead: bool) -> None:
    """Short, capitalised, unpunctuated lines read as subheads."""
    assert looks_like_subhead(line) is subhead
