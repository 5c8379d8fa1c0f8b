"""Place names → ``Place`` (canonical name, ISO country, coordinates), Dutch exonyms included.

The data is ``data/gazetteer.tsv.gz``, generated at build time by ``scripts/build_gazetteer.py`` from
GeoNames (CC BY 4.0) and CLDR country names; nothing is downloaded or imported from those packages at
run time. Names are matched after ``normalise``: case, accents, apostrophe and hyphen variants do
not matter, so "DEN HAAG", "Den Haag" and "den-haag" are one key, and "MÜNCHEN" finds Munich.

An ambiguous name resolves to the most populous place, unless the caller says which country the
context points at (``country="US"``) or whether a city or a country is meant (``prefer``).

Loading builds one dict of raw strings; places are parsed only when looked up, which keeps
``load_gazetteer()`` fast and the memory small. It is cached: the file is read once per process.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Literal

from shared.messages import Place

DATA_FILE = "gazetteer.tsv.gz"
#: First word of the file's header line, with the format version the loader understands.
FORMAT = "dropwire-gazetteer 1"
#: Comment lines (origin, licence) before the header.
_COMMENT_LINES = 2
#: Looked-up names remembered: datelines repeat a few hundred places; cleared wholesale when full.
MEMO_SIZE = 10_000

_PUNCTUATION = re.compile(r"[^\w' ]+")
_DASHES = str.maketrans({"-": " ", "\u2010": " ", "\u2011": " ", "\u2013": " ", "\u2014": " ", "\u2019": "'"})


def normalise(name: str) -> str:
    """The lookup key of a name: accents off, case folded, hyphens as spaces, one space between words."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_DASHES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


class Gazetteer:
    """Read-only name index over the shipped place list."""

    def __init__(self, places: list[str], index: dict[str, str]) -> None:
        self._places = places  # raw "kind\tname\tcountry\tlat\tlon\tpopulation" lines
        self._index = index  # key → "id,id,..." (most populous first)
        self._memo: dict[str, list[Place]] = {}
        self._country_keys: dict[str, list[str]] | None = None  # ISO → its names, built on first use

    def __len__(self) -> int:
        return len(self._places)

    def lookup(
        self,
        name: str,
        *,
        country: str | None = None,
        prefer: Literal["city", "country"] | None = None,
        context: str | None = None,
    ) -> Place | None:
        """The place ``name`` denotes, or None when the gazetteer does not know it.

        Among places of the same name the most populous wins, unless ``country`` (ISO code) names
        another's country, or ``context`` (e.g. the article's text) names the country of a less
        populous one right after the name ("Moskou (Verenigde Staten)"). ``prefer`` picks a city or a
        country when the name is both ("Luxemburg").
        """
        candidates = self.candidates(name)
        if prefer is not None:
            wanted = prefer == "country"  # countries are the places without coordinates
            candidates = [c for c in candidates if (c.lat is None) == wanted] or candidates
        if not candidates:
            return None
        if country is None and context is not None and len({c.country for c in candidates}) > 1:
            others = [c.country for c in candidates[1:] if c.country and c.country != candidates[0].country]
            country = self._country_beside(name, context, others)
        if country is not None:
            return next((c for c in candidates if c.country == country.upper()), candidates[0])
        return candidates[0]

    def candidates(self, name: str) -> list[Place]:
        """Every place known by ``name``, most populous first (at most a few)."""
        key = normalise(name)
        if key not in self._memo:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            raw = self._index.get(key)
            self._memo[key] = [] if raw is None else [self._place(int(n)) for n in raw.split(",")]
        return self._memo[key]

    def _place(self, number: int) -> Place:
        _, canonical, iso, lat, lon, _ = self._places[number].split("\t")
        return Place(
            name=canonical,
            country=iso or None,
            lat=float(lat) if lat else None,
            lon=float(lon) if lon else None,
        )

    def _country_beside(self, name: str, context: str, countries: list[str]) -> str | None:
        """The first of ``countries`` named right after ``name`` in ``context``: "Moskou (Verenigde Staten)".

        Only the few words after the place count; a country mentioned elsewhere in the article (a
        London story that quotes a Canadian minister) says nothing about which London is meant.
        """
        # Case-folded search (cheap) for the name; only the short stretch after each hit is normalised.
        text, key = context.casefold(), name.casefold()
        names = self._country_names()
        start = text.find(key)
        while start >= 0:
            stretch = normalise(text[start + len(key) : start + len(key) + 80])
            after = " " + " ".join(_PUNCTUATION.sub(" ", stretch).split()[:4]) + " "
            for iso in countries:
                if any(f" {country} " in after for country in names.get(iso, ())):
                    return iso
            start = text.find(key, start + 1)
        return None

    def _country_names(self) -> dict[str, list[str]]:
        if self._country_keys is None:
            country_ids = {
                str(number): line.split("\t", 3)[2]
                for number, line in enumerate(self._places)
                if line.startswith("n\t")
            }
            keys: dict[str, list[str]] = {}
            for key, ids in self._index.items():
                for number in ids.split(","):
                    if number in country_ids:
                        keys.setdefault(country_ids[number], []).append(key)
            self._country_keys = keys
        return self._country_keys


@cache
def load_gazetteer() -> Gazetteer:
    """The shipped gazetteer, read once per process."""
    blob = resources.files("services.enrich").joinpath("data", DATA_FILE).read_bytes()
    lines = gzip.decompress(blob).decode("utf-8").split("\n")
    header = lines[_COMMENT_LINES]
    if not header.startswith(FORMAT + " "):
        raise RuntimeError(
            f"{DATA_FILE}: unknown format {header[:40]!r}; rebuild with scripts/build_gazetteer.py"
        )
    n_places, n_names = (int(field) for field in header[len(FORMAT) + 1 :].split())
    start = _COMMENT_LINES + 1
    places = lines[start : start + n_places]
    names = lines[start + n_places : start + n_places + 2 * n_names]
    return Gazetteer(places, dict(zip(names[0::2], names[1::2], strict=True)))
