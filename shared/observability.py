"""One HTTP endpoint per service process: ``/metrics``, ``/healthz`` and ``/readyz`` on one port.

* ``/metrics``: the service's ``Metrics.registry`` in Prometheus text format (OpenMetrics when the
  scraper asks for it). In multiprocess mode (Celery prefork workers) it is instead a registry over
  ``PROMETHEUS_MULTIPROC_DIR`` that merges every worker process's values.
* ``/healthz``: 200 while the process lives (the server thread answering is the proof).
* ``/readyz``: 200 only when every registered readiness check passes, 503 otherwise, with a JSON body
  naming each check and its result. Checks run in parallel, each time-boxed, so a hung dependency
  answers "timeout" instead of hanging the endpoint.

Multiprocess mode, done right (the order matters):

1. In the parent, before any metric is created: ``prepare_multiprocess_dir(path)`` wipes the folder
   (values of a previous run would otherwise be summed in) and switches prometheus-client to its
   file-backed values. It sets ``PROMETHEUS_MULTIPROC_DIR`` for child processes too.
2. ``create_metrics()`` (pre-initialises every series, so counters read 0 before the first event).
3. ``serve(metrics, ...)`` once, in the parent: one HTTP server for all the worker processes.
4. In Celery's ``worker_process_shutdown`` signal: ``mark_process_dead(pid)`` drops the dead
   process's live gauges (``livesum`` in-progress counts); its counters stay summed in, as they should.
   A child killed outright runs no hook: every scrape also reaps the live gauges of pids that are gone.

Usage::

    server = serve(metrics, port=settings.metrics_port, host=settings.metrics_host,
                   checks={"broker": redis_check(broker_url), "database": database_check(db_url)},
                   on_scrape=[queue_depth_probe(metrics, broker_url)])
    ...
    server.close()
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.multiprocess import mark_process_dead as _mark_process_dead

from shared.logging import get_logger
from shared.metrics import QUEUES, Metrics

log = get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A readiness probe (kubelet, compose healthcheck) gives up after a few seconds; answering within 2 s
# leaves it room while a healthy Redis ping or ``select 1`` takes about a millisecond.
DEFAULT_CHECK_TIMEOUT_SECONDS = 2.0
# A scrape-time refresh (queue depth) must not stall the scrape: Prometheus's default timeout is 10 s.
DEFAULT_REFRESH_TIMEOUT_SECONDS = 2.0

Check = Callable[[], None]


# --------------------------------------------------------------------------- multiprocess mode


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> Path:
    """Empty (or create) ``path`` and make every metric created from now on file-backed in it.

    Call it in the parent process before ``create_metrics()``. The variable is set for the processes
    this one forks or spawns, and prometheus-client's value class is switched even if the library was
    imported earlier (the import-order trap: it reads the variable once, at import time).
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return folder


def multiprocess_dir() -> Path | None:
    """The folder of file-backed metric values in force for this process, or None."""
    path = os.environ.get(MULTIPROC_ENV)
    if path and getattr(values.ValueClass, "_multiprocess", False):
        return Path(path)
    return None


def mark_process_dead(pid: int, path: str | os.PathLike[str] | None = None) -> None:
    """Drop the live gauges of a worker process that exited (Celery ``worker_process_shutdown``)."""
    folder = path if path is not None else os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    _mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def reap_dead_processes(path: str | os.PathLike[str]) -> list[int]:
    """``mark_process_dead`` for every process whose live-gauge file remains but which no longer runs.

    A child killed outright (SIGKILL, the OOM killer) never runs its shutdown hook; without this its
    last in-progress count would be summed in for ever. Run before each scrape. Returns the pids reaped.
    """
    reaped = []
    for entry in Path(path).glob("gauge_live*_*.db"):
        match = _LIVE_GAUGE_FILE.match(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not _alive(pid):
            mark_process_dead(pid, path)
            reaped.append(pid)
    return sorted(set(reaped))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process under that pid: not ours to reap
        return True
    return True


def scrape_registry(metrics: Metrics, path: str | os.PathLike[str] | None = None) -> CollectorRegistry:
    """The registry ``/metrics`` renders: the merged files in multiprocess mode, else the service's own."""
    folder = Path(path) if path is not None else multiprocess_dir()
    if folder is None:
        return metrics.registry
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    return registry


# --------------------------------------------------------------------------- readiness checks


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


# --------------------------------------------------------------------------- the HTTP server


@dataclass
class _Endpoint:
    metrics: Metrics
    checks: Mapping[str, Check]
    check_timeout: float
    on_scrape: Sequence[Callable[[], None]]
    multiprocess_path: Path | None
    refresh_lock: threading.Lock = field(default_factory=threading.Lock)

    def render_metrics(self, accept: str | None) -> tuple[bytes, str]:
        self.refresh()
        if self.multiprocess_path is not None:
            reap_dead_processes(self.multiprocess_path)
        encoder, content_type = choose_encoder(accept or "")
        return encoder(scrape_registry(self.metrics, self.multiprocess_path)), content_type

    def refresh(self) -> None:
        # One refresh at a time: two concurrent scrapes need not both hit Redis.
        with self.refresh_lock:
            for hook in self.on_scrape:
                try:
                    hook()
                except Exception as exc:  # a failed refresh leaves the last value; the log says why
                    log.warning(
                        "metrics.refresh_failed",
                        hook=getattr(hook, "__qualname__", repr(hook)),
                        error=str(exc),
                    )

    def readiness(self) -> tuple[int, dict[str, Any]]:
        results = run_checks(self.checks, self.check_timeout)
        ready = all(r.ok for r in results)
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {
                r.name: {"ok": r.ok, "detail": r.detail, "seconds": round(r.seconds, 4)} for r in results
            },
        }
        return (200 if ready else 503), body


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        endpoint = self.server.endpoint
        path = self.path.split("?", 1)[0]
        try:
            if path == "/metrics":
                body, content_type = endpoint.render_metrics(self.headers.get("Accept"))
                self._send(200, body, content_type)
            elif path == "/healthz":
                self._send_json(200, {"status": "alive", "pid": os.getpid()})
            elif path == "/readyz":
                status, payload = endpoint.readiness()
                self._send_json(status, payload)
            else:
                self._send_json(404, {"error": "not found", "paths": ["/metrics", "/healthz", "/readyz"]})
        except Exception as exc:  # answer 500 rather than drop the connection; the log has the trace
            log.exception("metrics.endpoint_failed", path=path)
            self._send_json(500, {"error": type(exc).__name__})

    def do_HEAD(self) -> None:
        self.do_GET()

    def _send_json(self, status: int, payload: Mapping[str, Any]) -> None:
        self._send(status, json.dumps(payload, sort_keys=True).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would drown the service's own log lines: stay quiet."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], endpoint: _Endpoint) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.endpoint = endpoint
        super().__init__(address, _Handler)


class Server:
    """A running metrics/health server: ``.port`` (the bound one, for port 0), ``.url``, ``.close()``."""

    def __init__(self, httpd: _HTTPServer) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="metrics-http", daemon=True)
        self._thread.start()
        # A forked child (a Celery prefork worker) inherits the listening socket but not the thread
        # that serves it: close its copy, so the port is free again as soon as this process ends.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _close_in_child(ref))

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def close(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close_in_child(ref: weakref.ReferenceType[Server]) -> None:
    server = ref()
    if server is not None:
        server._httpd.socket.close()


def serve(
    metrics: Metrics,
    *,
    port: int,
    host: str = "127.0.0.1",
    checks: Mapping[str, Check] | None = None,
    on_scrape: Sequence[Callable[[], None]] = (),
    check_timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS,
    multiprocess_path: str | os.PathLike[str] | None = None,
) -> Server:
    """Start serving ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` in a daemon thread.

    ``checks`` name the dependencies ``/readyz`` requires (each raises when its dependency is down).
    ``on_scrape`` hooks refresh sampled gauges (queue depth) just before each ``/metrics`` render.
    In multiprocess mode (``prepare_multiprocess_dir`` was called, or ``multiprocess_path`` given)
    ``/metrics`` merges every process's values. Returns at once; raises OSError if the port is taken.
    """
    endpoint = _Endpoint(
        metrics=metrics,
        checks=dict(checks or {}),
        check_timeout=check_timeout,
        on_scrape=tuple(on_scrape),
        multiprocess_path=Path(multiprocess_path) if multiprocess_path is not None else multiprocess_dir(),
    )
    server = Server(_HTTPServer((host, port), endpoint))
    log.info(
        "metrics.serving",
        host=server.host,
        port=server.port,
        checks=sorted(endpoint.checks),
        multiprocess=endpoint.multiprocess_path is not None,
    )
    return server
