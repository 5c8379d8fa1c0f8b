"""The façade of the enrich core: decoded page text → ``ParsedPage`` of contract ``Article`` records.

Pure: no Celery, no database, no clock (the caller says when the file was received). The enrich worker
and ``dropwire parse`` both call ``parse_page``; entities are left empty for the NER step to fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.enrich.abstimes import resolve_stamp
from services.enrich.gazetteer import Gazetteer, load_gazetteer
from services.enrich.reltime import resolve
from services.enrich.splitter import ArticleDraft, Part, split_page
from shared.messages import MAX_WARNING_CHARS, Article, Dateline, ParseWarning, Place

#: Bumped whenever a change to splitting or dateline rules can change a stored result.
PARSER_VERSION = "1.1.0"


@dataclass(frozen=True)
class ParsedPage:
    """One page's articles in page order, plus the page's own lines and the full part list."""

    section: str | None  # from "Meer uit <Section>", e.g. "Buitenland"
    articles: tuple[Article, ...]
    page_lines: tuple[str, ...]  # lines that belong to no article, e.g. "Meer uit Buitenland"
    parts: tuple[Part, ...]  # every non-blank piece of the input once, in order: (kind, text, article)
    warnings: tuple[ParseWarning, ...] = ()  # what could not be placed with confidence, in page order
    truncated: bool = False  # the copy stops inside its last article


def parse_page(text: str, *, received_at: datetime, gazetteer: Gazetteer | None = None) -> ParsedPage:
    """Split ``text`` (``\\n`` line endings) into articles; resolve times against ``received_at``."""
    split = split_page(text)
    places = gazetteer if gazetteer is not None else load_gazetteer()
    articles = tuple(
        _article(seq, draft, split.section, received_at, places) for seq, draft in enumerate(split.articles)
    )
    warnings = tuple(
        ParseWarning(kind=w.kind, text=w.text[:MAX_WARNING_CHARS], article=w.article) for w in split.warnings
    )
    return ParsedPage(
        section=split.section,
        articles=articles,
        page_lines=split.page_lines,
        parts=split.parts,
        warnings=warnings,
        truncated=split.truncated,
    )


def _article(
    seq: int, draft: ArticleDraft, section: str | None, received_at: datetime, places: Gazetteer
) -> Article:
    dateline = None
    if draft.dateline is not None:
        dateline = Dateline(
            place=draft.dateline.place,
            agencies=draft.dateline.agencies,
            resolved=_resolve_place(draft.dateline.place, draft.body, places),
            stamp=draft.dateline.stamp.text if draft.dateline.stamp is not None else None,
        )
    published, updated = _times(draft, received_at)
    return Article(
        seq=seq,
        role=draft.role,
        section=section,
        headline=draft.headline,
        headline_version=draft.version,
        preamble=draft.preamble,
        dateline=dateline,
        relative_time=draft.time.text if draft.time is not None else None,
        published_at=published,
        updated_at=updated,
        byline=draft.byline,
        body=draft.body,
        subheads=draft.subheads,
        trailer=draft.trailer,
        truncated=draft.truncated,
    )


def _times(draft: ArticleDraft, received_at: datetime) -> tuple[datetime | None, datetime | None]:
    """(published, updated): an absolute time the page gives wins over a relative one.

    The byline's or date line's stamp first, then a stamp before the dateline's place, then the
    relative time; each resolved against ``received_at`` (Europe/Amsterdam wall clock → UTC).
    """
    stamps = draft.stamps
    published_stamp = stamps.published if stamps is not None else None
    if published_stamp is None and draft.dateline is not None:
        published_stamp = draft.dateline.stamp
    published = None
    if published_stamp is not None:
        published = resolve_stamp(published_stamp, received_at)
    elif draft.time is not None:
        published = resolve(draft.time, received_at)
    updated = None
    if stamps is not None and stamps.updated is not None:
        updated = resolve_stamp(stamps.updated, received_at, on=published_stamp)
    return published, updated


def _resolve_place(place: str, body: str, places: Gazetteer) -> Place | None:
    """A dateline names a city; the article may say which one ("MOSKOU ... Moskou (VS)").

    Of two places joined by a slash ("BRUSSEL/STRAATSBURG") the first known one is taken.
    """
    for name in (place, *place.split("/")) if "/" in place else (place,):
        found = places.lookup(name, prefer="city", context=body)
        if found is not None:
            return found
    return None
