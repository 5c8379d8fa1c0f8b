"""Labelled wire pages for the story evaluation: every article knows the wire item it is and which version.

A pool of wire items grows as pages are made. Each page's main article is a new item or an item seen
before (again as it was, or as a new version); its briefs are mostly items seen before (the sidebar
every page of a site shares), some new (a brief seen before its full article). A brief is the lead of
its item's current version, or a cut of it. Versions are a headline marker "(2)" with a correction
preamble ("N i e u w bericht, vervangt: <oude kop>"), sometimes a rewritten lead under a new
headline, or a light edit with no marker at all. Pages are rendered with small differences that do
not change the item: curly or straight quotes, double spaces, cp1252 and CRLF. Some new items are
the same event told by another agency (same place and subject, other text): different items. Some
items are a template filled in for one city (the weather), and some of those have a twin: the same
template for another city with another figure, from the same desk: different items too.

The vocabulary is ``dropwire.corpus``'s, with the additions below; the same seed gives the same bytes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dropwire.corpus import (
    ADJECTIVES,
    AGENCIES,
    ORGS,
    PEOPLE,
    PLACES,
    ROLES,
    SECTIONS,
    SUBJECTS,
    TIMES,
    _paragraph,
    _sentence,
)

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober")
DETAILS = (
    "na een lange vergadering",
    "zonder overleg met de buurlanden",
    "tegen het advies van de Raad van State in",
    "tot opluchting van de ondernemers",
    "na een uitspraak van de rechter",
    "in een toespraak voor het parlement",
    "na een nacht van overleg",
    "tot verrassing van de oppositie",
    "ondanks felle kritiek uit de sector",
    "op verzoek van de gemeenteraad",
    "na maanden van onderhandelingen",
    "in een brief aan de Tweede Kamer",
    "tijdens een bezoek aan de regio",
    "onder druk van de vakbonden",
)


CROWDS = ("mensen", "boeren", "studenten", "leraren", "zorgmedewerkers", "bewoners")
CASES = ("gevallen", "meldingen", "klachten", "aanvragen")
QUOTES = (
    "Dit kan zo niet langer",
    "We zijn hier niet blij mee",
    "Het is tijd voor duidelijkheid",
    "Niemand zag dit aankomen",
    "We gaan dit grondig bekijken",
    "De rek is eruit",
)
HEADLINE_VERBS = ("wil", "kritisch over", "steunt", "waarschuwt voor", "onderzoekt", "schrapt")


@dataclass(frozen=True)
class StoryLabel:
    """The truth about one article of a labelled page."""

    item: int  # the wire item: articles with the same item are the same story
    version: int  # the item's version, from 1


@dataclass(frozen=True)
class LabelledFile:
    name: str
    data: bytes
    labels: tuple[StoryLabel, ...]  # one per article, in page order


@dataclass
class _Version:
    headline: str
    preamble: str | None
    paragraphs: list[str]


@dataclass
class _Item:
    id: int
    place: str
    agencies: str
    subject: str
    person: str
    versions: list[_Version]
    shape: int = 0  # of the first sentence (see _lead)
    template_day: str | None = None  # a template item (see _template_item): the day it is for
    template_figure: int | None = None  # and its temperature
    template_pressure: int | None = None  # and its air pressure (one per template family: see below)
    headline_shown: bool = False  # whether the current version was on a page as a main (with its headline)


def _lead(rng: random.Random, item: _Item, avoid: int | None = None) -> tuple[str, int]:
    """An item's first paragraph, and the shape of its first sentence: the details that make it this
    item (who, what, when, how many). A same-event item of another agency uses another shape."""
    city = item.place.title().replace("'S-", "'s-")
    day = f"{rng.choice(WEEKDAYS)} {rng.randint(1, 28)} {rng.choice(MONTHS)}"
    n, detail = rng.randint(3, 9800), rng.choice(DETAILS)
    who = f"{rng.choice(ROLES)} {item.person}"
    org = rng.choice(ORGS)
    shape = rng.choice([s for s in range(4) if s != avoid])
    if shape == 0:
        first = f"De {rng.choice(ADJECTIVES)} {who} heeft {day} {detail} {n} miljoen euro vrijgemaakt voor {item.subject}."
    elif shape == 1:
        first = f"In {city} zijn {day} {n} {rng.choice(CROWDS)} de straat op gegaan tegen {item.subject}, {detail}."
    elif shape == 2:
        first = f"{org[0].upper()}{org[1:]} wil {detail} een onderzoek van {n} dagen naar {item.subject}, zei {who} {day}."
    else:
        first = f'"{rng.choice(QUOTES)}", zei {who} {day} over {item.subject}; het gaat om {n} {rng.choice(CASES)}.'
    return f"{first} {_sentence(rng)}", shape


def _new_item(rng: random.Random, ident: int, sibling: _Item | None) -> _Item:
    if sibling is not None:  # the same event told by another agency: same place and subject, other text
        place, subject, person = sibling.place, sibling.subject, sibling.person
        agencies = rng.choice([a for a in AGENCIES if a not in sibling.agencies])
    else:
        place, subject, person = rng.choice(PLACES), rng.choice(SUBJECTS), rng.choice(PEOPLE)
        agencies = "/".join(dict.fromkeys(["ANP", *rng.sample(AGENCIES, k=rng.choice((0, 0, 1, 2)))]))
    headline = f"{rng.choice(ADJECTIVES)} {rng.choice(ROLES)} {rng.choice(HEADLINE_VERBS)} {subject}"
    item = _Item(ident, place, agencies, subject, person, [])
    lead, item.shape = _lead(rng, item, sibling.shape if sibling else None)
    paragraphs = [lead] + [_paragraph(rng, rng.randint(1, 3)) for _ in range(rng.randint(0, 4))]
    item.versions.append(_Version(headline, None, paragraphs))
    return item


# New items that are a template filled in for a city, and the share of those that twin an earlier one.
TEMPLATE_SHARE = 0.05
TWIN_SHARE = 0.6


def _template_item(rng: random.Random, ident: int, twin: _Item | None, earlier: list[_Item]) -> _Item:
    """The weather for one city, from the desk in De Bilt; a twin is the same template for another city
    and another temperature on the same day (one item per city, never one story). The same city's
    weather of another day differs in its date and its temperature (two figures: another item); other
    families differ in their air pressure and their city (a figure and a name: another item)."""
    day = twin.template_day if twin is not None else None
    number = int(day.split()[1]) if day else None

    def figures(city: str) -> set[int]:  # the day numbers and temperatures of a city's earlier weather
        return {n for i in earlier if i.subject == city and i.template_day for n in _template_numbers(i)}

    cities = [p for p in PLACES if twin is None or p != twin.subject]
    if number is not None:  # a city whose earlier weather has no figure in common with this day's
        cities = [p for p in cities if number not in figures(p)] or cities
    city = rng.choice(cities)
    taken = figures(city)
    if day is None:
        number = rng.choice([n for n in range(1, 29) if n not in taken] or [28])
        day = f"{rng.choice(WEEKDAYS)} {number} {rng.choice(MONTHS)}"
    family = [i for i in earlier if twin is not None and i.template_pressure == twin.template_pressure]
    taken |= {i.template_figure for i in family if i.template_figure is not None} | {number or 0}
    degrees = rng.choice([n for n in range(1, 40) if n not in taken] or [40])
    if twin is not None and twin.template_pressure is not None:
        pressure = twin.template_pressure  # a twin differs in its place and one figure only
    else:  # another family's weather differs from every other family's in this figure at least
        used = {i.template_pressure for i in earlier}
        pressure = rng.choice([n for n in range(900, 1101) if n not in used] or [1100])
    name = city.title().replace("'S-", "'s-")
    lead = (
        f"Het KNMI verwacht voor {name} op {day} een maximumtemperatuur van {degrees} graden bij een "
        f"luchtdruk van {pressure} hectopascal, met in de middag kans op een enkele bui. De wind is zwak "
        "tot matig uit het zuidwesten."
    )
    item = _Item(ident, "DE BILT", "ANP", city, "", [_Version(f"Het weer in {name} op {day}", None, [lead])])
    item.template_day, item.template_figure, item.template_pressure = day, degrees, pressure
    return item


def _template_numbers(item: _Item) -> set[int]:
    return {int(str(item.template_day).split()[1]), item.template_figure or 0}


def _fresh_item(rng: random.Random, items: list[_Item], sibling_share: float) -> _Item:
    """A new item: now and then a template item (or its twin), else a new item, sometimes the same event
    as an earlier one told by another agency."""
    if rng.random() < TEMPLATE_SHARE:
        twins = [i for i in items[-40:] if i.template_day]
        twin = rng.choice(twins) if twins and rng.random() < TWIN_SHARE else None
        return _template_item(rng, len(items), twin, items)
    sibling = rng.choice(items) if items and rng.random() < sibling_share else None
    return _new_item(rng, len(items), sibling)


def _next_version(rng: random.Random, item: _Item) -> tuple[_Version, bool]:
    """A new version of ``item``, and whether it is marked as one (headline marker and preamble)."""
    old = item.versions[-1]
    paragraphs = list(old.paragraphs)
    kind = rng.random()
    if kind < 0.45:  # a light edit, unmarked: one sentence more, or a number corrected
        if rng.random() < 0.5:
            paragraphs[-1] = f"{paragraphs[-1]} {_sentence(rng)}"
        else:
            paragraphs[0] = re.sub(
                r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), paragraphs[0], count=1
            )
        return _Version(old.headline, None, paragraphs), False
    base = re.sub(r" \(\d+\)$", "", old.headline)
    number = len(item.versions) + 1
    if kind < 0.85 or not item.headline_shown:  # marked: headline "(n)", an update paragraph added
        paragraphs.append(_paragraph(rng, rng.randint(1, 2)))
        return _Version(f"{base} ({number})", None, paragraphs), True
    # marked with a correction preamble naming the old headline; new headline, rewritten lead
    headline = (
        f"{rng.choice(ADJECTIVES)} {rng.choice(ROLES)} kondigt {item.subject} aan in {item.place.title()}"
    )
    preamble = f"N i e u w bericht, vervangt: {old.headline}"
    paragraphs[0] = _lead(rng, item)[0]
    return _Version(f"{headline} ({number})", preamble, paragraphs), True


def _brief_text(rng: random.Random, version: _Version) -> str:
    """The brief of a version: its first paragraph, or a cut of it at a sentence end."""
    lead = version.paragraphs[0]
    sentences = re.split(r"(?<=[.!?\"])\s+(?=[A-Z\"'])", lead)
    if len(sentences) > 1 and rng.random() < 0.3:
        cut = sentences[0]
        if len(cut.split()) >= 12:
            return cut
    return lead


def _surface(rng: random.Random, text: str, curly: bool, spaced: bool) -> str:
    """The same text as another page renders it: quote style and spacing only."""
    if curly:
        text = re.sub(r'"([^"]*)"', "“\\1”", text)
    if spaced:
        text = text.replace(". ", ".  ")
    return text


def generate_stories(count: int, *, seed: int = 1) -> Iterator[LabelledFile]:
    """``count`` labelled pages (see above); the same seed always gives the same bytes and labels."""
    rng = random.Random(seed)
    items: list[_Item] = []
    shown: dict[int, int] = {}  # item → versions published so far on a page
    for page_no in range(count):
        curly, spaced = rng.random() < 0.3, rng.random() < 0.2
        section = rng.choice(SECTIONS)
        # The main article: a new item, an item seen before (as it was), or its next version.
        roll = rng.random()
        if not items or roll < 0.5:
            main = _fresh_item(rng, items, 0.2)
            items.append(main)
        else:
            main = rng.choice(items[-40:])
            if roll > 0.78:
                version, _ = _next_version(rng, main)
                main.versions.append(version)
                main.headline_shown = False
        main.headline_shown = True
        v_main = len(main.versions)
        shown[main.id] = v_main
        version = main.versions[-1]
        lines = [version.headline]
        if version.preamble:
            lines.append(version.preamble)
        paragraphs = [_surface(rng, p, curly, spaced) for p in version.paragraphs]
        lines.append(f"{main.place} ({main.agencies}) - {paragraphs[0]}")
        lines.extend(paragraphs[1:])
        labels = [StoryLabel(main.id, v_main)]
        # Briefs: the sidebar is mostly items already out; some are new (their full text comes later).
        briefs: list[_Item] = []
        for _ in range(rng.randint(0, 8)):
            if rng.random() < 0.25 or len(items) < 3:
                brief = _fresh_item(rng, items, 0.2)
                items.append(brief)
            else:
                brief = rng.choice(items[-25:])
            if brief is not main and brief not in briefs:
                briefs.append(brief)
        if briefs:
            lines.append(f"Meer uit {section}")
            previous_time = ""
            times = sorted(rng.sample(range(len(TIMES)), k=min(len(briefs), len(TIMES))))
            for brief, t in zip(briefs, times, strict=False):
                v = shown.get(brief.id, 1)
                shown[brief.id] = v
                text = _surface(rng, _brief_text(rng, brief.versions[v - 1]), curly, spaced)
                lines.append(f"{previous_time}{brief.place} ({brief.agencies}) - {text}")
                previous_time = TIMES[t]
                labels.append(StoryLabel(brief.id, v))
            lines.append(previous_time)
        text = "\n".join(lines)
        windows = rng.random() < 0.2  # an older system's page: cp1252 with CRLF
        data = text.replace("\n", "\r\n").encode("cp1252") if windows else text.encode("utf-8")
        yield LabelledFile(f"story_{seed}_{page_no:05d}.txt", data, tuple(labels))
