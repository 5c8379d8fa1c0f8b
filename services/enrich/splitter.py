"""A wire page → its articles, as an editor reads it; every non-blank piece of text lands in one part.

The page layout (see docs/readme/parse.md for examples):

    Headline (2)                                   ← headline, optional version marker
    N i e u w bericht, vervangt: ...               ← preamble lines (optional)
    DEN HAAG (ANP/AFP) - First paragraph ...       ← dateline + body
    Short subhead                                  ← subhead inside the body
    More paragraphs ...
    (ANP Redactie Binnenland)                      ← desk-contact trailer
    Meer uit Binnenland                            ← page line: the section, briefs follow
    UTRECHT (ANP) - Brief one ...
    20 minuten geledenZWOLLE (ANP) - Brief two ... ← a brief's time runs into the next dateline
    1 uur geleden                                  ← the last brief's time

and the older layout, where every brief has a headline line and its time on a line of its own.

Rules: a dateline line opens an article; the lines before it since the last article closed are its
headline and preamble; a relative time closes the article it follows (the main article's time is
therefore null when the briefs' list follows it directly); "Meer uit <Section>" closes the main article
and names the section. Text with no dateline at all is one undated article.

The result lists ``parts`` — (kind, text, article) in input order — so a test can prove that no text
is lost or duplicated: joined, the parts equal the input's non-blank text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from services.enrich.datelines import DatelineMatch, match_dateline
from services.enrich.reltime import RelativeTime, match_relative_time, parse_relative_time

PartKind = Literal[
    "headline", "version", "preamble", "dateline", "body", "subhead", "trailer", "time", "page"
]

#: A subhead is a short line: at most this many characters ...
MAX_SUBHEAD_CHARS = 60
#: ... and words ("11.000 militairen", "Kritiek uit de Kamer").
MAX_SUBHEAD_WORDS = 8
#: A line longer than this (in words) is never taken for the next article's headline.
MAX_HEADLINE_WORDS = 20

# "Meer uit Buitenland", "Meer uit Cultuur & Media": capitalised words only, so that a sentence such as
# "Meer uit angst dan uit overtuiging." stays body text.
_SECTION = re.compile(r"Meer uit (?P<section>[A-ZÀ-Ý][\w-]{0,30}(?: (?:&|en|[A-ZÀ-Ý][\w-]{0,30})){0,3})")
_VERSION = re.compile(r"\((?P<version>\d{1,2})\)")
# "N i e u w bericht", "C o r r e c t i e": the wire spaces out the letters of a notice word.
_LETTER_SPACED = re.compile(r"(?:\w ){3,}\w")
_NOTICE_WORDS = re.compile(r"(?:Correctie|Gecorrigeerd|Herhaling|Aanvulling|Vervangt|Let op)\b", re.I)
# "(ANP Redactie Buitenland, tel. 020-5159128)": an agency name, a space, contact text, closed.
_TRAILER = re.compile(r"\((?:[A-Z][A-Za-z]{1,11}/){0,3}[A-Z][A-Za-z]{1,11} [^()]{1,160}\)")
_SENTENCE_END = ".!?;,:"
_QUOTES = "\"'\u201d\u2019\u00bb"


@dataclass(frozen=True)
class Part:
    """One piece of the page in input order; ``article`` indexes ``SplitPage.articles`` (None: page)."""

    kind: PartKind
    text: str
    article: int | None


@dataclass(frozen=True)
class ArticleDraft:
    """One article's pieces as written, before times and places are resolved."""

    role: Literal["main", "brief"]
    headline: str | None
    version: int | None
    preamble: str | None
    dateline: DatelineMatch | None
    body: str
    subheads: tuple[str, ...]
    trailer: str | None
    time: RelativeTime | None


@dataclass(frozen=True)
class SplitPage:
    section: str | None
    articles: tuple[ArticleDraft, ...]
    page_lines: tuple[str, ...]
    parts: tuple[Part, ...]


@dataclass
class _Segment:
    index: int
    text: str
    kind: Literal["text", "time", "dateline", "section"]
    dateline: DatelineMatch | None = None
    time: RelativeTime | None = None


@dataclass
class _Open:
    """An article being assembled."""

    role: Literal["main", "brief"]
    lead: list[_Segment]  # headline and preamble lines
    dateline: _Segment | None = None
    paragraphs: list[_Segment] = field(default_factory=list)
    time: _Segment | None = None


def split_page(text: str) -> SplitPage:
    """Split one decoded page (``\\n`` line endings) into articles and page lines. Never raises."""
    return _Splitter(_segments(text)).run()


def _segments(text: str) -> list[_Segment]:
    """Non-blank lines, stripped and classified; a time run into the next line's text is cut off."""
    out: list[_Segment] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        found = match_relative_time(line)
        if found is not None and len(found.text) < len(line):
            rest = line[len(found.text) :]
            tail = rest.strip()
            # "20 minuten geledenPARIJS", "3 uur geledenMedia: ...", "1 uur geleden11.000 banen weg"
            run_in = rest[0].isupper() or rest[0].isdigit() or rest[0] in _QUOTES
            if tail and (run_in or match_dateline(tail) is not None):
                out.append(_Segment(len(out), found.text, "time", time=found))
                line = tail
        out.append(_classify(len(out), line))
    for segment, following in pairwise(out):
        # "BREAKING - Kabinet valt over asielwet" above a dateline is a headline, not a dateline without
        # agency: a real one opens a body that reads as sentences, and the next article cannot follow it.
        opening = segment.dateline
        headline = opening is not None and not opening.agencies and not _ends_like_sentence(segment.text)
        if headline and following.kind == "dateline":
            segment.kind, segment.dateline = "text", None
    return out


def _classify(index: int, line: str) -> _Segment:
    time = parse_relative_time(line)
    if time is not None:
        return _Segment(index, line, "time", time=time)
    if _SECTION.fullmatch(line):
        return _Segment(index, line, "section")
    dateline = match_dateline(line)
    if dateline is not None:
        return _Segment(index, line, "dateline", dateline=dateline)
    return _Segment(index, line, "text")


class _Splitter:
    def __init__(self, segments: list[_Segment]) -> None:
        self.segments = segments
        self.section: str | None = None
        self.in_briefs = False
        self.main_taken = False
        self.current: _Open | None = None
        self.pending: list[_Segment] = []
        self.closed: list[_Open] = []
        self.page: list[_Segment] = []

    def run(self) -> SplitPage:
        for position, segment in enumerate(self.segments):
            if segment.kind == "section":
                self._close_with_pending()
                found = _SECTION.fullmatch(segment.text)
                if found is not None and self.section is None:
                    self.section = found.group("section").strip()
                self.in_briefs = True
                self.page.append(segment)
            elif segment.kind == "time":
                self._on_time(segment)
            elif segment.kind == "dateline" and (body := self._running_body(segment)) is not None:
                segment.kind, segment.dateline = "text", None
                body.append(segment)
            elif segment.kind == "dateline":
                self._close()
                self.current = _Open(role=self._role(), lead=self.pending, dateline=segment)
                self.pending = []
            elif self.current is not None and self.current.dateline is not None:
                if self._starts_next_article(position):
                    self._close()
                    self.pending.append(segment)
                else:
                    self.current.paragraphs.append(segment)
            else:
                self.pending.append(segment)
        self._close()
        if self.pending:
            if self.closed:
                self.page.extend(self.pending)  # trailing lines that belong to no article
            else:
                self.closed.append(_Open(role=self._role(), lead=[], paragraphs=self.pending))
            self.pending = []
        return self._result()

    def _role(self) -> Literal["main", "brief"]:
        """The first article before any "Meer uit" line is the page's main article; all others are briefs."""
        if self.in_briefs or self.main_taken:
            return "brief"
        self.main_taken = True
        return "main"

    def _on_time(self, segment: _Segment) -> None:
        if self.current is None and self.pending:
            self.current = _Open(role=self._role(), lead=[], paragraphs=self.pending)
            self.pending = []
        if self.current is None:
            self.page.append(segment)  # a time that follows no article
            return
        self.current.time = segment
        self._close()

    def _close(self) -> None:
        if self.current is not None:
            self.closed.append(self.current)
            self.current = None

    def _close_with_pending(self) -> None:
        """Close the open article; lines waiting for a dateline that never came form an undated one."""
        self._close()
        if self.pending:
            self.closed.append(_Open(role=self._role(), lead=[], paragraphs=self.pending))
            self.pending = []

    def _running_body(self, segment: _Segment) -> list[_Segment] | None:
        """The open article's paragraphs when ``segment`` is a dateline without agency inside them.

        "NU OF NOOIT - zei hij ..." in the middle of a body is body text: only a dateline with an agency
        may interrupt a running article; one without must stand where an article can start (at the top,
        after a headline, a time or "Meer uit").
        """
        opening = segment.dateline
        if opening is None or opening.agencies or self.current is None or self.current.dateline is None:
            return None
        return self.current.paragraphs

    def _starts_next_article(self, position: int) -> bool:
        """A headline-like line followed (after optional preamble lines) by a dateline opens an article."""
        if not _looks_like_headline(self.segments[position].text):
            return False
        for later in self.segments[position + 1 : position + 4]:
            if later.kind == "dateline":
                return True
            if later.kind != "text" or not _is_notice(later.text):
                return False
        return False

    def _result(self) -> SplitPage:
        parts: list[tuple[int, int, Part]] = [
            (seg.index, 0, Part("page", seg.text, None)) for seg in self.page
        ]
        articles: list[ArticleDraft] = []
        for number, article in enumerate(self.closed):
            draft, article_parts = _assemble(article, number)
            articles.append(draft)
            parts.extend(article_parts)
        parts.sort(key=lambda item: (item[0], item[1]))
        return SplitPage(
            section=self.section,
            articles=tuple(articles),
            page_lines=tuple(seg.text for seg in self.page),
            parts=tuple(part for _, _, part in parts),
        )


def _assemble(article: _Open, number: int) -> tuple[ArticleDraft, list[tuple[int, int, Part]]]:
    """The article's parts, keyed by (segment index, order within the segment), and the draft read from them."""
    parts = _lead_parts(article, number) + _body_parts(article, number)
    if article.time is not None:
        parts.append((article.time.index, 0, Part("time", article.time.text, number)))

    def texts(*kinds: PartKind) -> list[str]:
        return [part.text for _, _, part in parts if part.kind in kinds]

    headline, marker = texts("headline"), texts("version")
    draft = ArticleDraft(
        role=article.role,
        headline=headline[0] if headline else None,
        version=int(marker[0][1:-1]) if marker else None,
        preamble="\n".join(texts("preamble")) or None,
        dateline=article.dateline.dateline if article.dateline is not None else None,
        body="\n".join(texts("body", "subhead")),
        subheads=tuple(texts("subhead")),
        trailer="\n".join(texts("trailer")) or None,
        time=article.time.time if article.time is not None else None,
    )
    return draft, parts


def _lead_parts(article: _Open, number: int) -> list[tuple[int, int, Part]]:
    """Headline (and its version marker) and preamble lines; a notice right before a dateline is preamble."""
    parts: list[tuple[int, int, Part]] = []
    for position, segment in enumerate(article.lead):
        if position == 0 and not (_is_notice(segment.text) and article.dateline is not None):
            headline, marker = _split_version(segment.text)
            parts.append((segment.index, 0, Part("headline", headline, number)))
            if marker:
                parts.append((segment.index, 1, Part("version", marker, number)))
        else:
            parts.append((segment.index, 0, Part("preamble", segment.text, number)))
    return parts


def _body_parts(article: _Open, number: int) -> list[tuple[int, int, Part]]:
    """The dateline, the text after its dash, and the paragraphs, subheads and trailer that follow."""
    parts: list[tuple[int, int, Part]] = []
    opening = article.dateline
    if opening is not None and opening.dateline is not None:
        cut = opening.dateline.end
        parts.append((opening.index, 0, Part("dateline", opening.text[:cut], number)))
        parts.append((opening.index, 1, Part("body", opening.text[cut:], number)))
    texts = [segment.text for segment in article.paragraphs]
    kinds = _paragraph_kinds(texts, first=opening is None)
    parts.extend(
        (segment.index, 0, Part(kind, segment.text, number))
        for segment, kind in zip(article.paragraphs, kinds, strict=True)
    )
    return parts


def _paragraph_kinds(texts: list[str], *, first: bool) -> list[PartKind]:
    """Body, subhead or trailer for each line after the dateline's own paragraph."""
    kinds: list[PartKind] = ["body"] * len(texts)
    end = len(texts)
    while end > 0 and _TRAILER.fullmatch(texts[end - 1]):
        end -= 1
        kinds[end] = "trailer"
    start = 1 if first else 0  # the article's first paragraph is never a subhead
    for position in range(start, end - 1):  # nor is its last
        if _looks_like_subhead(texts[position]):
            kinds[position] = "subhead"
    return kinds


def _split_version(line: str) -> tuple[str, str | None]:
    """'Kabinet valt (2)' → ('Kabinet valt', '(2)'); a headline without marker is returned as is."""
    if line.endswith(")"):
        opening = line.rfind("(")
        if opening > 0 and _VERSION.fullmatch(line, opening):
            headline = line[:opening].rstrip()
            if headline:
                return headline, line[opening:]
    return line, None


def _is_notice(line: str) -> bool:
    return bool(_LETTER_SPACED.match(line) or _NOTICE_WORDS.match(line))


def _ends_like_sentence(line: str) -> bool:
    end = line.rstrip(_QUOTES + ")")
    return bool(end) and end[-1] in _SENTENCE_END


def _looks_like_headline(line: str) -> bool:
    return (
        len(line.split()) <= MAX_HEADLINE_WORDS
        and (line[0].isupper() or line[0].isdigit() or line[0] in _QUOTES)
        and not (line.endswith(".") or line.endswith('."'))
    )


def _looks_like_subhead(line: str) -> bool:
    return (
        len(line) <= MAX_SUBHEAD_CHARS
        and len(line.split()) <= MAX_SUBHEAD_WORDS
        and (line[0].isupper() or line[0].isdigit())
        and not _ends_like_sentence(line)
        and line[-1] not in _QUOTES
    )
