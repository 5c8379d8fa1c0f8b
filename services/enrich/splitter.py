# Over 400 lines on purpose: one pass over the page (_Splitter) and the assembly of its parts share the private _Open draft; the page grammar stays in one file.
"""A wire page → its articles, as an editor reads it; every non-blank piece of text lands in one part.

The page layout (see docs/explanation/parsing.md for examples):

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
Pages saved from other sites add: a clock time or date before the place ("16:29 TERNEUZEN - "), a
byline or date line ("Door ANP - 5-1-2017, 17:26", "Maandag 27 maart 2017 08:19"), and site furniture
(menus, cookie lines, the headline printed twice, a "Net binnen" list).

Rules (how each line reads on its own is ``lines``' job): a dateline line opens an article (one
without agency only where an article can start, not inside a running body); the lines before it since
the last article closed are its headline and preamble; a headline-like line right above a dateline
ends the running article; a relative time closes the article it follows (the main article's time is
therefore null when the briefs' list follows it directly); "Meer uit <Section>" closes the main article
and names the section. Text with no dateline at all is one undated article. Of the lines waiting
above a dateline, the headline is the one nearest to it that reads as a headline; notices and text
below it are preamble, a byline is the byline, a repeat of the headline and anything above it are page
lines. Furniture lines are page lines wherever they stand.

What the splitter could not place with confidence it reports as ``warnings``: text above a headline
that is no known furniture, a headline that looks like furniture, an article without a dateline, a
copy that stops inside its last item (``truncated``: that item is kept).

The result lists ``parts`` — (kind, text, article) in input order — so a test can prove that no text
is lost or duplicated: joined, the parts equal the input's non-blank text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from services.enrich.abstimes import Byline
from services.enrich.datelines import DatelineMatch
from services.enrich.furniture import looks_like_furniture
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
from shared.messages import WARNING_KINDS, WarningKind

PartKind = Literal[
    "headline", "version", "preamble", "byline", "stamp", "dateline", "body", "subhead", "trailer", "time",
    "page",
]  # fmt: skip
#: A byline this many lines into a page without any dateline still ends that page's lead.
MAX_LEAD_LINES = 4


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
    byline: str | None = None  # the byline or date line as written
    stamps: Byline | None = None  # what the byline says (who, published, updated)
    truncated: bool = False  # the copy stops inside this article


@dataclass(frozen=True)
class SplitWarning:
    """A piece of the page the splitter could not place with confidence."""

    kind: WarningKind
    text: str  # the line concerned, as written
    article: int | None  # the article it concerns, or None for the page
    at: int = field(default=0, compare=False)  # the line's position among the page's lines (for order)


@dataclass(frozen=True)
class SplitPage:
    section: str | None
    articles: tuple[ArticleDraft, ...]
    page_lines: tuple[str, ...]
    parts: tuple[Part, ...]
    warnings: tuple[SplitWarning, ...] = ()
    truncated: bool = False


@dataclass
class _Open:
    """An article being assembled."""

    role: Literal["main", "brief"]
    lead: list[Line]  # headline and preamble lines
    dateline: Line | None = None
    paragraphs: list[Line] = field(default_factory=list)
    time: Line | None = None
    stamped: bool = False  # closed by a date or clock line of its own ("16:29"), as a time closes one
    truncated: bool = False


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
        self.warnings: list[SplitWarning] = []
        self.cut_before_list = False

    def run(self) -> SplitPage:
        for position, line in enumerate(self.lines):
            if line.kind == "section":
                self._close_with_pending()
                if self.section is None:
                    self.section = section_name(line.text)
                self.in_briefs = True
                self.page.append(line)
            elif line.kind == "furniture":
                self.page.append(line)
            elif line.kind == "byline" and self._closes_with_stamp(line):
                assert self.current is not None
                self.current.paragraphs.append(line)
                self.current.stamped = True
                self._close()
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
            if not self.closed:
                self.closed.append(_Open(role=self._role(), lead=[], paragraphs=self.pending))
            elif self._in_brief_list():
                # The copy stops inside the next item ("3 uur geledenDEN HA"): keep what there is.
                self.closed.append(_Open(role="brief", lead=[], paragraphs=self.pending, truncated=True))
            else:
                self._unplaced(self.pending)  # trailing lines that belong to no article
                self.page.extend(self.pending)
            self.pending = []
        last = self.closed[-1] if self.closed else None
        if last is not None and last.role == "brief" and not _timed(last) and self._in_brief_list():
            last.truncated = True  # every brief of a list ends with its time; this one has none
        elif self.in_briefs and not any(a.role == "brief" for a in self.closed):
            # "Meer uit Binnenland" and then nothing: the copy stops before the list's first item.
            section = next(line for line in self.page if line.kind == "section")
            self.warnings.append(SplitWarning("truncated", section.text, None, section.index))
            self.cut_before_list = True
        return self._result()

    def _in_brief_list(self) -> bool:
        """The page lists briefs that each end with their time ("Meer uit", or an older-layout list)."""
        return self.in_briefs or any(a.role == "brief" and _timed(a) for a in self.closed)

    def _closes_with_stamp(self, line: Line) -> bool:
        """A date or clock line of its own after a running body ends that article, as a time would."""
        stamp = line.byline
        current = self.current
        return (
            stamp is not None and stamp.who is None and current is not None and current.dateline is not None
        )

    def _unplaced(self, lines: list[Line]) -> None:
        self.warnings.extend(SplitWarning("unplaced", line.text, None, line.index) for line in lines)

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
            self._unplaced([line])
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
        if opening is None or opening.agencies or opening.stamp is not None:
            return None  # an agency or a time before the place: a dateline wherever it stands
        if self.current is None or self.current.dateline is None:
            return None
        return self.current.paragraphs

    def _starts_next_article(self, position: int) -> bool:
        """A headline-like line followed (after notices, a byline, furniture) by a dateline opens an article."""
        if not looks_like_headline(self.lines[position].text):
            return False
        for later in self.lines[position + 1 : position + 2 + MAX_LEAD_LINES]:
            if later.kind == "dateline":
                return True
            if later.kind in ("byline", "furniture"):
                continue
            if later.kind != "text" or not is_notice(later.text):
                return False
        return False

    def _result(self) -> SplitPage:
        parts: list[tuple[int, int, Part]] = [
            (seg.index, 0, Part("page", seg.text, None)) for seg in self.page
        ]
        articles: list[ArticleDraft] = []
        for number, article in enumerate(self.closed):
            draft, article_parts = _assemble(article, number, self.warnings)
            articles.append(draft)
            parts.extend(article_parts)
        parts.sort(key=lambda item: (item[0], item[1]))
        ordered = tuple(part for _, _, part in parts)
        return SplitPage(
            section=self.section,
            articles=tuple(articles),
            page_lines=tuple(part.text for part in ordered if part.article is None),
            parts=ordered,
            warnings=tuple(sorted(self.warnings, key=lambda w: (w.at, WARNING_KINDS.index(w.kind)))),
            truncated=self.cut_before_list or any(draft.truncated for draft in articles),
        )


def _timed(article: _Open) -> bool:
    return article.time is not None or article.stamped


def _assemble(
    article: _Open, number: int, warnings: list[SplitWarning]
) -> tuple[ArticleDraft, list[tuple[int, int, Part]]]:
    """The article's parts, keyed by (line index, order within the line), and the draft read from them."""
    if article.dateline is None and not article.lead:
        _lead_of_undated(article)
    parts = _lead_parts(article, number, warnings) + _body_parts(article, number)
    if article.time is not None:
        parts.append((article.time.index, 0, Part("time", article.time.text, number)))

    def texts(*kinds: PartKind) -> list[str]:
        return [part.text for _, _, part in parts if part.kind in kinds]

    headline, marker = texts("headline"), texts("version")
    bylines = [line.byline for line in (*article.lead, *article.paragraphs) if line.byline is not None]
    if headline and looks_like_furniture(headline[0], main=article.role == "main"):
        at = next(index for index, _, part in parts if part.kind == "headline")
        warnings.append(SplitWarning("headline_furniture", headline[0], number, at))
    if article.truncated:
        text, at = _edge(parts, last=True)
        warnings.append(SplitWarning("truncated", text, number, at))
    elif article.dateline is None:
        text, at = _edge(parts, last=False)
        warnings.append(SplitWarning("no_dateline", text, number, at))
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
        byline="\n".join(texts("byline")) or None,
        stamps=_merged(bylines),
        truncated=article.truncated,
    )
    return draft, parts


def _merged(bylines: list[Byline]) -> Byline | None:
    """One article's byline facts from its byline and date lines: the first author, date and update."""
    if not bylines:
        return None
    return Byline(
        who=next((b.who for b in bylines if b.who), None),
        published=next((b.published for b in bylines if b.published), None),
        updated=next((b.updated for b in bylines if b.updated), None),
    )


def _edge(parts: list[tuple[int, int, Part]], *, last: bool) -> tuple[str, int]:
    """The article's first (or last) piece of text and its line: what a warning about it quotes."""
    mine = sorted((index, order, part.text) for index, order, part in parts if part.article is not None)
    if not mine:
        return "", 0
    index, _, text = mine[-1 if last else 0]
    return text, index


def _lead_of_undated(article: _Open) -> None:
    """An article without dateline whose first lines hold a byline: the lines up to it are its lead."""
    for position, line in enumerate(article.paragraphs[:MAX_LEAD_LINES]):
        if line.kind == "byline":
            article.lead = article.paragraphs[: position + 1]
            article.paragraphs = article.paragraphs[position + 1 :]
            return


def _lead_parts(article: _Open, number: int, warnings: list[SplitWarning]) -> list[tuple[int, int, Part]]:
    """Headline (and its version marker), preamble and byline lines; what stands above them is the page's.

    The headline is the line printed twice, else the line nearest the dateline that reads as one, else
    the nearest plain text line;
    when all are notices, the first of several ("Herhaling: Ajax ontslaat trainer" above a notice),
    while a notice alone is a preamble ("C o r r e c t i e: ..."). A repeat of the headline is a page
    line; other text above the headline is a page line too, reported as unplaced.
    """
    lead = article.lead
    notices = [is_notice(line.text) for line in lead]
    plain = [i for i, line in enumerate(lead) if line.kind != "byline" and not notices[i]]
    headlike = [i for i in plain if looks_like_headline(lead[i].text)]
    seen = [_same(split_version(lead[i].text)[0]) for i in plain]
    twice = [i for i, key in zip(plain, seen, strict=True) if seen.count(key) > 1]
    # a line printed twice is the headline (the site's title and the article's); else the nearest one
    head: int | None = twice[-1] if twice else headlike[-1] if headlike else plain[-1] if plain else None
    if head is None and len(lead) > 1 and lead[0].kind != "byline":
        head = 0
    key = _same(split_version(lead[head].text)[0]) if head is not None else None
    parts: list[tuple[int, int, Part]] = []
    for position, line in enumerate(lead):
        if position == head:
            headline, marker = split_version(line.text)
            parts.append((line.index, 0, Part("headline", headline, number)))
            if marker:
                parts.append((line.index, 1, Part("version", marker, number)))
        elif line.kind == "byline":
            parts.append((line.index, 0, Part("byline", line.text, number)))
        elif key is not None and _same(split_version(line.text)[0]) == key:
            parts.append((line.index, 0, Part("page", line.text, None)))  # the headline printed twice
        elif notices[position] or (head is not None and position > head):
            parts.append((line.index, 0, Part("preamble", line.text, number)))
        else:
            parts.append((line.index, 0, Part("page", line.text, None)))
            warnings.append(SplitWarning("unplaced", line.text, None, line.index))
    return parts


def _same(text: str) -> str:
    return " ".join(text.split()).casefold()


def _body_parts(article: _Open, number: int) -> list[tuple[int, int, Part]]:
    """The dateline, the text after its dash, and the paragraphs, subheads and trailer that follow."""
    parts: list[tuple[int, int, Part]] = []
    opening = article.dateline
    if opening is not None and opening.dateline is not None:
        start, cut = opening.dateline.start, opening.dateline.end
        if start:
            parts.append((opening.index, 0, Part("stamp", opening.text[:start], number)))
        parts.append((opening.index, 1, Part("dateline", opening.text[start:cut], number)))
        parts.append((opening.index, 2, Part("body", opening.text[cut:], number)))
    texts = [line.text for line in article.paragraphs]
    kinds = _paragraph_kinds(texts, first=opening is None)
    kinds = [
        "byline" if line.kind == "byline" else kind
        for line, kind in zip(article.paragraphs, kinds, strict=True)
    ]
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
