"""A file's journey (``dropwire trace``), told from the journal and the database of a real pipeline run.

The pipeline is ``dropwire run``'s in-process one (the same handlers the services use, the shipped NER
model, SQLite), with the spool in a temporary folder.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropwire.cli import app
from dropwire.embedded import Embedded, EmbeddedConfig
from dropwire.stack import free_port, wait_until
from services.ingest.service import IngestService
from shared.messages import DocumentDone, DocumentReceived
from shared.metrics import create_metrics
from shared.readmodel import open_engine
from shared.readmodel.journey import ClaimJourney, trace
from shared.settings import IngestSettings
from shared.spool import Spool

pytestmark = pytest.mark.integration

PAGE = Path(__file__).parents[1] / "fixtures" / "pages" / "agencies_places_times.txt"
FAST = {"settle_seconds": 0.05, "poll_interval": 0.05, "close_settle_seconds": 0.0, "heartbeat_seconds": 0}


def drop(spool: Spool, name: str, data: bytes) -> None:
    """Drop a file as a writer should: under a partial name, renamed when complete."""
    tmp = spool.inbox / (name + ".part")
    tmp.write_bytes(data)
    tmp.rename(spool.inbox / name)


class Pipeline:
    def __init__(self, root: Path, **ingest: float) -> None:
        self.spool = Spool(root / "spool")
        self.database_url = f"sqlite:///{root / 'dropwire.db'}"
        config = EmbeddedConfig(
            spool_dir=self.spool.root,
            database_url=self.database_url,
            ingest=IngestSettings(**{**FAST, **ingest}),
            metrics_port=free_port(),
        )
        self.run = Embedded(config)

    def drop(self, name: str, data: bytes) -> None:
        drop(self.spool, name, data)

    def settled(self, files: int) -> bool:
        counts = self.spool.counts()
        return counts["archive"] + counts["failed"] >= files and counts["processing"] == 0

    def trace(self, query: str) -> list[ClaimJourney]:
        engine = open_engine(self.database_url)
        try:
            return trace(query, engine=engine, spool_root=self.spool.root)
        finally:
            engine.dispose()


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(tmp_path)
    p.run.start()
    try:
        yield p
    finally:
        p.run.stop()


def kinds(journey: ClaimJourney) -> list[str]:
    return [s.kind for s in journey.steps]


def test_a_stored_file_shows_every_step_from_drop_to_archive(pipeline: Pipeline) -> None:
    """A stored file's journey runs dropped → claimed → queued → enrich → stored → archived, timed."""
    pipeline.drop("wire.txt", PAGE.read_bytes())
    wait_until(lambda: pipeline.settled(1), "the file to be archived")
    [journey] = pipeline.trace("wire.txt")
    assert kinds(journey) == [
        "dropped",
        "claimed",
        "queued",
        "enrich_started",
        "enriched",
        "stored",
        "archived",
    ]
    assert journey.folder == "archive"
    enriched = journey.steps[4].facts
    assert enriched["articles"] >= 1 and enriched["ms"] > 0 and enriched["model"] and enriched["pid"]
    assert journey.steps[5].facts["outcome"] == "new"
    assert all(s.since_previous is not None and s.since_previous >= 0 for s in journey.steps[1:])
    # The same journey by content hash and by document id.
    assert pipeline.trace(journey.doc_id or "")[0].steps == journey.steps
    assert pipeline.trace("1")[0].claim == journey.claim


def test_the_same_bytes_dropped_twice_are_two_journeys(pipeline: Pipeline) -> None:
    """Two drops of the same bytes are shown apart: one stored as new, the other as a repeat."""
    pipeline.drop("first.txt", PAGE.read_bytes())
    wait_until(lambda: pipeline.settled(1), "the first drop to be archived")
    pipeline.drop("second.txt", PAGE.read_bytes())
    wait_until(lambda: pipeline.settled(2), "the second drop to be archived")
    first, second = pipeline.trace(pipeline.trace("first.txt")[0].doc_id or "")
    assert (first.name, second.name) == ("first.txt", "second.txt")
    assert [s.facts["outcome"] for j in (first, second) for s in j.steps if s.kind == "stored"] == [
        "new",
        "repeat",
    ]


def test_a_failed_file_shows_why_and_where(pipeline: Pipeline) -> None:
    """A file ingest cannot decode ends its journey in failed/ with the stage and reason."""
    pipeline.drop("blob.txt", b"\x00\x01\x02binary")
    wait_until(lambda: pipeline.settled(1), "the file to fail")
    [journey] = pipeline.trace("blob.txt")
    assert kinds(journey) == ["dropped", "claimed", "failed"]
    assert journey.folder == "failed"
    assert journey.steps[-1].facts["stage"] == "ingest" and journey.steps[-1].facts["reason"] == "binary"


def test_trace_json_lines_and_a_file_still_in_the_inbox(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dropwire trace --json`` prints one JSON object per step; a file not yet claimed shows as dropped."""
    pipeline.drop("wire.txt", PAGE.read_bytes())
    wait_until(lambda: pipeline.settled(1), "the file to be archived")
    monkeypatch.setenv("DROPWIRE_SPOOL_DIR", str(pipeline.spool.root))
    monkeypatch.setenv("DROPWIRE_DATABASE_URL", pipeline.database_url)
    result = CliRunner().invoke(app, ["trace", "wire.txt", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in records][-1] == "archived"
    assert {"doc_id", "at", "claim", "facts"} <= set(records[0])
    assert CliRunner().invoke(app, ["trace", "never-dropped.txt"]).exit_code == 1


class LostPublisher:
    """The enrich worker that took the message and was killed: the message is gone with it."""

    def __init__(self) -> None:
        self.taken: list[DocumentReceived] = []

    def received(self, message: DocumentReceived) -> None:
        self.taken.append(message)

    def failed(self, done: DocumentDone) -> None:
        raise AssertionError("no failure expected")

    def backlog(self) -> int | None:
        return 0


def test_a_file_whose_enrich_worker_died_shows_the_lease_republish(tmp_path: Path) -> None:
    """A message lost with its enrich worker: after the lease, ingest publishes it again, and the
    journey shows both publishes and the re-publish between them."""
    spool = Spool(tmp_path / "spool")
    lost = LostPublisher()
    first = IngestService(spool, IngestSettings(**FAST), lost, create_metrics())  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=first.run, args=(stop,), daemon=True)
    thread.start()
    first.ready.wait(5)
    drop(spool, "wire.txt", PAGE.read_bytes())
    wait_until(lambda: lost.taken, "the first publish")
    stop.set()
    thread.join(5)
    [in_flight] = trace("wire.txt", engine=None, spool_root=spool.root)
    assert (kinds(in_flight), in_flight.folder) == (["dropped", "claimed", "queued"], "processing")
    # Its lease ran out long ago (the worker died minutes before).
    claimed = spool.processing / in_flight.claim
    os.utime(claimed, (claimed.stat().st_atime - 600, claimed.stat().st_mtime - 600))

    pipeline = Pipeline(tmp_path, lease_seconds=60)
    pipeline.run.start()
    try:
        wait_until(lambda: pipeline.settled(1), "the re-published file to be archived")
    finally:
        pipeline.run.stop()
    [journey] = pipeline.trace("wire.txt")
    assert kinds(journey) == [
        "dropped",
        "claimed",
        "queued",
        "republished",
        "queued",
        "enrich_started",
        "enriched",
        "stored",
        "archived",
    ]
    assert journey.steps[2].facts["publish"] == 1


def test_provenance_off_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With DROPWIRE_PROVENANCE=false no stage records a step: no journal, no events."""
    monkeypatch.setenv("DROPWIRE_PROVENANCE", "false")
    pipeline = Pipeline(tmp_path)
    pipeline.run.start()
    try:
        pipeline.drop("wire.txt", PAGE.read_bytes())
        wait_until(lambda: pipeline.settled(1), "the file to be archived")
    finally:
        pipeline.run.stop()
    assert not (pipeline.spool.root / ".journal").exists()
    assert pipeline.trace("wire.txt") == []
