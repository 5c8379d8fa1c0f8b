"""The façade of the enrich core: decoded page text → ``ParsedPage`` of contract ``Article`` records.

Pure: no Celery, no database, no clock (the caller says when the file was received). The enrich worker
and ``dropwire parse`` both call ``parse_page``; entities are left empty for the NER step to fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.enrich.gazetteer import Gazetteer, load_gazetteer
from services.enrich.reltime import RelativeTime, resolve
from services.enrich.splitter import ArticleDraft, Part, split_page
from shared.messages import Article, Dateline, Place

#: Bumped whenever a change to splitting or dateline rules can change a stored result.
PARSER_VERSION = "1.0.0"


@dataclass(frozen=True)
class ParsedPage:
    """One page's articles in page order, plus the page's own lines and the full part list."""

    section: str | None  # from "Meer uit <Section>", e.g. "Buitenland"
    articles: tuple[Article, ...]
    page_lines: tuple[str, ...]  # lines that belong to no article, e.g. "Meer uit Buitenland"
    parts: tuple[Part, ...]  # every non-blank piece of the input once, in order: (kind, text, article)


def parse_page(text: str, *, received_at: datetime, gazetteer: Gazetteer | None = None) -> ParsedPage:
    """Split ``text`` (``\\n`` line endings) into articles; resolve times against ``received_at``."""
    split = split_page(text)
    places = gazetteer if gazetteer is not None else load_gazetteer()
    articles = tuple(
        _article(seq, draft, split.section, received_at, places) for seq, draft in enumerate(split.articles)
    )
    return ParsedPage(
        section=split.section, articles=articles, page_lines=split.page_lines, parts=split.parts
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
        )
    return Article(
        seq=seq,
        role=draft.role,
        section=section,
        headline=draft.headline,
        headline_version=draft.version,
        preamble=draft.preamble,
        dateline=dateline,
        relative_time=draft.time.text if draft.time is not None else None,
        published_at=_published_at(draft.time, received_at),
        body=draft.body,
        subheads=draft.subheads,
        trailer=draft.trailer,
    )


def _published_at(time: RelativeTime | None, received_at: datetime) -> datetime | None:
    return resolve(time, received_at) if time is not None else None


def _resolve_place(place: str, body: str, places: Gazetteer) -> Place | None:
    """A dateline names a city; the article may say which one ("MOSKOU ... Moskou (VS)").

    Of two places joined by a slash ("BRUSSEL/STRAATSBURG") the first known one is taken.
    """
    for name in (place, *place.split("/")) if "/" in place else (place,):
        found = places.lookup(name, prefer="city", context=body)
        if found is not None:
            return found
    return None
