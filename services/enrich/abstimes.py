"""Absolute times as Dutch news pages write them → UTC instants.

Three places carry one:
* a stamp before a dateline's place: ``16:29 TERNEUZEN - ``, ``13 oktober VLISSINGEN - ``
  (``match_stamp`` at the start of the line);
* a byline: ``Door ANP - 5-1-2017, 17:26 (Update 5-1-2017, 18:02)``, ``Door Jan de Vries``,
  ``Van onze verslaggever``;
* a date line: ``Maandag 27 maart 2017 08:19``, ``Gisteren, 16:29``, ``Gepubliceerd: 27-03-2017 08:19 | Gewijzigd: 09:40``,
  or a clock time alone (``16:29``: an older crawl's brief time).

``read_byline`` reads the last two (a whole line). A stamp may leave out the year, the date or the
clock; ``resolve_stamp`` fills them in from the moment the file was received, as a reader of the page
would: the latest such moment not after it ("16:29" read at 10:00 is yesterday's 16:29; "13 oktober"
read in March is last year's). A date without a clock is midnight. Wall-clock times are Europe/Amsterdam
(the zone of the papers), returned in UTC; an update time without a date takes the published date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.enrich.reltime import WIRE_ZONE

_MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3, "april": 4,
    "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|ma|di|wo|do|vr|za|zo"
_NAMED_DAYS = {"vandaag": 0, "gisteren": 1, "eergisteren": 2}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))

# Bounded quantifiers only. Words are case-insensitive (scoped flag), digits are digits.
_STAMP = re.compile(
    rf"(?:(?i:{_WEEKDAYS})\.?,? )?"
    rf"(?:(?P<day>\d{{1,2}}) (?P<month>(?i:{_MONTH_NAMES}))\.?(?: (?P<year>\d{{4}}))?"
    r"|(?P<nday>\d{1,2})[-/.](?P<nmonth>\d{1,2})[-/.](?P<nyear>\d{4}|\d{2})(?!\d)"
    r"|(?P<named>(?i:vandaag|gisteren|eergisteren)))?"
    r"(?P<clock>(?:(?:,| [-|\u2013\u00b7])? )?(?i:om )?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?!\d)(?i: uur)?)?"
)
# A byline: "Door" and a name (capitalised words, Dutch particles), an agency or "onze verslaggever".
_BYLINE = re.compile(
    r"(?i:door|tekst|bron):? (?P<who>(?:[A-Z\u00c0-\u00dd][\w.'\u2019-]{0,30}"
    r"|de|van|der|den|ten|ter|het|'t|en|&|onze|eigen|redactie|verslaggever|correspondent)"
    r"(?: (?:[A-Z\u00c0-\u00dd][\w.'\u2019-]{0,30}|de|van|der|den|ten|ter|het|'t|en|&|onze|eigen"
    r"|redactie|verslaggever|verslaggevers|correspondent)){0,6})"
    # an optional role after a comma: "Door Jan de Vries, correspondent Brussel"
    r"(?:, (?:[a-zà-ÿ]+)(?: [\wÀ-ÿ-]+){0,3})?"
)
# "Van onze verslaggever", "Van onze correspondent Jan de Vries".
_OWN_REPORTER = re.compile(
    r"(?i:van onze (?:verslaggevers?|correspondent(?:en)?|redacteur(?:en)?|redactie))"
    r"(?: (?:[A-Z\u00c0-\u00dd][\w.'\u2019-]{0,30})(?: (?:[A-Z\u00c0-\u00dd][\w.'\u2019-]{0,30}|de|van|der|den|ter|ten)){0,5})?"
)
_PUBLISHED_LABEL = re.compile(r"(?i:gepubliceerd|geplaatst|publicatie|datum)(?i: op)?:? ")
_UPDATE_LABEL = re.compile(
    r"(?i:update|ge[uü]pdatet|bijgewerkt|laatst bijgewerkt|laatste update|gewijzigd|aangepast)(?i: op| om)?:? "
)
# The first two letters a byline or date line can open with: door, tekst, bron, a label, a weekday.
_OPENINGS = frozenset(
    {
        "do",
        "te",
        "br",
        "ge",
        "pu",
        "da",
        "up",
        "bi",
        "la",
        "aa",
        "ma",
        "di",
        "wo",
        "vr",
        "za",
        "zo",
        "va",
        "gi",
        "ee",
    }
)
_SEPARATORS = " ,|-\u2013\u2014\u00b7\u2022"


@dataclass(frozen=True)
class Stamp:
    """A date and/or clock time as written; missing parts are None."""

    text: str
    day: int | None
    month: int | None
    year: int | None
    hour: int | None
    minute: int | None
    days_back: int | None = None  # "vandaag 16:29" → 0, "gisteren 16:29" → 1


@dataclass(frozen=True)
class Byline:
    """A byline or date line: who (when written) and the published/updated stamps it gives."""

    who: str | None
    published: Stamp | None
    updated: Stamp | None


def match_stamp(text: str, pos: int = 0) -> Stamp | None:
    """A valid date and/or clock time that starts at ``text[pos]`` and ends at a word boundary."""
    found = _STAMP.match(text, pos)
    if found is None or found.end() == pos:
        return None
    end = found.end()
    if end < len(text) and (text[end].isalnum()):
        return None
    groups = found.groupdict()
    day, month, year = groups["day"], groups["month"], groups["year"]
    if groups["nday"] is not None:
        day, month, year = groups["nday"], groups["nmonth"], groups["nyear"]
        month_number: int | None = int(month)
    else:
        month_number = _MONTHS[month.lower()] if month is not None else None
    named = groups["named"]
    if (day is None or named is not None) and groups["hour"] is None:
        return None  # a weekday alone, or "gisteren" without a clock, is no stamp
    stamp = Stamp(
        text=found.group(0),
        day=int(day) if day is not None else None,
        month=month_number,
        year=_full_year(year),
        hour=int(groups["hour"]) if groups["hour"] is not None else None,
        minute=int(groups["minute"]) if groups["minute"] is not None else None,
        days_back=_NAMED_DAYS[named.lower()] if named is not None else None,
    )
    return stamp if _valid(stamp) else None


def _full_year(year: str | None) -> int | None:
    if year is None:
        return None
    value = int(year)
    return value + 2000 if len(year) == 2 else value


def _valid(stamp: Stamp) -> bool:
    if stamp.hour is not None and not (0 <= stamp.hour <= 23 and 0 <= (stamp.minute or 0) <= 59):
        return False
    if stamp.day is not None:
        try:
            datetime(stamp.year or 2000, stamp.month or 1, stamp.day)  # 2000: a leap year
        except ValueError:
            return False
    return True


def read_byline(line: str) -> Byline | None:
    """The byline or date line ``line`` is, whole; None when any of it is something else."""
    if not (line[:1].isdigit() or line[:2].lower() in _OPENINGS):
        return None
    pos, who = 0, None
    found = _BYLINE.match(line)
    own = _OWN_REPORTER.match(line) if found is None else None
    if own is not None:
        who, pos = own.group(0), own.end()
        if pos == len(line):
            return Byline(who=who, published=None, updated=None)
        pos = _skip(line, pos)
    elif found is not None:
        who, pos = found.group("who"), found.end()
        if pos == len(line):
            return Byline(who=who, published=None, updated=None)
        pos = _skip(line, pos)
    elif (update := _UPDATE_LABEL.match(line)) is not None:
        # "Laatst bijgewerkt: 5 januari 2017 18:02" on a line of its own
        updated = match_stamp(line, update.end())
        if updated is None or line[update.end() + len(updated.text) :].strip(_SEPARATORS + "."):
            return None
        return Byline(who=None, published=None, updated=updated)
    else:
        label = _PUBLISHED_LABEL.match(line)
        if label is not None:
            pos = label.end()
    published = match_stamp(line, pos)
    if published is None:
        return None
    pos = _skip(line, pos + len(published.text))
    updated = None
    if pos < len(line):
        opened = line[pos] == "("
        pos += opened
        label = _UPDATE_LABEL.match(line, pos)
        if label is None:
            return None
        updated = match_stamp(line, label.end())
        if updated is None:
            return None
        pos = label.end() + len(updated.text)
        if opened:
            if not line.startswith(")", pos):
                return None
            pos += 1
        if line[pos:].strip(_SEPARATORS + "."):
            return None
    return Byline(who=who, published=published, updated=updated)


def _skip(line: str, pos: int) -> int:
    while pos < len(line) and line[pos] in _SEPARATORS:
        pos += 1
    return pos


def resolve_stamp(stamp: Stamp, received_at: datetime, *, on: Stamp | None = None) -> datetime | None:
    """The UTC instant ``stamp`` names, its missing parts taken from ``on`` or else ``received_at``.

    Without a year: the latest such date not after the received day; without a date: the latest such
    clock time not after the received moment (today's, else yesterday's). None when it cannot exist.
    """
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    local = received_at.astimezone(WIRE_ZONE).replace(tzinfo=None)
    day, month, year = stamp.day, stamp.month, stamp.year
    if day is None and on is not None and on.day is not None:
        day, month, year = on.day, on.month, on.year
    hour, minute = stamp.hour or 0, stamp.minute or 0
    try:
        if stamp.days_back is not None:
            wall = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            wall -= timedelta(days=stamp.days_back)
        elif day is None:
            wall = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if wall > local:
                wall -= timedelta(days=1)
        else:
            assert month is not None
            wall = datetime(year or local.year, month, day, hour, minute)
            if year is None and wall.date() > local.date():
                wall = wall.replace(year=wall.year - 1)
        return wall.replace(tzinfo=WIRE_ZONE).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
