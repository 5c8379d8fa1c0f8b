"""Readiness checks for ``/readyz`` (each time-boxed) and the probes refreshed at scrape time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.metrics import Metrics
from shared.queues import QUEUES

# A readiness probe (kubelet, compose healthcheck) gives up after a few seconds; answering within 2 s
# leaves it room while a healthy Redis ping or ``select 1`` takes about a millisecond.
DEFAULT_CHECK_TIMEOUT_SECONDS = 2.0
# A scrape-time refresh (queue depth) must not stall the scrape: Prometheus's default timeout is 10 s.
DEFAULT_REFRESH_TIMEOUT_SECONDS = 2.0

Check = Callable[[], None]


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float


def run_checks(
    checks: Mapping[str, Check], timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS
) -> list[CheckResult]:
    """Run every check at once in its own daemon thread; one still running after ``timeout`` fails."""
    results: dict[str, CheckResult] = {}
    lock = threading.Lock()

    def run(name: str, check: Check) -> None:
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # a readiness check reports any failure; the endpoint names it
            result = CheckResult(
                name, False, f"{type(exc).__name__}: {exc}"[:300], time.monotonic() - started
            )
        else:
            result = CheckResult(name, True, "ok", time.monotonic() - started)
        with lock:
            results.setdefault(name, result)

    threads = [
        threading.Thread(target=run, args=(name, check), name=f"readyz-{name}", daemon=True)
        for name, check in checks.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        for name in checks:
            results.setdefault(name, CheckResult(name, False, f"timeout after {timeout:g}s", timeout))
        return [results[name] for name in checks]


def redis_check(url: str, timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS) -> Check:
    """A check that PINGs the Redis at ``url`` (the Celery broker)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)

    def check() -> None:
        if not client.ping():
            raise ConnectionError("redis did not answer PING")

    return check


def database_check(url: str, timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS) -> Check:
    """A check that runs ``select 1`` on the database at ``url`` over a fresh connection each time."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    parsed = sa.engine.make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = max(1, round(timeout))
    elif parsed.get_backend_name() == "sqlite":
        connect_args["timeout"] = timeout
    engine = sa.create_engine(parsed, poolclass=NullPool, connect_args=connect_args)

    def check() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))

    return check


def alive_check(parts: Callable[[], Mapping[str, bool]]) -> Check:
    """A readiness check that fails while any of this process's long-lived loops has died."""

    def check() -> None:
        dead = sorted(name for name, alive in parts().items() if not alive)
        if dead:
            raise RuntimeError("stopped: " + ", ".join(dead))

    return check


def queue_depth_probe(
    metrics: Metrics, broker_url: str, queues: Iterable[str] = QUEUES
) -> Callable[[], None]:
    """A scrape-time refresh that sets ``dropwire_queue_depth{queue}`` from the Redis list lengths.

    Celery's Redis transport keeps each queue as a list named after it (priority sub-queues, when
    used, are named ``<queue>\\x06\\x16<n>``; dropwire does not use priorities).
    """
    import redis

    client = redis.Redis.from_url(
        broker_url,
        socket_connect_timeout=DEFAULT_REFRESH_TIMEOUT_SECONDS,
        socket_timeout=DEFAULT_REFRESH_TIMEOUT_SECONDS,
    )
    names = tuple(queues)
    for name in names:  # the series exist from the first scrape, before Redis has answered
        metrics.queue_depth.labels(queue=name)

    def refresh() -> None:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
        for name, depth in zip(names, pipe.execute(), strict=True):
            metrics.queue_depth.labels(queue=name).set(int(depth))

    return refresh


def heartbeat_age_probe(metrics: Metrics, last_seen: Callable[[], float | None]) -> Callable[[], None]:
    """A scrape-time refresh that sets ``dropwire_heartbeat_age_seconds`` from ``last_seen()``.

    ``last_seen`` returns the Unix time the last heartbeat document came through, or None before the
    first: the age then counts from when the probe was made, so a pipeline that never passes a
    heartbeat shows a growing age rather than a reassuring 0.
    """
    started = time.time()

    def refresh() -> None:
        seen = last_seen()
        metrics.heartbeat_age.set(max(0.0, time.time() - (started if seen is None else seen)))

    return refresh
