"""A wire page → its articles, as an editor reads it; every non-blank piece of text lands in one part.

The page layout (see the README, "Reading a page", for examples):

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

Rules (how each line reads on its own is ``lines``' job): a dateline line opens an article (one
without agency only where an article can start, not inside a running body); the lines before it since
the last article closed are its headline and preamble; a headline-like line right above a dateline
ends the running article; a relative time closes the article it follows (the main article's time is
therefore null when the briefs' list follows it directly); "Meer uit <Section>" closes the main article
and names the section. Text with no dateline at all is one undated article.

The result lists ``parts`` — (kind, text, article) in input order — so a test can prove that no text
is lost or duplicated: joined, the parts equal the input's non-blank text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from services.enrich.datelines import DatelineMatch
from services.enrich.lines import (
    Line,
    is_notice,
    is_trailer,
    looks_like_headline,
    looks_like_subhead,
    read_lines,
    section_name,
    split_version,
)
from services.enrich.reltime import RelativeTime

PartKind = Literal[
    "headline", "version", "preamble", "dateline", "body", "subhead", "trailer", "time", "page"
]


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
class _Open:
    """An article being assembled."""

    role: Literal["main", "brief"]
    lead: list[Line]  # headline and preamble lines
    dateline: Line | None = None
    paragraphs: list[Line] = field(default_factory=list)
    time: Line | None = None


def split_page(text: str) -> SplitPage:
    """Split one decoded page (``\\n`` line endings) into articles and page lines. Never raises."""
    return _Splitter(read_lines(text)).run()


class _Splitter:
    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        self.section: str | None = None
        self.in_briefs = False
        self.main_taken = False
        self.current: _Open | None = None
        self.pending: list[Line] = []
        self.closed: list[_Open] = []
        self.page: list[Line] = []

    def run(self) -> SplitPage:
        for position, line in enumerate(self.lines):
            if line.kind == "section":
                self._close_with_pending()
                if self.section is None:
                    self.section = section_name(line.text)
                self.in_briefs = True
                self.page.append(line)
            elif line.kind == "time":
                self._on_time(line)
            elif line.kind == "dateline" and (body := self._running_body(line)) is not None:
                line.kind, line.dateline = "text", None
                body.append(line)
            elif line.kind == "dateline":
                self._close()
                self.current = _Open(role=self._role(), lead=self.pending, dateline=line)
                self.pending = []
            elif self.current is not None and self.current.dateline is not None:
                if self._starts_next_article(position):
                    self._close()
                    self.pending.append(line)
                else:
                    self.current.paragraphs.append(line)
            else:
                self.pending.append(line)
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

    def _on_time(self, line: Line) -> None:
        if self.current is None and self.pending:
            self.current = _Open(role=self._role(), lead=[], paragraphs=self.pending)
            self.pending = []
        if self.current is None:
            self.page.append(line)  # a time that follows no article
            return
        self.current.time = line
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

    def _running_body(self, line: Line) -> list[Line] | None:
        """The open article's paragraphs when ``line`` is a dateline without agency inside them.

        "NU OF NOOIT - zei hij ..." in the middle of a body is body text: only a dateline with an agency
        may interrupt a running article; one without must stand where an article can start (at the top,
        after a headline, a time or "Meer uit").
        """
        opening = line.dateline
        if opening is None or opening.agencies or self.current is None or self.current.dateline is None:
            return None
        return self.current.paragraphs

    def _starts_next_article(self, position: int) -> bool:
        """A headline-like line followed (after optional preamble lines) by a dateline opens an article."""
        if not looks_like_headline(self.lines[position].text):
            return False
        for later in self.lines[position + 1 : position + 4]:
            if later.kind == "dateline":
                return True
            if later.kind != "text" or not is_notice(later.text):
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
    """The article's parts, keyed by (line index, order within the line), and the draft read from them."""
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
    """Headline (and its version marker) and preamble lines.

    The first line is the headline ("Herhaling: Ajax ontslaat trainer" included), except a notice
    that stands alone before the dateline ("C o r r e c t i e: ...", no headline at all).
    """
    parts: list[tuple[int, int, Part]] = []
    for position, line in enumerate(article.lead):
        if position == 0 and not (is_notice(line.text) and len(article.lead) == 1):
            headline, marker = split_version(line.text)
            parts.append((line.index, 0, Part("headline", headline, number)))
            if marker:
                parts.append((line.index, 1, Part("version", marker, number)))
        else:
            parts.append((line.index, 0, Part("preamble", line.text, number)))
    return parts


def _body_parts(article: _Open, number: int) -> list[tuple[int, int, Part]]:
    """The dateline, the text after its dash, and the paragraphs, subheads and trailer that follow."""
    parts: list[tuple[int, int, Part]] = []
    opening = article.dateline
    if opening is not None and opening.dateline is not None:
        cut = opening.dateline.end
        parts.append((opening.index, 0, Part("dateline", opening.text[:cut], number)))
        parts.append((opening.index, 1, Part("body", opening.text[cut:], number)))
    texts = [line.text for line in article.paragraphs]
    kinds = _paragraph_kinds(texts, first=opening is None)
    parts.extend(
        (line.index, 0, Part(kind, line.text, number))
        for line, kind in zip(article.paragraphs, kinds, strict=True)
    )
    return parts


def _paragraph_kinds(texts: list[str], *, first: bool) -> list[PartKind]:
    """Body, subhead or trailer for each line after the dateline's own paragraph."""
    kinds: list[PartKind] = ["body"] * len(texts)
    end = len(texts)
    while end > 0 and is_trailer(texts[end - 1]):
        end -= 1
        kinds[end] = "trailer"
    start = 1 if first else 0  # the article's first paragraph is never a subhead
    for position in range(start, end - 1):  # nor is its last
        if looks_like_subhead(texts[position]):
            kinds[position] = "subhead"
    return kinds
