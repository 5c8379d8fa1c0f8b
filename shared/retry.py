"""One retry policy for every dependency (database, broker): transient waits, permanent stops.

* ``classify(exc)`` says whether an error from a driver can heal by itself: a server that is down,
  refuses connections or times out is *transient*; a database that does not exist, wrong credentials
  or a schema that is missing or behind are *permanent* -- waiting changes nothing, an operator must.
  Each verdict carries one line for the operator: the cause and the fix.
* ``Backoff``: capped exponential delays with jitter, and ``due_to_say()`` so that a long wait is
  reported once in a while (every ``SAY_EVERY_SECONDS``), not on every attempt.
* ``retry(fn, what=...)``: call ``fn`` until it succeeds, waiting on transient errors (up to an optional
  deadline), raising ``DependencyFailed`` at once on a permanent one.
* ``failure_of(exc)``: the same split for an error raised while processing one document (enrich's
  Celery task and its batch pool both ask it): transient -> retry with capped backoff; anything else
  (bad input, a bug that raises the same way every time) -> dead-letter at once, with a reason code.

The start-up waits, the CLI's one-line errors and the workers' reconnect loops all use this, so that
"unreachable" and "misconfigured" are decided in one place.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from shared.errors import (
    DependencyUnavailable,
    DropwireError,
    InternalError,
    PermanentError,
    TransientError,
)

T = TypeVar("T")

# First wait after a failure: short, so a dependency that blinks costs little.
FIRST_DELAY_SECONDS = 0.2
# No wait is longer than this: a dependency that comes back is used within this long.
MAX_DELAY_SECONDS = 10.0
# A long wait is reported this often (one warning line per half minute, not one per attempt).
SAY_EVERY_SECONDS = 30.0

Kind = Literal["transient", "permanent"]


class DependencyFailed(DropwireError):
    """A dependency answered in a way that waiting will not change (missing database, bad password)."""

    reason = "dependency_failed"


@dataclass(frozen=True)
class Verdict:
    """What an error means: ``kind`` decides retrying; ``cause`` and ``fix`` are for the operator."""

    kind: Kind
    cause: str
    fix: str

    def line(self) -> str:
        return f"{self.cause}; {self.fix}" if self.fix else self.cause


# Substrings of driver messages (PostgreSQL, psycopg, SQLite, redis-py) -> (kind, cause, fix).
# Order matters: the first match wins, so the specific ones come before the general ones.
_RULES: tuple[tuple[str, Kind, str, str], ...] = (
    (
        "does not exist",
        "permanent",
        "the database server says: {detail}",
        "create it (createdb NAME) or correct DROPWIRE_DATABASE_URL",
    ),
    (
        "password authentication failed",
        "permanent",
        "the database refused the credentials ({detail})",
        "correct the user/password in DROPWIRE_DATABASE_URL or DROPWIRE_DATABASE_PASSWORD",
    ),
    (
        "no password supplied",
        "permanent",
        "the database wants a password ({detail})",
        "set DROPWIRE_DATABASE_PASSWORD (or _FILE)",
    ),
    (
        "no such table",
        "permanent",
        "the database has no dropwire tables ({detail})",
        "run `dropwire db upgrade` first",
    ),
    (
        "unable to open database file",
        "permanent",
        "the SQLite file cannot be opened ({detail})",
        "check the path in DROPWIRE_DATABASE_URL and its folder's permissions",
    ),
    (
        "invalid password",
        "permanent",
        "Redis refused the password ({detail})",
        "correct DROPWIRE_BROKER_PASSWORD or the password in DROPWIRE_BROKER_URL",
    ),
    (
        "username-password pair",  # redis-py drops the WRONGPASS code from the text
        "permanent",
        "Redis refused the credentials ({detail})",
        "correct DROPWIRE_BROKER_PASSWORD or the user/password in DROPWIRE_BROKER_URL",
    ),
    (
        "authentication required",  # redis-py drops the NOAUTH code from the text
        "permanent",
        "Redis wants a password ({detail})",
        "set DROPWIRE_BROKER_PASSWORD (or _FILE)",
    ),
    (
        "wrongpass",
        "permanent",
        "Redis refused the credentials ({detail})",
        "correct DROPWIRE_BROKER_PASSWORD or the user/password in DROPWIRE_BROKER_URL",
    ),
    (
        "noauth",
        "permanent",
        "Redis wants a password ({detail})",
        "set DROPWIRE_BROKER_PASSWORD (or _FILE)",
    ),
)


def _detail(exc: BaseException) -> str:
    """The first meaningful line of the driver's own message (SQLAlchemy wraps it in ``orig``)."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("(Background")]
    first = lines[0] if lines else type(inner).__name__
    for line in lines:  # libpq puts the server's own words after FATAL:, the part worth showing
        if "FATAL:" in line:
            first = line.partition("FATAL:")[2]
            break
    first = first.removeprefix("connection failed:").replace("ERROR:", "")
    return " ".join(first.split())[:200]


def classify(exc: BaseException) -> Verdict:
    """Transient or permanent, with one line of cause and fix for the operator."""
    if isinstance(exc, DependencyFailed):
        return Verdict("permanent", exc.message, "")
    detail = _detail(exc)
    low = str(getattr(exc, "orig", None) or exc).lower()
    for needle, kind, cause, fix in _RULES:
        if needle in low:
            if needle == "does not exist" and ("relation" in low or "column" in low):
                return Verdict(
                    "permanent",
                    f"the database schema is missing or old ({detail})",
                    "run `dropwire db upgrade`",
                )
            return Verdict(kind, cause.format(detail=detail), fix)
    return Verdict(
        "transient",
        f"cannot reach it ({detail})",
        "start it or correct its host/port; retrying while waiting",
    )


class Backoff:
    """Capped exponential delays with full jitter, and a clock for "say so once in a while"."""

    def __init__(
        self,
        first: float = FIRST_DELAY_SECONDS,
        cap: float = MAX_DELAY_SECONDS,
        say_every: float = SAY_EVERY_SECONDS,
    ) -> None:
        self.first, self.cap, self.say_every = first, cap, say_every
        self.attempts = 0
        self.started = time.monotonic()
        self._said_at: float | None = None

    def next_delay(self) -> float:
        """The wait before the next attempt: doubling from ``first`` up to ``cap``, jittered by half."""
        base = min(self.cap, self.first * (2**self.attempts))
        self.attempts += 1
        return float(base / 2 + random.uniform(0, base / 2))

    def due_to_say(self) -> bool:
        """True on the first failure and then at most once per ``say_every`` seconds."""
        now = time.monotonic()
        if self._said_at is None or now - self._said_at >= self.say_every:
            self._said_at = now
            return True
        return False

    def waited(self) -> float:
        return time.monotonic() - self.started


def retry(
    fn: Callable[[], T],
    *,
    what: str,
    retry_on: tuple[type[BaseException], ...],
    deadline_seconds: float | None = None,
    say: Callable[[str, dict[str, object]], None] | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """``fn()``, retried while its errors are transient; ``what`` names the dependency in messages.

    Raises ``DependencyFailed`` on a permanent error (at once) and ``DependencyUnavailable`` when a
    transient one outlives ``deadline_seconds`` (``None``: wait for ever). ``say(event, fields)`` is
    called on the first failure and then once per ``SAY_EVERY_SECONDS``.
    """
    backoff = Backoff()
    while True:
        try:
            return fn()
        except retry_on as exc:
            verdict = classify(exc)
            if verdict.kind == "permanent":
                raise DependencyFailed(f"{what}: {verdict.line()}") from exc
            delay = backoff.next_delay()
            if deadline_seconds is not None and backoff.waited() + delay > deadline_seconds:
                raise DependencyUnavailable(
                    f"{what}: {verdict.cause} after {backoff.waited():.0f} s; start it or correct its address"
                ) from exc
            if say is not None and backoff.due_to_say():
                say(
                    "dependency.waiting",
                    {"dependency": what, "error": _detail(exc), "waited_s": round(backoff.waited(), 1)},
                )
            sleep(delay)


# Class names drivers give "the server is away" (redis-py, kombu/amqp, SQLAlchemy, psycopg): matched by
# name in the exception's MRO so that this module imports none of them (the read-only CLI imports it).
_UNREACHABLE_CLASSES = frozenset(
    {"ConnectionError", "TimeoutError", "OperationalError", "InterfaceError", "BusyLoadingError"}
)
_DRIVER_PACKAGES = frozenset({"redis", "kombu", "amqp", "sqlalchemy", "psycopg", "psycopg2"})


@dataclass(frozen=True)
class Failure:
    """How processing that raised ends: ``transient`` is retried with capped backoff; ``permanent`` is
    dead-lettered at once with ``reason`` (a ``shared.errors.FAILURE_REASONS`` code) and ``detail``."""

    kind: Kind
    reason: str
    detail: str


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return any(
        cls.__name__ in _UNREACHABLE_CLASSES and cls.__module__.split(".")[0] in _DRIVER_PACKAGES
        for cls in type(exc).__mro__
    )


def failure_of(exc: BaseException) -> Failure:
    """Whether the work that raised ``exc`` may succeed if done again later, and its reason if not.

    Transient: a ``TransientError``, or a driver's "unreachable"/timeout that ``classify`` does not
    find permanent (a refused password is not healed by waiting). Permanent: a ``PermanentError``
    (the input's fault, with its own reason) and everything else: an error that is neither the
    input's nor a dependency's is a bug, which raises the same way on every attempt (``internal``).
    """
    if isinstance(exc, TransientError):
        return Failure("transient", exc.reason, str(exc))
    if isinstance(exc, PermanentError):
        return Failure("permanent", exc.reason, str(exc))
    if _unreachable(exc):
        verdict = classify(exc)
        if verdict.kind == "transient":
            return Failure("transient", DependencyUnavailable.reason, verdict.line())
        return Failure("permanent", InternalError.reason, verdict.line())
    return Failure("permanent", InternalError.reason, f"{type(exc).__name__}: {exc}")
