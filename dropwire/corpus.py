"""A deterministic generator of realistic wire pages, for benchmarks and the chaos run.

Pages follow the layouts the parser reads: a headline, a ``PLACE (AGENCY/AGENCY) -`` dateline, a few
paragraphs (sometimes a subhead), then "Meer uit <Section>" and briefs whose relative time runs
straight into the next brief's dateline, the last time at the end. The vocabulary below was written
by the team for this purpose; the same seed always gives the same bytes.
Pages labelled with their stories, for the story evaluation, are ``dropwire.storycorpus``'s.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SECTIONS = ("Buitenland", "Binnenland", "Economie", "Sport", "Financieel")
AGENCIES = ("ANP", "AFP", "RTR", "AP", "DPA", "BLOOMBERG")
PLACES = (
    "AMSTERDAM",
    "ROTTERDAM",
    "DEN HAAG",
    "UTRECHT",
    "GRONINGEN",
    "EINDHOVEN",
    "'S-HERTOGENBOSCH",
    "BRUSSEL",
    "ANTWERPEN",
    "BERLIJN",
    "MÜNCHEN",
    "PARIJS",
    "LONDEN",
    "MADRID",
    "ROME",
    "WENEN",
    "WARSCHAU",
    "KYIV",
    "MOSKOU",
    "ISTANBUL",
    "BEIROET",
    "JERUZALEM",
    "KAIRO",
    "NEW YORK",
    "WASHINGTON",
    "TOKIO",
    "PEKING",
    "SEOUL",
    "NEW DELHI",
    "SYDNEY",
    "GENÈVE",
    "STRAATSBURG",
    "LISSABON",
    "ATHENE",
    "STOCKHOLM",
)
PEOPLE = (
    "Marieke de Vries",
    "Jan Bakker",
    "Sanne Visser",
    "Pieter Jansen",
    "Fatima El Amrani",
    "Lotte Smit",
    "Daan Mulder",
    "Ahmed Yilmaz",
    "Eva van Dijk",
    "Thomas Bos",
    "Ingrid Hoekstra",
    "Kees de Boer",
    "Olga Petrenko",
    "Mark Hendriks",
    "Julia Meijer",
    "Ruben Dekker",
    "Noor Vermeulen",
    "Bram Peters",
)
ROLES = (
    "minister",
    "burgemeester",
    "woordvoerder",
    "president",
    "premier",
    "directeur",
    "voorzitter",
    "hoogleraar",
    "topman",
    "ambassadeur",
)
ORGS = (
    "de Europese Commissie",
    "het ministerie van Financiën",
    "de Nederlandsche Bank",
    "de Verenigde Naties",
    "de NAVO",
    "Rijkswaterstaat",
    "de Tweede Kamer",
    "het Openbaar Ministerie",
    "de Wereldbank",
    "het Internationaal Monetair Fonds",
    "de gemeenteraad",
    "de vakbond FNV",
    "Shell",
    "Philips",
    "ASML",
)
ADJECTIVES = ("Nederlandse", "Belgische", "Duitse", "Franse", "Britse", "Amerikaanse", "Oekraïense", "Turkse")
SUBJECTS = (
    "een nieuw plan voor de woningmarkt",
    "de begroting voor volgend jaar",
    "een onderzoek naar de brand",
    "de gevolgen van de storm",
    "een akkoord over de grenscontroles",
    "de stijgende energieprijzen",
    "een reorganisatie met honderden banen",
    "de verkiezingsuitslag",
    "een wapenleverantie",
    "de staking in het openbaar vervoer",
    "een conflict over visrechten",
    "de opvang van asielzoekers",
)
VERBS = (
    "heeft bekendgemaakt",
    "maakte dinsdag bekend",
    "liet weten",
    "zei tegen verslaggevers",
    "schreef in een verklaring",
    "kondigde aan",
    "bevestigde",
)
TIMES = (
    "1 minuut geleden",
    "4 minuten geleden",
    "20 minuten geleden",
    "45 minuten geleden",
    "1 uur geleden",
    "2 uur geleden",
    "5 uur geleden",
    "gisteren",
    "2 dagen geleden",
    "1 week geleden",
)
SUBHEADS = ("Kritiek", "Onderzoek", "Reactie", "Gevolgen", "Eerder", "Achtergrond")


@dataclass(frozen=True)
class CorpusFile:
    name: str
    data: bytes
    articles: int  # articles the page holds (main + briefs)
    duplicate_of: str | None = None  # name of the earlier file with the same bytes


def _dateline(rng: random.Random) -> str:
    agencies = rng.sample(AGENCIES, k=rng.choice((1, 1, 1, 2, 2, 3)))
    if "ANP" not in agencies and rng.random() < 0.8:
        agencies[0] = "ANP"
    return f"{rng.choice(PLACES)} ({'/'.join(dict.fromkeys(agencies))}) - "


def _sentence(rng: random.Random) -> str:
    person = rng.choice(PEOPLE)
    shape = rng.randrange(5)
    if shape == 0:
        return (
            f"De {rng.choice(ADJECTIVES)} {rng.choice(ROLES)} {person} {rng.choice(VERBS)} dat het besluit over "
            f"{rng.choice(SUBJECTS)} wordt uitgesteld."
        )
    if shape == 1:
        return f"Volgens {rng.choice(ORGS)} is {rng.choice(SUBJECTS)} nog niet van de baan."
    if shape == 2:
        return f'"We nemen dit zeer serieus", zei {person} van {rng.choice(ORGS)}.'
    if shape == 3:
        place = rng.choice(PLACES[:10]).title().replace("'S-", "'s-")
        return f"In {place} gingen donderdag {rng.randint(2, 900)} mensen de straat op tegen {rng.choice(SUBJECTS)}."
    org = rng.choice(ORGS)
    return f"{org[0].upper()}{org[1:]} {rng.choice(VERBS)} dat er {rng.randint(2, 40)} miljoen euro nodig is."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def make_page(rng: random.Random, briefs: int, paragraphs: int) -> str:
    """One page: a main article and ``briefs`` brief items, in the seed layout (LF, no final newline)."""
    section = rng.choice(SECTIONS)
    lines = [f"{rng.choice(ADJECTIVES)} {rng.choice(ROLES)} wil {rng.choice(SUBJECTS)} snel regelen"]
    lines.append(_dateline(rng) + _paragraph(rng, rng.randint(2, 4)))
    for i in range(paragraphs - 1):
        if i == 1 and rng.random() < 0.4:
            lines.append(rng.choice(SUBHEADS))
        lines.append(_paragraph(rng, rng.randint(1, 4)))
    if briefs:
        lines.append(f"Meer uit {section}")
        times = sorted(rng.sample(range(len(TIMES)), k=min(briefs, len(TIMES))))
        times += [times[-1]] * (briefs - len(times))
        previous_time = ""
        for t in times:
            lines.append(previous_time + _dateline(rng) + _paragraph(rng, rng.randint(1, 3)))
            previous_time = TIMES[t]
        lines.append(previous_time)
    return "\n".join(lines)


def generate(count: int, *, seed: int = 1, duplicate_share: float = 0.05) -> Iterator[CorpusFile]:
    """``count`` files, 1–12 articles each, about ``duplicate_share`` of them repeats of earlier bytes."""
    rng = random.Random(seed)
    made: list[CorpusFile] = []
    for i in range(count):
        name = f"wire_{seed}_{i:06d}.txt"
        if made and rng.random() < duplicate_share:
            original = rng.choice(made)
            yield CorpusFile(name, original.data, original.articles, duplicate_of=original.name)
            continue
        briefs = rng.randint(0, 11)
        page = make_page(rng, briefs=briefs, paragraphs=rng.randint(1, 6))
        item = CorpusFile(name, page.encode("utf-8"), 1 + briefs)
        made.append(item)
        yield item


def write_corpus(
    directory: Path, count: int, *, seed: int = 1, duplicate_share: float = 0.05
) -> list[CorpusFile]:
    """Write the corpus into ``directory`` (atomically per file: write ``.part``, then rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = list(generate(count, seed=seed, duplicate_share=duplicate_share))
    for f in files:
        part = directory / f".{f.name}.part"
        part.write_bytes(f.data)
        part.rename(directory / f.name)
    return files
