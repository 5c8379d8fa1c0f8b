"""How each line of a wire page reads on its own: time, section line, dateline, byline, furniture or text.

``read_lines`` turns a page into classified ``Line`` records (blank lines dropped, a relative time run
into the next text cut off as its own line; site furniture — menus, cookie lines, a "Net binnen" list
and its heading — marked as such); the predicates below judge text lines (headline-like,
subhead-like, a correction notice, a desk-contact trailer). ``splitter`` assembles articles from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from services.enrich.abstimes import Byline, read_byline
from services.enrich.datelines import DatelineMatch, match_dateline
from services.enrich.furniture import is_boilerplate, is_heading, is_list_heading, list_item
from services.enrich.reltime import RelativeTime, match_relative_time, parse_relative_time

LineKind = Literal["text", "time", "dateline", "section", "byline", "furniture"]

#: A subhead is a short line: at most this many characters ...
MAX_SUBHEAD_CHARS = 60
#: ... and words ("11.000 militairen", "Kritiek uit de Kamer").
MAX_SUBHEAD_WORDS = 8
#: A line longer than this (in words) is never taken for the next article's headline.
MAX_HEADLINE_WORDS = 20

# "Meer uit Buitenland", "Meer nieuws uit Cultuur & Media": capitalised words only, so that a sentence like
# "Meer uit angst dan uit overtuiging." stays body text.
_SECTION = re.compile(
    r"Meer (?:nieuws )?uit (?P<section>[A-ZÀ-Ý][\w-]{0,30}(?: (?:&|en|[A-ZÀ-Ý][\w-]{0,30})){0,3})"
)
_VERSION = re.compile(
    r"\((?P<version>[1-9][0-9]?)\)"
)  # "(2)", never "(02)": the marker reads back as written
# "N i e u w bericht", "C o r r e c t i e": the wire spaces out the letters of a notice word.
_LETTER_SPACED = re.compile(r"(?:\w ){3,}\w")
_NOTICE_WORDS = re.compile(r"(?:Correctie|Gecorrigeerd|Herhaling|Aanvulling|Vervangt|Let op)\b", re.I)
# "(ANP Redactie Buitenland, tel. 020-5159128)": an agency name, a space, contact text, closed.
_TRAILER = re.compile(r"\((?:[A-Z][A-Za-z]{1,11}/){0,3}[A-Z][A-Za-z]{1,11} [^()]{1,160}\)")
_SENTENCE_END = ".!?;,:"
_QUOTES = "\"'\u201d\u2019\u00bb"


@dataclass
class Line:
    """One non-blank line (stripped), its position among the page's lines, and what it is."""

    index: int
    text: str
    kind: LineKind
    dateline: DatelineMatch | None = None
    time: RelativeTime | None = None
    byline: Byline | None = None


def read_lines(text: str) -> list[Line]:
    """Non-blank lines, stripped and classified; a time run into the next line's text is cut off."""
    out: list[Line] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        found = match_relative_time(line)
        if found is not None and len(found.text) < len(line) and not _dated_dateline(line, found):
            rest = line[len(found.text) :]
            tail = rest.strip()
            # "20 minuten geledenPARIJS", "3 uur geledenMedia: ...", "1 uur geleden11.000 banen weg"
            run_in = rest[0].isupper() or rest[0].isdigit() or rest[0] in _QUOTES
            if tail and (run_in or match_dateline(tail) is not None):
                out.append(Line(len(out), found.text, "time", time=found))
                line = tail
        out.append(_classify(len(out), line))
    for line_, following in pairwise(out):
        # "BREAKING - Kabinet valt over asielwet" above a dateline is a headline, not a dateline without
        # agency: a real one opens a body that reads as sentences, and the next article cannot follow it.
        opening = line_.dateline
        headline = opening is not None and not opening.agencies and not ends_like_sentence(line_.text)
        if headline and following.kind == "dateline":
            line_.kind, line_.dateline = "text", None
    _mark_lists(out)
    return out


def _dated_dateline(line: str, found: RelativeTime) -> bool:
    """'gisteren 16:29 TERNEUZEN - ...' is one dateline with a day and a clock, not a time and a dateline."""
    after = line[len(found.text) : len(found.text) + 3]
    return after[:1] in (" ", ",") and any(c.isdigit() for c in after) and match_dateline(line) is not None


def _mark_lists(lines: list[Line]) -> None:
    """Items of a recent-news list ("- Binnenland 16:29 Brand in loods") and its heading are furniture.

    An item with a bullet and a section stands on its own; a barer one ("16:29 Brand in loods") only
    next to another item. The short line right above a run of items is its heading ("Net binnen").
    """
    shapes = [list_item(line.text) if line.kind == "text" else None for line in lines]
    for position, shape in enumerate(shapes):
        if shape is None:
            continue
        neighbours = shapes[max(position - 1, 0) : position] + shapes[position + 1 : position + 2]
        if shape == (True, True) or any(other is not None for other in neighbours):
            lines[position].kind = "furniture"
    for position in range(len(lines) - 1):
        line, following = lines[position], lines[position + 1]
        item_follows = following.kind == "furniture" and shapes[position + 1] is not None
        if line.kind == "text" and item_follows and is_heading(line.text):
            line.kind = "furniture"
    _mark_related(lines)
    _mark_menu_blocks(lines)


#: A menu printed one item a line: lines of at most this many words ...
MAX_MENU_ITEM_WORDS = 3


def _mark_menu_blocks(lines: list[Line]) -> None:
    """A run of short lines among which some are known navigation ("Omroep Zeeland", "Nieuws",
    "Programma's") is a menu printed one item a line: all of it is furniture. A line a dateline
    follows is an article's headline and ends the run."""
    above_dateline = _above_dateline(lines)
    position = 0
    while position < len(lines):
        run: list[Line] = []
        while position < len(lines) and _menu_item(lines[position]):
            if above_dateline[position]:
                break
            run.append(lines[position])
            position += 1
        if len(run) >= 2 and any(line.kind == "furniture" for line in run):
            for line in run:
                line.kind = "furniture"
        position += 1 if not run else 0


def _menu_item(line: Line) -> bool:
    return (
        line.kind in ("text", "furniture")
        and len(line.text.split()) <= MAX_MENU_ITEM_WORDS
        and not ends_like_sentence(line.text)
    )


def _above_dateline(lines: list[Line]) -> list[bool]:
    """For each line: does it stand right above a dateline (bylines, notices, furniture between)?

    One pass from the end, so that a page of many short lines costs linear time."""
    out = [False] * len(lines)
    next_kind: str | None = None
    for position in range(len(lines) - 1, -1, -1):
        out[position] = next_kind == "dateline"
        line = lines[position]
        if not (line.kind in _LEAD or (line.kind == "text" and is_notice(line.text))):
            next_kind = line.kind
    return out


def _mark_related(lines: list[Line]) -> None:
    """Headlines listed under 'Lees ook' / 'Meer over dit onderwerp' are furniture, with their heading,
    up to the first line that is no bare headline; a line a dateline follows is an article's headline
    and ends the list. A heading with no such line under it ("Meer over de oorzaak") stays text."""
    above_dateline = _above_dateline(lines)
    position = 0
    while position < len(lines):
        heading = lines[position]
        position += 1
        if heading.kind not in ("text", "furniture") or not is_list_heading(heading.text):
            continue
        items: list[Line] = []
        while position < len(lines):
            item = lines[position]
            if item.kind != "text" or not looks_like_headline(item.text) or ends_like_sentence(item.text):
                break
            if above_dateline[position]:
                break
            items.append(item)
            position += 1
        if items:
            for line in (heading, *items):
                line.kind = "furniture"


# Lines that may stand between a headline and its dateline.
_LEAD = ("byline", "furniture")


def _classify(index: int, line: str) -> Line:
    time = parse_relative_time(line)
    if time is not None:
        return Line(index, line, "time", time=time)
    if _SECTION.fullmatch(line):
        return Line(index, line, "section")
    dateline = match_dateline(line)
    if dateline is not None:
        return Line(index, line, "dateline", dateline=dateline)
    byline = read_byline(line)
    if byline is not None:
        return Line(index, line, "byline", byline=byline)
    if is_boilerplate(line):
        return Line(index, line, "furniture")
    return Line(index, line, "text")


def section_name(line: str) -> str | None:
    """'Meer uit Buitenland' → 'Buitenland'."""
    found = _SECTION.fullmatch(line)
    return found.group("section") if found is not None else None


def split_version(line: str) -> tuple[str, str | None]:
    """'Kabinet valt (2)' → ('Kabinet valt', '(2)'); a headline without marker is returned as is."""
    if line.endswith(")"):
        opening = line.rfind("(")
        if opening > 0 and _VERSION.fullmatch(line, opening):
            headline = line[:opening].rstrip()
            if headline:
                return headline, line[opening:]
    return line, None


def is_notice(line: str) -> bool:
    """A correction or repeat notice: 'N i e u w bericht, vervangt: ...', 'Correctie: ...'."""
    return bool(_LETTER_SPACED.match(line) or _NOTICE_WORDS.match(line))


def is_trailer(line: str) -> bool:
    """A desk-contact line: '(ANP Redactie Binnenland, tel. 088-1234567)'."""
    return _TRAILER.fullmatch(line) is not None


def ends_like_sentence(line: str) -> bool:
    end = line.rstrip(_QUOTES + ")")
    return bool(end) and end[-1] in _SENTENCE_END


def looks_like_headline(line: str) -> bool:
    return (
        len(line.split()) <= MAX_HEADLINE_WORDS
        and (line[0].isupper() or line[0].isdigit() or line[0] in _QUOTES)
        and not (line.endswith(".") or line.endswith('."'))
    )


def looks_like_subhead(line: str) -> bool:
    return (
        len(line) <= MAX_SUBHEAD_CHARS
        and len(line.split()) <= MAX_SUBHEAD_WORDS
        and (line[0].isupper() or line[0].isdigit())
        and not ends_like_sentence(line)
        and line[-1] not in _QUOTES
    )
