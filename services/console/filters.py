"""Query-string filters, shared by the pages and the API: parsed once into ``shared.readmodel.Filters``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shared.readmodel import Filters

_SPAN = re.compile(r"^(\d{1,6})\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ROLES = ("main", "brief")


class BadFilter(ValueError):
    """A filter value the console cannot read; the message says what it expects."""


def check_text(value: str) -> str:
    """``value`` unless it holds a NUL, which no stored text has and PostgreSQL refuses in a query."""
    if "\x00" in value:
        raise BadFilter("text must not contain NUL characters")
    return value


def parse_time(value: str | None, now: datetime | None = None) -> datetime | None:
    """An ISO date/time (UTC unless it says otherwise) or a span back from now: 30m, 2h, 7d, 1w."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    match = _SPAN.match(text)
    try:
        if match:
            return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        parsed = datetime.fromisoformat(text.upper() if "t" in text else text)
    except (ValueError, OverflowError) as exc:
        raise BadFilter(
            f"time {value!r}: use an ISO date/time (2026-11-21T09:30) or a span (30m, 2h, 7d)"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_filters(
    since: str | None = None,
    until: str | None = None,
    place: str | None = None,
    entity: str | None = None,
    section: str | None = None,
    role: str | None = None,
) -> Filters:
    for value in (since, until, place, entity, section, role):
        if value:
            check_text(value)
    if role and role.lower() not in ROLES:
        raise BadFilter(f"role {role!r}: use main or brief")
    return Filters(
        since=parse_time(since),
        until=parse_time(until),
        place=place.strip() or None if place else None,
        entity=entity.strip() or None if entity else None,
        section=section.strip() or None if section else None,
        role=role.lower() if role else None,
    )
