"""The one retry policy: what heals by waiting is retried with capped backoff, what cannot stops at once."""

from __future__ import annotations

import pytest

from shared.errors import FAILURE_REASONS, DependencyUnavailable, ParseError
from shared.retry import Backoff, DependencyFailed, classify, failure_of, retry

pytestmark = pytest.mark.unit


class DriverError(Exception):
    """Stands in for a driver's exception: only its text matters to ``classify``."""


@pytest.mark.parametrize(
    ("text", "kind", "fix"),
    [
        (
            'connection to server at "127.0.0.1", port 5433 failed: Connection refused',
            "transient",
            "start it",
        ),
        ("timeout expired", "transient", "start it"),
        ('FATAL:  database "dropwire" does not exist', "permanent", "createdb"),
        ('FATAL:  password authentication failed for user "dw"', "permanent", "DROPWIRE_DATABASE_PASSWORD"),
        ('relation "articles" does not exist', "permanent", "dropwire db upgrade"),
        ("no such table: documents", "permanent", "dropwire db upgrade"),
        ("WRONGPASS invalid username-password pair", "permanent", "DROPWIRE_BROKER_PASSWORD"),
        ("invalid username-password pair or user is disabled.", "permanent", "DROPWIRE_BROKER_PASSWORD"),
        ("Authentication required.", "permanent", "DROPWIRE_BROKER_PASSWORD"),
    ],
)
def test_errors_are_sorted_into_transient_and_permanent_with_a_fix(text: str, kind: str, fix: str) -> None:
    """Each verdict says whether to wait, and one line of cause and fix."""
    verdict = classify(DriverError(text))
    assert verdict.kind == kind
    assert fix in verdict.line() and "\n" not in verdict.line()


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    """Delays grow from ``first`` and never pass ``cap``; each lies in the upper half of its step."""
    backoff = Backoff(first=1.0, cap=5.0)
    delays = [backoff.next_delay() for _ in range(8)]
    steps = [1, 2, 4, 5, 5, 5, 5, 5]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True))


def test_a_long_wait_is_said_once_in_a_while() -> None:
    """The first failure is reported, the next ones only after ``say_every`` seconds."""
    backoff = Backoff(say_every=3600)
    assert [backoff.due_to_say() for _ in range(5)] == [True, False, False, False, False]


def test_retry_waits_on_transient_and_stops_at_once_on_permanent() -> None:
    """Two refusals then success: returned, with one line said; a missing database: raised at once."""
    attempts: list[int] = []
    said: list[str] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise DriverError("Connection refused")
        return "up"

    assert (
        retry(
            flaky, what="db", retry_on=(DriverError,), say=lambda e, f: said.append(e), sleep=lambda s: None
        )
        == "up"
    )
    assert len(attempts) == 3 and said == ["dependency.waiting"]

    def missing() -> None:
        attempts.append(1)
        raise DriverError('database "x" does not exist')

    attempts.clear()
    with pytest.raises(DependencyFailed, match="createdb"):
        retry(missing, what="db", retry_on=(DriverError,), sleep=lambda s: None)
    assert len(attempts) == 1


def test_retry_gives_up_on_a_transient_error_after_its_deadline() -> None:
    """A server that never comes back: DependencyUnavailable once the deadline is passed."""

    def down() -> None:
        raise DriverError("Connection refused")

    with pytest.raises(DependencyUnavailable, match="cannot reach"):
        retry(down, what="db", retry_on=(DriverError,), deadline_seconds=0.0, sleep=lambda s: None)


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (DependencyUnavailable("broker unreachable while publishing"), "transient", "dependency_unavailable"),
        (ConnectionRefusedError(111, "Connection refused"), "transient", "dependency_unavailable"),
        (TimeoutError("timed out"), "transient", "dependency_unavailable"),
        (ParseError("no article found in the page"), "permanent", "parse_error"),
        (KeyError("dateline"), "permanent", "internal"),
        (ValueError("Object of type X is not JSON serializable"), "permanent", "internal"),
        (FileNotFoundError(2, "No such file"), "permanent", "internal"),  # an OSError, not an outage
    ],
)
def test_a_documents_failure_is_transient_only_when_a_dependency_is_away(
    error: BaseException, kind: str, reason: str
) -> None:
    """``failure_of`` (both enrich pools ask it): outages are retried; bad input keeps its own reason and
    a bug, which raises the same way on every attempt, is dead-lettered as ``internal``."""
    judged = failure_of(error)
    assert (judged.kind, judged.reason) == (kind, reason)
    assert judged.reason in FAILURE_REASONS or judged.kind == "transient"


def test_driver_errors_are_judged_by_their_class_and_their_text() -> None:
    """A redis-py/kombu/SQLAlchemy "OperationalError"/"ConnectionError" is an outage unless its text says
    waiting will not help (a refused password), which is not retried."""
    import kombu.exceptions
    import redis.exceptions

    assert failure_of(redis.exceptions.ConnectionError("Error 111 connecting")).kind == "transient"
    assert failure_of(kombu.exceptions.OperationalError("Connection refused")).kind == "transient"
    refused = failure_of(redis.exceptions.ConnectionError("invalid username-password pair"))
    assert (refused.kind, refused.reason) == ("permanent", "internal")
    assert "DROPWIRE_BROKER_PASSWORD" in refused.detail
    assert failure_of(kombu.exceptions.EncodeError("not JSON serializable")).kind == "permanent"
