"""Relative times as the wire pages write them ("20 minuten geleden", "gisteren") → timestamps.

``match_relative_time`` finds one at the start of a string (the splitter uses it to cut
"20 minuten geledenPARIJS (ANP) - ..." in two); ``resolve`` turns it into an aware datetime against
the moment the file was received.

Minutes and hours are elapsed time: subtracted from the instant. Days, weeks and "gisteren" are
calendar days as a Dutch editor reads them, so they are counted on the Europe/Amsterdam wall clock:
"gisteren" at 00:30 on the day summer time starts is the previous calendar day at 00:30 local time,
not 24 elapsed hours back. The result is returned in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

#: The wire's own clock: "gisteren" and "3 dagen geleden" count calendar days in this zone.
WIRE_ZONE = ZoneInfo("Europe/Amsterdam")

_UNITS: dict[str, tuple[str, int]] = {
    "seconde": ("seconds", 1),
    "seconden": ("seconds", 1),
    "minuut": ("minutes", 1),
    "minuten": ("minutes", 1),
    "uur": ("hours", 1),
    "dag": ("days", 1),
    "dagen": ("days", 1),
    "week": ("days", 7),
    "weken": ("days", 7),
    "maand": ("months", 1),
    "maanden": ("months", 1),
    "jaar": ("months", 12),
    # abbreviations of older crawls and other sites: "5 min. geleden", "2 u geleden", "3 mnd geleden"
    "sec": ("seconds", 1),
    "min": ("minutes", 1),
    "min.": ("minutes", 1),
    "u": ("hours", 1),
    "mnd": ("months", 1),
}
_WORD_NUMBERS = {"een": 1, "één": 1, "eén": 1, "twee": 2, "drie": 3}
_NAMED_DAYS = {"gisteren": 1, "eergisteren": 2}
# "een kwartier geleden", "een half uur geleden", "zojuist": minutes without a count.
_NAMED_SPANS = {"een kwartier geleden": 15, "een half uur geleden": 30, "zojuist": 0}

# Bounded quantifiers only: at most four ASCII digits, the unit from a closed list. Case-sensitive on
# purpose (no re.IGNORECASE, whose Unicode folding lets "ſ" match "s"): only a sentence-initial capital.
_RELATIVE = re.compile(
    r"(?P<count>[0-9]{1,4}|[Ee]en|[EÉeé]én|[Tt]wee|[Dd]rie) (?P<unit>"
    + "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
    + r") geleden|(?P<named>[Ee]ergisteren|[Gg]isteren)"
    + r"|(?P<span>[Ee]en kwartier geleden|[Ee]en half uur geleden|[Zz]ojuist)"
)


@dataclass(frozen=True)
class RelativeTime:
    """One relative time as written, with its amount in a unit."""

    text: str  # as written, e.g. "20 minuten geleden"
    count: int
    unit: str  # "seconds" | "minutes" | "hours" | "days" | "months"


def match_relative_time(text: str, pos: int = 0) -> RelativeTime | None:
    """The relative time that starts exactly at ``text[pos]``, or None."""
    found = _RELATIVE.match(text, pos)
    if found is None:
        return None
    span = found.group("span")
    if span is not None:
        return RelativeTime(text=found.group(0), count=_NAMED_SPANS[span.lower()], unit="minutes")
    named = found.group("named")
    if named is not None:
        return RelativeTime(text=found.group(0), count=_NAMED_DAYS[named.lower()], unit="days")
    raw = found.group("count").lower()
    count = _WORD_NUMBERS[raw] if raw in _WORD_NUMBERS else int(raw)
    unit, factor = _UNITS[found.group("unit").lower()]
    return RelativeTime(text=found.group(0), count=count * factor, unit=unit)


def parse_relative_time(text: str) -> RelativeTime | None:
    """The relative time when ``text`` (stripped) is one and nothing else, or None."""
    stripped = text.strip()
    found = match_relative_time(stripped)
    if found is None or len(found.text) != len(stripped):
        return None
    return found


def resolve(relative: RelativeTime, received_at: datetime) -> datetime | None:
    """The UTC instant ``relative`` points at, counted back from ``received_at`` (naive = UTC).

    None when that instant is outside what a datetime can hold ("9999 jaar geleden").
    """
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    try:
        if relative.unit in ("seconds", "minutes", "hours"):
            return (received_at - timedelta(**{relative.unit: relative.count})).astimezone(UTC)
        local = received_at.astimezone(WIRE_ZONE)
        if relative.unit == "days":
            wall = local.replace(tzinfo=None) - timedelta(days=relative.count)
        else:
            wall = _months_back(local.replace(tzinfo=None), relative.count)
        return wall.replace(tzinfo=WIRE_ZONE).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _months_back(wall: datetime, months: int) -> datetime:
    """Same day-of-month ``months`` earlier, clamped to the month's last day (31 March → 28/29 Feb)."""
    index = wall.year * 12 + (wall.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    next_first = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return wall.replace(year=year, month=month, day=min(wall.day, last_day))
