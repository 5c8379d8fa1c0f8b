"""Options and fixtures of the chaos run (``make chaos``; a shorter form runs in ``make test``)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dropwire.stack import free_port, wait_until

# make test: enough files for every kind of fault to hit work in flight, in about two minutes here.
DEFAULT_CHAOS_FILES = 200
# pytest-timeout for the chaos test: start-up, reference and settling, plus dropping (0.1 s a file) with
# room for a machine busy with other work; the project-wide 600 s would cut a 2,000-file run short.
TIMEOUT_BASE_SECONDS = 600
TIMEOUT_PER_FILE_SECONDS = 0.5
# The seed of the corpus and the fault schedule: a fixed one makes a failing run repeatable.
DEFAULT_CHAOS_SEED = 20261122


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-files",
        type=int,
        default=DEFAULT_CHAOS_FILES,
        help="How many files the chaos run drops (make chaos: 2000).",
    )
    parser.addoption(
        "--chaos-seed",
        type=int,
        default=DEFAULT_CHAOS_SEED,
        help="Seed of the chaos run's files and fault schedule.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give the chaos test a time limit that grows with ``--chaos-files``."""
    limit = TIMEOUT_BASE_SECONDS + TIMEOUT_PER_FILE_SECONDS * int(config.getoption("--chaos-files"))
    for item in items:
        if item.get_closest_marker("chaos") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(limit))


@pytest.fixture
def chaos_files(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--chaos-files"))


@pytest.fixture
def chaos_seed(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--chaos-seed"))


class RedisServer:
    """A private ``redis-server`` on its own port, append-only file fsynced at every write.

    ``crash()`` SIGKILLs it (nothing flushed beyond what the AOF already holds) and ``start()`` brings
    it back on the same port and data directory, so the queues survive the restart.
    """

    def __init__(self, directory: Path, *extra_args: str) -> None:
        self.directory = directory
        self.extra_args = extra_args
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        log = (self.directory / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                "--daemonize", "no",
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            wait_until(lambda: _pings(client), "the private redis-server to answer", timeout=20)
        finally:
            client.close()

    def crash(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.crash()
        time.sleep(0.5)  # a real outage, however short: clients see their connections drop
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis with AOF on (``appendfsync always``), stopped after the test."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
