"""Properties over generated inputs for readers that met only hand-written examples: secrets in any
URL, absolute date lines in any date, and story matching of any text under the changes a page's
copy makes (spacing, quote style, soft hyphens)."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.enrich.abstimes import read_byline, resolve_stamp
from services.store.stories import Relation, profile, relation
from shared.settings import mask_url

pytestmark = [pytest.mark.unit]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip

# Passwords as operators type them: any printable character, '@', ':', '/', '?', '#' and '%' included.
passwords = st.text(
    alphabet=string.ascii_letters + string.digits + string.punctuation, min_size=6, max_size=30
)


@settings(max_examples=300, deadline=None)
@given(password=passwords, scheme=st.sampled_from(["postgresql+psycopg", "postgresql", "redis"]))
def test_no_password_in_the_user_info_survives_masking(password: str, scheme: str) -> None:
    """Whatever characters a password has, unencoded, none of it is shown: the user-info ends at the
    last '@', so a password holding '@', '/' or '?' is hidden whole."""
    assume("@" not in password[-1:])  # a trailing '@' would make the host part empty, not a URL
    shown = mask_url(f"{scheme}://dropwire:{password}@db.internal:5432/dropwire")
    # The whole URL is compared: a password may well be a piece of the host name ('intern').
    assert shown == f"{scheme}://dropwire:***@db.internal:5432/dropwire"


@settings(max_examples=300, deadline=None)
@given(
    secret=st.text(alphabet=string.ascii_letters + string.digits + "-_.~+", min_size=6, max_size=30),
    name=st.sampled_from(["password", "PASSWORD", "passwd", "pwd", "token", "api_key", "sslpassword"]),
    before=st.sampled_from(["", "sslmode=require&", "user=dw&"]),
)
def test_no_secret_query_parameter_survives_masking(secret: str, name: str, before: str) -> None:
    """A secret-looking query parameter's value is hidden wherever it stands in the query."""
    shown = mask_url(f"postgresql://db/dw?{before}{name}={secret}&application_name=dropwire")
    assert secret not in shown
    assert f"{name}=***" in shown and shown.endswith("&application_name=dropwire")


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)),
    capitalised=st.booleans(),
)
def test_a_date_line_of_any_day_resolves_to_its_amsterdam_time(when: datetime, capitalised: bool) -> None:
    """'Maandag 27 maart 2017 08:19' for any date: published at that wall-clock time in Amsterdam,
    given in UTC (summer and winter time alike)."""
    when = when.replace(second=0, microsecond=0)
    day = DAYS[when.weekday()]
    line = f"{day.capitalize() if capitalised else day} {when.day} {MONTHS[when.month - 1]} {when.year} {when:%H:%M}"
    byline = read_byline(line)
    assert byline is not None and byline.published is not None, line
    resolved = resolve_stamp(byline.published, datetime(2036, 1, 1, tzinfo=UTC))
    local = when.replace(tzinfo=AMSTERDAM)
    # A wall-clock time that does not exist or exists twice (the hour clocks change) may land on either side.
    assert resolved is not None
    assert abs(resolved - local.astimezone(UTC)) <= timedelta(hours=1), (line, resolved)
    if (
        local.utcoffset()
        == (local + timedelta(hours=2)).utcoffset()
        == (local - timedelta(hours=2)).utcoffset()
    ):
        assert resolved == local.astimezone(UTC), (line, resolved)


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéëï", min_size=2, max_size=10)
bodies = st.lists(words, min_size=12, max_size=80).map(lambda ws: " ".join(ws) + ".")


def _copy_of(body: str, spacing: str, quotes: bool, hyphen: bool) -> str:
    """The same text as another page prints it: other spacing, curly quotes, a soft hyphen."""
    text = body.replace(" ", spacing)
    if quotes:
        text = "\u201c" + text + "\u201d"
    if hyphen and len(text) > 6:
        text = text[:5] + "\u00ad" + text[5:]
    return text


@settings(max_examples=200, deadline=None)
@given(
    body=bodies,
    spacing=st.sampled_from([" ", "  ", "\n", " \n "]),
    quotes=st.booleans(),
    hyphen=st.booleans(),
    place=st.sampled_from(["AMSTERDAM", "DEN HAAG", "MÜNCHEN"]),
)
def test_a_copy_printed_differently_is_a_repeat_of_the_same_story(
    body: str, spacing: str, quotes: bool, hyphen: bool, place: str
) -> None:
    """Spacing, quote style and soft hyphens aside, the same item seen again is a repeat, with the
    same index keys (so it is found through the index, not only when compared)."""
    first = profile(role="brief", place=place, headline=None, headline_version=None, preamble=None, body=body)
    again = profile(
        role="brief",
        place=place,
        headline=None,
        headline_version=None,
        preamble=None,
        body=_copy_of(body, spacing, quotes, hyphen),
    )
    assert relation(again, first) is Relation.REPEAT
    assert set(first.index_keys()) & set(again.lookup_keys())


@settings(max_examples=200, deadline=None)
@given(
    body=bodies,
    places=st.lists(
        st.sampled_from(["AMSTERDAM", "DEN HAAG", "UTRECHT"]), min_size=2, max_size=2, unique=True
    ),
)
def test_the_same_words_under_another_dateline_place_are_another_story(body: str, places: list[str]) -> None:
    """Item identity needs the same dateline place: the same text from another place matches nothing."""
    a, b = (
        profile(role="brief", place=p, headline=None, headline_version=None, preamble=None, body=body)
        for p in places
    )
    assert relation(a, b) is None
