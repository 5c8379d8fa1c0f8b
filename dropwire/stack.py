"""The three services as separate processes against real Redis + PostgreSQL: for e2e tests, chaos and bench.

Usage (a test gets ``redis_url``/``pg_url`` from ``tests/conftest.py``)::

    from dropwire.stack import Stack, wait_until

    def test_something(tmp_path, redis_url, pg_url):
        with Stack(tmp_path, redis_url=redis_url, database_url=pg_url) as stack:   # migrates, starts, waits
            stack.drop("page.txt", data)                     # atomic drop: write .part, then rename
            wait_until(lambda: stack.counts()["archive"] == 1, "the file to be archived")
            text = stack.scrape("ingest")                    # /metrics of one service, as text

Each service gets its own environment: the spool under ``tmp_path/spool``, the broker and database
URLs given, a free metrics port (``stack.ports[service]``), a private ``PROMETHEUS_MULTIPROC_DIR``,
JSON logs in ``tmp_path/logs/<service>.log`` (``stack.log(service)`` reads them; they are printed
when a start-up fails). ``start()`` runs the database migrations first (an explicit start-up step),
then starts ``dropwire ingest``, ``dropwire enrich`` and ``dropwire store`` and waits until each
answers ``/readyz``. ``stop()`` sends SIGTERM, waits, then kills what is left; ``kill(service)``
SIGKILLs one service's process group (a crash) and ``restart(service)`` kills it and starts it again,
for the chaos run. ``env`` adds or overrides variables for every service (e.g.
``{"DROPWIRE_SETTLE_SECONDS": "0.5"}``), ``services`` chooses which ones run, ``start_services=False``
leaves starting to the caller (``stack.start()``). A name with a suffix, such as ``enrich#2``, runs
one more replica of that service (its own process, port, log and metrics folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SERVICES = ("ingest", "enrich", "store")
# Settings taken from the test's own environment; every other DROPWIRE_* variable is the harness's.
PASSED_THROUGH = frozenset({"DROPWIRE_NER_MODEL"})
# Starting a worker loads spaCy and the NER model: a few seconds on a busy 2-core machine.
DEFAULT_START_TIMEOUT = 60.0
# Settle quickly in tests: drops are atomic renames or close-writes, the settle time only matters
# for files present at start-up.
TEST_SETTLE_SECONDS = "0.3"


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports handed to servers are drawn below the kernel's ephemeral range: a port from that range, free
# when we look, can be taken a moment later by any outgoing connection (to Redis, to PostgreSQL) of
# another process before our server binds it.
_SERVER_PORTS = range(20000, max(20001, _ephemeral_low()))
_port_rng = random.Random()


def free_port() -> int:
    """A TCP port nothing listens on right now, outside the ephemeral range (see ``_SERVER_PORTS``)."""
    for _ in range(200):
        port = _port_rng.choice(_SERVER_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something truthy and return that; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")


def answers_ready(url: str) -> bool:
    """Whether ``url`` (a service's ``/readyz``) answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def dropwire_command() -> list[str]:
    """The ``dropwire`` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "dropwire"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from dropwire.cli import main; main()"]


class Stack:
    """The pipeline as separate processes; see the module docstring."""

    def __init__(
        self,
        root: Path,
        *,
        redis_url: str,
        database_url: str,
        services: Iterable[str] = SERVICES,
        env: Mapping[str, str] | None = None,
        start_services: bool = True,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        args: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.root = Path(root)
        self.spool = self.root / "spool"
        self.logs_dir = self.root / "logs"
        self.redis_url = redis_url
        self.database_url = database_url
        self.services = tuple(services)
        self.extra_env = dict(env or {})
        self.start_services = start_services
        self.start_timeout = start_timeout
        self.args = {"enrich": ("--concurrency", "2"), **(args or {})}
        self.ports: dict[str, int] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for folder in ("inbox", "processing", "archive", "failed"):
            (self.spool / folder).mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ life cycle

    def env(self, service: str) -> dict[str, str]:
        """The environment one service runs with."""
        multiproc = self.root / "prometheus" / service
        multiproc.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_") or k in PASSED_THROUGH}
        env.update(
            {
                "DROPWIRE_SPOOL_DIR": str(self.spool),
                "DROPWIRE_BROKER_URL": self.redis_url,
                "DROPWIRE_DATABASE_URL": self.database_url,
                "DROPWIRE_METRICS_PORT": str(self.ports[service]),
                "DROPWIRE_METRICS_HOST": "127.0.0.1",
                "DROPWIRE_SETTLE_SECONDS": TEST_SETTLE_SECONDS,
                "DROPWIRE_POLL_INTERVAL": "0.05",
                "DROPWIRE_LOG_FORMAT": "json",
                "DROPWIRE_LOG_LEVEL": "INFO",
                "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
                "PYTHONUNBUFFERED": "1",
                # One Celery node name per replica on this host ("enrich-2@host" for enrich#2).
                "DROPWIRE_WORKER_NAME": f"{service.replace('#', '-')}@%h",
            }
        )
        env.update(self.extra_env)
        return env

    def migrate(self) -> None:
        """Bring the database schema to head (the explicit start-up step the services expect)."""
        from services.store.db import upgrade

        upgrade(self.database_url)

    def start(self, services: Iterable[str] | None = None) -> None:
        """Start ``services`` (default: all of this stack's) and wait until each answers /readyz."""
        names = tuple(services) if services is not None else self.services
        if "store" in names:
            self.migrate()
        for name in names:
            self.start_one(name)
        for name in names:
            try:
                self.wait_ready(name)
            except AssertionError:
                if "Address already in use" not in self.log(name):
                    raise
                # Another process took the port between our look and the service's bind: once more.
                self.ports.pop(name, None)
                self.start_one(name)
                self.wait_ready(name)

    def start_one(self, service: str, *args: str) -> subprocess.Popen[bytes]:
        """Start ``dropwire <service> [args]`` in its own process group, logging to its file."""
        self.ports.setdefault(service, free_port())
        command = service.split("#", 1)[0]  # "enrich#2": a second replica of `dropwire enrich`
        extra = args or tuple(self.args.get(service, self.args.get(command, ())))
        log = (self.logs_dir / f"{service}.log").open("ab")
        proc = subprocess.Popen(
            [*dropwire_command(), command, *extra],
            env=self.env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            start_new_session=True,
        )
        log.close()
        self.procs[service] = proc
        return proc

    def wait_ready(self, service: str, timeout: float | None = None) -> None:
        """Poll ``/readyz`` of ``service`` until it answers 200; fail early (with its log) if it died."""
        deadline = time.monotonic() + (timeout or self.start_timeout)
        url = self.url(service, "/readyz")
        while time.monotonic() < deadline:
            proc = self.procs[service]
            if proc.poll() is not None:
                raise AssertionError(
                    f"{service} exited with {proc.returncode} during start-up:\n{self.log(service)[-4000:]}"
                )
            if answers_ready(url):
                return
            time.sleep(0.1)
        raise AssertionError(f"{service} not ready at {url} in time:\n{self.log(service)[-4000:]}")

    def stop(self, services: Iterable[str] | None = None, timeout: float = 15.0) -> dict[str, int | None]:
        """SIGTERM each service's process group, wait up to ``timeout``, kill what is left; exit codes."""
        names = tuple(services) if services is not None else tuple(self.procs)
        for name in names:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name in names:
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            try:
                codes[name] = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                codes[name] = proc.wait(5)
        return codes

    def kill(self, service: str) -> int | None:
        """SIGKILL ``service``'s whole process group (a crash: no shutdown hooks run); its exit code."""
        proc = self.procs.pop(service, None)
        if proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(10)

    def restart(self, service: str, *, kill: bool = True) -> None:
        """Kill (or stop) ``service``, start it again and wait until it answers /readyz."""
        if kill:
            self.kill(service)
        else:
            self.stop([service])
        self.start_one(service)
        self.wait_ready(service)

    def __enter__(self) -> Stack:
        if self.start_services:
            try:
                self.start()
            except BaseException:
                self.stop()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ looking at it

    def url(self, service: str, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def scrape(self, service: str) -> str:
        """The Prometheus text of one service's /metrics."""
        with urllib.request.urlopen(self.url(service, "/metrics"), timeout=5) as response:
            return str(response.read().decode())

    def log(self, service: str) -> str:
        path = self.logs_dir / f"{service}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def describe(self, lines: int = 15) -> str:
        """The last log lines of every service, for a failure message."""
        parts = []
        for service in self.services:
            tail = self.log(service).splitlines()[-lines:]
            parts.append(f"--- {service} (last {len(tail)} lines)\n" + "\n".join(line[:500] for line in tail))
        return "\n".join(parts)

    def events(self, service: str) -> list[dict[str, Any]]:
        """The JSON log lines of one service, parsed (other lines skipped)."""
        out = []
        for line in self.log(service).splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def drop(self, name: str, data: bytes) -> Path:
        """Drop a file the way an operator's ``mv`` does: write ``.NAME.part`` beside it, then rename."""
        partial = self.spool / "inbox" / f".{name}.part"
        partial.write_bytes(data)
        target = self.spool / "inbox" / name
        os.rename(partial, target)
        return target

    def folder(self, name: str) -> list[str]:
        """Names in one spool folder (dotfiles and error notes excluded), sorted."""
        return sorted(
            p.name
            for p in (self.spool / name).iterdir()
            if not p.name.startswith(".") and not p.name.endswith(".error.json")
        )

    def counts(self) -> dict[str, int]:
        return {name: len(self.folder(name)) for name in ("inbox", "processing", "archive", "failed")}

    def error_note(self, claim: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.spool / "failed" / f"{claim}.error.json").read_text(encoding="utf-8")
        )
        return data


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A throwaway PostgreSQL database on the server of ``admin_url``, dropped (with force) afterwards."""
    import sqlalchemy as sa

    name = f"dropwire_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Redis db 0 is left to humans; tests and surveys take 1..15, one each, flushed before and after.
# Several processes may run at once (developers in parallel): a db is leased with SET NX in db 0.
REDIS_LEASED_DBS = range(1, 16)
REDIS_LEASE_SECONDS = 1800


@contextmanager
def leased_redis_db(redis_server: str, wait_seconds: float = 120.0) -> Iterator[str]:
    """A Redis URL (``redis_server`` + ``/N``) with a database of the caller's own, empty before and
    after; ``TimeoutError`` when none of 1..15 frees up within ``wait_seconds``."""
    import redis

    lessor = redis.Redis.from_url(f"{redis_server}/0")
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    db = None
    while db is None:
        for candidate in REDIS_LEASED_DBS:
            if lessor.set(f"dropwire:test-db-lease:{candidate}", owner, nx=True, ex=REDIS_LEASE_SECONDS):
                db = candidate
                break
        else:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no free Redis database (1..15) within {wait_seconds:.0f} s")
            time.sleep(0.5)
    client = redis.Redis.from_url(f"{redis_server}/{db}")
    client.flushdb()
    try:
        yield f"{redis_server}/{db}"
    finally:
        client.flushdb()
        client.close()
        if lessor.get(f"dropwire:test-db-lease:{db}") == owner.encode():
            lessor.delete(f"dropwire:test-db-lease:{db}")
        lessor.close()
