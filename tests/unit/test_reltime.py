"""Relative times: recognised as written, resolved against the moment a file was received."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.enrich.reltime import match_relative_time, parse_relative_time, resolve

pytestmark = pytest.mark.unit

NOON_UTC = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20 minuten geleden", datetime(2026, 3, 1, 11, 40, tzinfo=UTC)),
        ("1 minuut geleden", datetime(2026, 3, 1, 11, 59, tzinfo=UTC)),
        ("1 uur geleden", datetime(2026, 3, 1, 11, 0, tzinfo=UTC)),
        ("3 uur geleden", datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
        ("1 dag geleden", datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
        ("2 dagen geleden", datetime(2026, 2, 27, 12, 0, tzinfo=UTC)),
        ("1 week geleden", datetime(2026, 2, 22, 12, 0, tzinfo=UTC)),
        ("3 weken geleden", datetime(2026, 2, 8, 12, 0, tzinfo=UTC)),
        ("gisteren", datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
        ("eergisteren", datetime(2026, 2, 27, 12, 0, tzinfo=UTC)),
        ("een uur geleden", datetime(2026, 3, 1, 11, 0, tzinfo=UTC)),
        ("1 maand geleden", datetime(2026, 2, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_relative_times_resolve(text: str, expected: datetime) -> None:
    """Each wording counts back the right amount from the received-at moment."""
    found = parse_relative_time(text)
    assert found is not None and found.text == text
    assert resolve(found, NOON_UTC) == expected


def test_minutes_are_elapsed_time_across_the_dst_change() -> None:
    """'2 uur geleden' at 04:00 CEST on the day summer time starts is 01:00 CET: two real hours, not 02:00."""
    received = datetime.fromisoformat("2026-03-29T04:00:00+02:00")
    found = parse_relative_time("2 uur geleden")
    assert found is not None
    assert resolve(found, received) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)


def test_gisteren_is_the_previous_amsterdam_calendar_day() -> None:
    """'gisteren' counts Amsterdam wall-clock days: 12:00 CEST after the DST change → 12:00 CET the day before."""
    received = datetime.fromisoformat("2026-03-29T12:00:00+02:00")
    found = parse_relative_time("gisteren")
    assert found is not None
    resolved = resolve(found, received)
    assert resolved == datetime(2026, 3, 28, 11, 0, tzinfo=UTC)  # 23 elapsed hours, one calendar day


def test_gisteren_just_after_midnight_amsterdam_is_the_day_before_in_amsterdam() -> None:
    """At 00:30 Amsterdam (still the previous day in UTC), 'gisteren' is the Amsterdam day before."""
    received = datetime.fromisoformat("2026-01-15T23:30:00+00:00")  # 16 January 00:30 in Amsterdam
    found = parse_relative_time("gisteren")
    assert found is not None
    assert resolve(found, received) == datetime(2026, 1, 14, 23, 30, tzinfo=UTC)  # 15 Jan 00:30 CET


def test_naive_received_at_is_taken_as_utc() -> None:
    """A naive moment is read as UTC rather than the machine's local time."""
    found = parse_relative_time("1 uur geleden")
    assert found is not None
    assert resolve(found, datetime(2026, 3, 1, 12, 0)) == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


def test_a_time_run_into_the_next_dateline_is_matched_at_the_start() -> None:
    """'20 minuten geledenPARIJS (ANP) - ...' yields the time as written and where it ends."""
    found = match_relative_time("20 minuten geledenPARIJS (ANP) - Tekst.")
    assert found is not None and found.text == "20 minuten geleden"


@pytest.mark.parametrize(
    "text",
    [
        "20 minuten",
        "geleden",
        "Gisteren heeft het kabinet besloten.",
        "20 jaren geleden",
        "99999 uur geleden",
        "",
    ],
)
def test_other_text_is_not_a_relative_time(text: str) -> None:
    """Only a whole relative time, in a known unit, counts as one."""
    assert parse_relative_time(text) is None


@pytest.mark.parametrize("text", ["9999 jaar geleden", "9999 maanden geleden", "9999 weken geleden"])
def test_times_beyond_the_calendar_resolve_to_none_or_a_date(text: str) -> None:
    """Absurd amounts never raise: they give a date when one exists and None when it cannot be held."""
    found = parse_relative_time(text)
    assert found is not None
    resolved = resolve(found, NOON_UTC)
    assert resolved is None or resolved < NOON_UTC


def test_a_time_before_year_one_is_none() -> None:
    """Counting back past the first representable year gives None instead of an error."""
    found = parse_relative_time("9999 jaar geleden")
    assert found is not None
    assert resolve(found, NOON_UTC) is None
