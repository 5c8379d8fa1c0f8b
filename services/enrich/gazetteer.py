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
        self._memo: dict[tuple[str, str | None, str | None], Place | None] = {}

    def __len__(self) -> int:
        return len(self._places)

    def lookup(
        self,
        name: str,
        *,
        country: str | None = None,
        prefer: Literal["city", "country"] | None = None,
    ) -> Place | None:
        """The place ``name`` denotes, or None when the gazetteer does not know it."""
        key = (name, country, prefer)
        if key not in self._memo:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = self._resolve(name, country, prefer)
        return self._memo[key]

    def _resolve(self, name: str, country: str | None, prefer: str | None) -> Place | None:
        raw = self._index.get(normalise(name))
        if raw is None:
            return None
        candidates = [self._places[int(number)].split("\t") for number in raw.split(",")]
        chosen = candidates[0]
        if prefer is not None:
            wanted = "c" if prefer == "city" else "n"
            chosen = next((c for c in candidates if c[0] == wanted), chosen)
        if country is not None:
            chosen = next((c for c in candidates if c[2] == country.upper()), chosen)
        _, canonical, iso, lat, lon, _ = chosen
        return Place(
            name=canonical,
            country=iso or None,
            lat=float(lat) if lat else None,
            lon=float(lon) if lon else None,
        )


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
