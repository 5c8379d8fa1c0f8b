"""The console's pure parts: the token and CSRF guard, the loopback rule, highlight pieces, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.console.filters import BadFilter, build_filters, parse_time
from services.console.highlight import pieces, window
from services.console.security import Guard
from services.console.settings import TokenRequired, is_loopback, require_token_off_loopback
from shared.settings import ConsoleSettings

pytestmark = pytest.mark.unit


def test_off_loopback_without_a_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback needs no token; any other address does, from the variable or its _FILE."""
    for name in ("DROPWIRE_CONSOLE_HOST", "DROPWIRE_CONSOLE_TOKEN", "DROPWIRE_CONSOLE_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    require_token_off_loopback(ConsoleSettings())
    monkeypatch.setenv("DROPWIRE_CONSOLE_HOST", "0.0.0.0")
    with pytest.raises(TokenRequired):
        require_token_off_loopback(ConsoleSettings())
    monkeypatch.setenv("DROPWIRE_CONSOLE_TOKEN", "t")
    require_token_off_loopback(ConsoleSettings())
    monkeypatch.setenv("DROPWIRE_CONSOLE_TOKEN", "  ")
    with pytest.raises(TokenRequired, match="empty"):
        require_token_off_loopback(ConsoleSettings())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("10.0.0.5", False), ("console.example", False), ("", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    """Only 127.0.0.0/8, ::1 and localhost count as loopback."""
    assert is_loopback(host) is loopback


def test_with_a_token_every_path_but_health_and_login_needs_it() -> None:
    """The bearer header or the login cookie opens the console; nothing else does."""
    guard = Guard(token="s3cret")
    assert not guard.allowed("/api/documents", None, None)
    assert not guard.allowed("/metrics", "Bearer wrong", None)
    assert not guard.allowed("/", None, "s3cret")  # the cookie holds a digest, never the token
    assert guard.allowed("/api/documents", "Bearer s3cret", None)
    assert guard.allowed("/", None, guard.cookie_value())
    assert guard.allowed("/healthz", None, None) and guard.allowed("/login", None, None)
    assert not guard.token_ok("") and not guard.token_ok(None)


def test_without_a_token_only_loopback_hosts_are_served() -> None:
    """A request naming another host (DNS rebinding) is refused when no token guards the console."""
    guard = Guard(token=None)
    assert guard.host_ok("127.0.0.1:9104") and guard.host_ok("localhost") and guard.host_ok("[::1]:9104")
    assert not guard.host_ok("evil.example:9104") and not guard.host_ok(None)
    assert Guard(token="t").host_ok("console.internal:9104")


def test_csrf_token_is_per_process_and_checked_exactly() -> None:
    """The CSRF token of one console is refused by another and a wrong or missing one fails."""
    one, two = Guard(token=None), Guard(token=None)
    assert one.csrf_ok(one.csrf_token())
    assert not one.csrf_ok(two.csrf_token()) and not one.csrf_ok(None) and not one.csrf_ok("")


@given(st.text(max_size=80), st.lists(st.tuples(st.integers(-5, 90), st.integers(-5, 90)), max_size=8))
def test_pieces_keep_every_character_once(text: str, raw: list[tuple[int, int]]) -> None:
    """Whatever the spans (overlapping, empty, out of range), the pieces put together are the text."""
    parts = pieces(text, [(a, b, "m") for a, b in raw])
    assert "".join(p.text for p in parts) == text
    for p in parts:
        assert text[p.start : p.start + len(p.text)] == p.text


def test_pieces_mark_the_spans() -> None:
    """A span's piece carries its payload; an overlapping later span is skipped."""
    parts = pieces("Mark Rutte in Den Haag", [(0, 10, "PER"), (5, 10, "X"), (14, 22, "LOC")])
    assert [(p.text, p.mark) for p in parts] == [("Mark Rutte", "PER"), (" in ", None), ("Den Haag", "LOC")]


def test_window_keeps_the_first_hit_in_view() -> None:
    """The snippet window of a long text contains the first hit and starts on a word."""
    text = "woord " * 100 + "staking " + "woord " * 100
    hit = text.index("staking")
    start, end = window(text, [(hit, hit + 7)], width=120)
    assert start <= hit < hit + 7 <= end and text[start - 1] == " "


def test_filters_read_spans_and_iso_times() -> None:
    """since/until take a span back from now or an ISO time; role and NUL are checked."""
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_time("2h", now) == now - timedelta(hours=2)
    assert parse_time("2026-11-21T09:30") == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert parse_time("") is None
    for bad in ("yesterday", "999999w"):
        with pytest.raises(BadFilter):
            parse_time(bad, now)
    with pytest.raises(BadFilter):
        build_filters(role="column")
    with pytest.raises(BadFilter):
        build_filters(place="Den\x00Haag")
    assert build_filters(place=" Den Haag ", role="MAIN").model_dump(exclude_none=True) == {
        "place": "Den Haag",
        "role": "main",
    }
