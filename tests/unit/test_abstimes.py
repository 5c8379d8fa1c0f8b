"""Absolute times as pages write them: stamps, bylines and date lines, resolved on Amsterdam's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.enrich.abstimes import match_stamp, read_byline, resolve_stamp

pytestmark = pytest.mark.unit

RECEIVED = datetime(2017, 3, 28, 9, 0, tzinfo=UTC)  # 11:00 in Amsterdam, summer time


@pytest.mark.parametrize(
    "text",
    ["32 maart", "25:10", "12:60", "31-02-2017", "11.000 man", "2017", "Maandag", "13 oktoberfeest"],
)
def test_impossible_or_partial_stamps_are_not_stamps(text: str) -> None:
    """A day past the month's end, an hour past 23, a thousands separator, a weekday alone: no stamp."""
    assert match_stamp(text) is None


def test_two_digit_years_are_this_century() -> None:
    """'5-1-17' is 5 January 2017."""
    stamp = match_stamp("5-1-17 17:26")
    assert stamp is not None and (stamp.year, stamp.month, stamp.day, stamp.hour) == (2017, 1, 5, 17)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:59", datetime(2017, 3, 28, 8, 59, tzinfo=UTC)),  # earlier today
        ("11:01", datetime(2017, 3, 27, 9, 1, tzinfo=UTC)),  # later than now: yesterday
        ("28 maart", datetime(2017, 3, 27, 22, 0, tzinfo=UTC)),  # today, midnight
        ("29 maart", datetime(2016, 3, 28, 22, 0, tzinfo=UTC)),  # tomorrow's date: last year's
        ("25 maart 2017 12:00", datetime(2017, 3, 25, 11, 0, tzinfo=UTC)),  # winter time, UTC+1
    ],
)
def test_missing_parts_come_from_the_received_moment(text: str, expected: datetime) -> None:
    """The latest moment the stamp can name that is not after the file came in."""
    stamp = match_stamp(text)
    assert stamp is not None
    assert resolve_stamp(stamp, RECEIVED) == expected


def test_an_update_time_without_date_takes_the_published_date() -> None:
    """'(Update 18:02)' after '5-1-2017, 17:26' is 18:02 on 5 January, not today."""
    byline = read_byline("Door ANP - 5-1-2017, 17:26 (Update 18:02)")
    assert byline is not None and byline.published is not None and byline.updated is not None
    assert resolve_stamp(byline.updated, RECEIVED, on=byline.published) == datetime(
        2017, 1, 5, 17, 2, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "line",
    [
        "Door de regen valt de wedstrijd uit",
        "Maandag 27 maart 2017 08:19 begon de rechtszaak",
        "Door ANP - 5-1-2017, 17:26 (Update: morgen)",
        "Gepubliceerd: binnenkort",
    ],
)
def test_lines_with_more_than_a_byline_are_not_bylines(line: str) -> None:
    """A byline or date line is the whole line; a sentence that starts like one is not."""
    assert read_byline(line) is None
