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
import socket
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client.exposition import choose_encoder

from shared.health import (
    DEFAULT_CHECK_TIMEOUT_SECONDS,
    DEFAULT_REFRESH_TIMEOUT_SECONDS,
    Check,
    CheckResult,
    alive_check,
    database_check,
    heartbeat_age_probe,
    queue_depth_probe,
    redis_check,
    run_checks,
)
from shared.logging import get_logger
from shared.metrics import Metrics
from shared.multiproc import (
    MULTIPROC_ENV,
    mark_process_dead,
    multiprocess_dir,
    prepare_multiprocess_dir,
    reap_dead_processes,
    scrape_registry,
)

log = get_logger(__name__)

# The checks and the multiprocess helpers live in their own modules; they are named here too, so a
# service imports its whole endpoint from one place.
__all__ = [
    "DEFAULT_CHECK_TIMEOUT_SECONDS",
    "DEFAULT_REFRESH_TIMEOUT_SECONDS",
    "MULTIPROC_ENV",
    "Check",
    "CheckResult",
    "Server",
    "alive_check",
    "database_check",
    "heartbeat_age_probe",
    "mark_process_dead",
    "multiprocess_dir",
    "prepare_multiprocess_dir",
    "queue_depth_probe",
    "reap_dead_processes",
    "redis_check",
    "run_checks",
    "scrape_registry",
    "serve",
]


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
