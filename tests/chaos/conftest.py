"""Options and fixtures of the chaos run (``make chaos``; a shorter form runs in ``make test``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer

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
