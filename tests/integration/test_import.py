"""``dropwire import``: an archive fed through the inbox at the pipeline's pace, resumable, never twice.

A drain thread plays ingest (it claims what the inbox holds, a few files per round, as ingest does under
backpressure); the database is a real SQLite file migrated to head.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropwire.cli import app
from dropwire.importer import Importer, Summary, find_files, in_flight
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.spool import Spool
from tests.unit.test_repository_sqlite import make_doc

pytestmark = pytest.mark.integration

WINDOW = 50


class Drain:
    """Takes files out of the inbox at a steady pace, records the bytes of each, and the deepest inbox seen."""

    def __init__(self, spool: Spool, per_round: int = 25, pause: float = 0.005) -> None:
        self.spool = spool
        self.per_round = per_round
        self.pause = pause
        self.taken: Counter[str] = Counter()
        self.deepest = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            names = sorted(n for n in os.listdir(self.spool.inbox) if not n.startswith("."))
            self.deepest = max(self.deepest, len(names))
            for name in names[: self.per_round]:
                if name.endswith(".part"):
                    continue
                path = self.spool.inbox / name
                self.taken[hashlib.sha256(path.read_bytes()).hexdigest()] += 1
                path.rename(self.spool.archive / name)
            time.sleep(self.pause)

    def __enter__(self) -> Drain:
        self.spool.ensure()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Path]:
    source = tmp_path / "old-wire"
    for i in range(1000):
        folder = source / f"{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"item{i:04d}.txt").write_text(f"AMSTERDAM (ANP) - Bericht nummer {i}.\n", encoding="utf-8")
    yield source


def test_an_interrupted_import_resumes_without_importing_anything_twice(
    archive: Path, tmp_path: Path
) -> None:
    """1,000 files, stopped halfway and run again: each imported once, the inbox never past the window."""
    spool = Spool(tmp_path / "spool")
    files = find_files(archive, recursive=True, pattern="*.txt")
    assert len(files) == 1000
    with Drain(spool) as drain:
        first = Importer(spool=spool, source=archive, window=WINDOW)

        def halfway(summary: Summary) -> None:
            if summary.imported >= 500:
                first.stop.set()

        first.progress = halfway
        one = first.run(files)
        assert one.interrupted and 500 <= one.imported < 1000
        two = Importer(spool=spool, source=archive, window=WINDOW).run(files)
        assert not two.interrupted
        assert (one.imported + two.imported, two.skipped, two.failed) == (1000, one.imported, {})
        wait = time.monotonic() + 10
        while in_flight(spool) and time.monotonic() < wait:
            time.sleep(0.05)
    assert len(drain.taken) == 1000 and set(drain.taken.values()) == {1}
    assert drain.deepest <= WINDOW


def test_bytes_already_stored_or_repeated_are_skipped(tmp_path: Path) -> None:
    """Files whose bytes the database holds, and a second copy of the same bytes, are not imported."""
    database_url = f"sqlite:///{tmp_path / 'dropwire.db'}"
    upgrade(database_url)
    source = tmp_path / "old"
    source.mkdir()
    for name, text in {"a.txt": "stored before", "b.txt": "new", "c.txt": "new", "d.txt": "other"}.items():
        (source / name).write_text(text, encoding="utf-8")
    stored = hashlib.sha256(b"stored before").hexdigest()
    engine = make_engine(database_url)
    Repository(engine).store([make_doc("x").model_copy(update={"doc_id": stored})])
    spool = Spool(tmp_path / "spool")
    summary = Importer(spool=spool, source=source, window=10, engine=engine).run(
        find_files(source, recursive=False, pattern="*")
    )
    engine.dispose()
    assert (summary.imported, summary.skipped) == (2, 2)
    assert sorted(os.listdir(spool.inbox)) == ["b.txt", "d.txt"]
    # The modification time travels with the file (relative times count back from it).
    assert (spool.inbox / "b.txt").stat().st_mtime == (source / "b.txt").stat().st_mtime


def test_the_import_command_moves_a_tree_and_reports(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dropwire import --recursive --pattern --move`` empties the source and prints its summary."""
    spool = Spool(tmp_path / "spool")
    monkeypatch.setenv("DROPWIRE_SPOOL_DIR", str(spool.root))
    monkeypatch.setenv("DROPWIRE_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    with Drain(spool):
        result = CliRunner().invoke(
            app,
            [
                "import",
                str(archive / "00"),
                "--recursive",
                "--pattern",
                "item000*.txt",
                "--move",
                "--window",
                "3",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "10 imported, 0 skipped" in result.output
    assert sorted(os.listdir(archive / "00")) == [f"item{i:04d}.txt" for i in range(10, 100)]
