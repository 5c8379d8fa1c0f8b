"""The dateline that opens a wire article: ``PLACE (AGENCY/AGENCY) - `` or, without agency, ``PLACE - ``.

A dateline is recognised only at the start of a line, and only when every part fits:
* the place is one to five words in capitals (accents allowed: ``MÜNCHEN``, ``SÃO PAULO``), with
  hyphens, dots, a slash between two places (``BRUSSEL/STRAATSBURG``) and the Dutch apostrophe forms ``'S-HERTOGENBOSCH`` / ``'T ZAND``; no digits
  (``COVID-19 (ANP) -`` is a phrase, not a place);
* the agencies, when present, are one to four known wire names or capitalised tokens separated by
  ``/`` (``ANP/AFP``, ``ANP/RTR/AFP/DPA``);
* the separator is a hyphen, en dash or em dash with space after it;
* the text after the dash reads as a sentence (it has lower-case letters), so a shouted headline in
  capitals is never mistaken for a place; without an agency the rest must be at least a few words.

Some sites put a clock time or a date before the place (``16:29 TERNEUZEN - ``, ``13 oktober
VLISSINGEN - ``): that stamp is read by ``abstimes``, kept apart (``stamp``, ``start``), and the place
is what follows it.

Matching is done with plain string scanning (no backtracking regex), so it is linear in the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.enrich.abstimes import Stamp, match_stamp

#: Wire agencies that may also be written capitalised ("Belga"); other agencies must be acronyms ("NTB").
KNOWN_AGENCIES = frozenset(
    {
        "ANP", "AFP", "RTR", "AP", "DPA", "BELGA", "AFN", "BLOOMBERG", "REUTERS", "EFE", "XINHUA",
        "NTB", "TT", "KNA", "APA", "SDA", "ANSA", "PAP", "CTK", "MTI", "TASS", "UPI", "KYODO",
        "YONHAP", "NOS", "NU", "DJ", "GPD", "NIEUWSDIENST",
    }
)  # fmt: skip
#: More agencies than this in one dateline is not something the wire writes.
MAX_AGENCIES = 4
#: Longest place name in words ("RIO DE JANEIRO", "SINT MAARTEN AAN ZEE").
MAX_PLACE_WORDS = 5
#: A dateline's prefix (place + agencies) is never longer than this; longer openings are prose.
MAX_PREFIX_CHARS = 64
#: Without an agency, the text after the dash must have at least this many words to be a body.
MIN_WORDS_WITHOUT_AGENCY = 4

DASHES = "-\u2013\u2014"  # hyphen-minus, en dash, em dash
# The first dash with a space (or the agencies' closing parenthesis) before it and a space after it.
_DASH = re.compile(f"[ )][{DASHES}] ")
_AGENCY_TOKEN = re.compile(r"[A-Z][A-Za-z]{1,11}")
_APOSTROPHES = "'\u2019"
_PLACE_PUNCT = "-./\u2010\u2011" + _APOSTROPHES  # "/" joins two places: "BRUSSEL/STRAATSBURG"


@dataclass(frozen=True)
class DatelineMatch:
    """A dateline found at the start of a line."""

    place: str  # as written, e.g. "DEN HAAG"
    agencies: tuple[str, ...]  # as written, in order
    dash: str  # the dash character used
    end: int  # index in the line where the body starts (after the dash and its spaces)
    start: int = 0  # index in the line where the place starts (after a stamp)
    stamp: Stamp | None = None  # "16:29", "13 oktober": the time written before the place


# A stamp starts with a digit, a weekday ("ma", "maandag", "vr 13 okt") or a named day ("gisteren 16:29"):
# the first two letters of one.
_WEEKDAY_STARTS = frozenset({"ma", "di", "wo", "do", "vr", "za", "zo", "va", "gi", "ee"})
# Between a stamp and the place: spaces, and on some sites a bar, a dot or a dash.
_STAMP_GAP = " |\u00b7\u2022,-\u2013"


def match_dateline(line: str) -> DatelineMatch | None:
    """The dateline opening ``line`` (no leading spaces expected), a stamp before it allowed, or None."""
    plain = _match_plain(line)
    if plain is not None or not line or not (line[0].isdigit() or line[:2].lower() in _WEEKDAY_STARTS):
        return plain
    stamp = match_stamp(line)
    if stamp is None:
        return None
    start = len(stamp.text)
    if start >= len(line) or line[start] not in _STAMP_GAP:
        return None
    while start < len(line) and line[start] in _STAMP_GAP:
        start += 1
    rest = _match_plain(line[start:])
    if rest is None:
        return None
    return DatelineMatch(
        place=rest.place,
        agencies=rest.agencies,
        dash=rest.dash,
        end=start + rest.end,
        start=start,
        stamp=stamp,
    )


def _match_plain(line: str) -> DatelineMatch | None:
    if not line or not (line[0].isupper() or line[0] in _APOSTROPHES):
        return None
    found = _DASH.search(line, 0, MAX_PREFIX_CHARS + 8)
    if found is None:
        return None
    dash_at = found.start() + 1
    prefix = line[:dash_at].rstrip()
    if not prefix or len(prefix) > MAX_PREFIX_CHARS:
        return None
    agencies: tuple[str, ...] = ()
    place = prefix
    if prefix.endswith(")"):
        opening = prefix.rfind("(")
        if opening <= 0:
            return None
        parsed = _parse_agencies(prefix[opening + 1 : -1])
        if parsed is None:
            return None
        agencies = parsed
        place = prefix[:opening].rstrip()
    if not _is_place(place):
        return None
    body_start = dash_at + 1
    while body_start < len(line) and line[body_start] == " ":
        body_start += 1
    rest = line[body_start:]
    if not _reads_as_body(rest, with_agency=bool(agencies)):
        return None
    return DatelineMatch(place=place, agencies=agencies, dash=line[dash_at], end=body_start)


def _parse_agencies(inner: str) -> tuple[str, ...] | None:
    tokens = [token.strip() for token in inner.split("/")]
    if not 1 <= len(tokens) <= MAX_AGENCIES:
        return None
    for token in tokens:
        if not _AGENCY_TOKEN.fullmatch(token):
            return None
        capitalised = token[1:].islower()
        # Known agencies in capitals or capitalised ("Belga"); an unknown one only as an acronym ("NTB").
        if not (token.isupper() or (capitalised and token.upper() in KNOWN_AGENCIES)):
            return None
    return tuple(tokens)


def _is_place(place: str) -> bool:
    words = place.split(" ")
    if not 1 <= len(words) <= MAX_PLACE_WORDS:
        return False
    letters = 0
    for position, word in enumerate(words):
        if not word:
            return False
        # A leading apostrophe only in the Dutch article forms: 'S-HERTOGENBOSCH, 'S GRAVENHAGE, 'T HARDE.
        if word[0] in _APOSTROPHES and (
            position != 0 or word[1:2] not in ("S", "T") or (len(word) > 2 and word[2] != "-")
        ):
            return False
        for char in word:
            if char.isalpha():
                if not char.isupper():
                    return False
                letters += 1
            elif char not in _PLACE_PUNCT:
                return False
        if not any(char.isalpha() for char in word):
            return False
    return letters >= 2


def _reads_as_body(rest: str, *, with_agency: bool) -> bool:
    if not any(char.islower() for char in rest):
        return False
    if with_agency:
        return True
    return len(rest.split()) >= MIN_WORDS_WITHOUT_AGENCY
