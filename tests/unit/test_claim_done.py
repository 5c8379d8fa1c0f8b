"""Filing a claimed file away from its DocumentDone: archive, delete, failed with a note, idempotent, contained."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.ingest import done as done_module
from services.ingest.done import DoneHandler
from shared.celery_app import TASK_DONE_BATCH
from shared.messages import DocumentDone, DocumentsDone, decode
from shared.metrics import create_metrics
from shared.spool import Spool

pytestmark = pytest.mark.unit

NOW = datetime.now(UTC)
DOC = "ab" * 32


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    s = Spool(tmp_path / "spool")
    s.ensure()
    (s.processing / "abcd1234__a.txt").write_text("tekst")
    return s


def done(outcome: str, claim: str = "abcd1234__a.txt", **extra: object) -> str:
    return DocumentDone(
        doc_id=DOC,
        claim=claim,
        name="a.txt",
        outcome=outcome,
        finished_at=NOW,
        mtime=NOW - timedelta(seconds=2),
        **extra,
    ).to_json()


def value(metric, **labels) -> float:
    return metric.labels(**labels)._value.get() if labels else metric._value.get()


@pytest.mark.parametrize("outcome", ["stored", "duplicate"])
def test_stored_and_duplicate_files_are_archived_and_counted(spool: Spool, outcome: str) -> None:
    """The claimed file moves to archive/, counted by outcome, with its drop-to-stored latency observed."""
    metrics = create_metrics()
    DoneHandler(spool, metrics).handle(done(outcome))
    assert [p.name for p in spool.archive.iterdir()] == ["abcd1234__a.txt"]
    assert value(metrics.files_archived, outcome=outcome) == 1
    [count] = [s.value for s in metrics.end_to_end_latency.collect()[0].samples if s.name.endswith("_count")]
    assert count == 1


def test_archived_files_are_deleted_when_so_configured(spool: Spool) -> None:
    """With delete_archived the stored file is removed instead of archived."""
    DoneHandler(spool, create_metrics(), delete_archived=True).handle(done("stored"))
    assert list(spool.processing.iterdir()) == [] and list(spool.archive.iterdir()) == []


def test_a_failure_moves_the_file_to_failed_with_its_note(spool: Spool) -> None:
    """outcome failed puts the file in failed/ and writes stage, reason, detail and doc id beside it."""
    metrics = create_metrics()
    DoneHandler(spool, metrics).handle(done("failed", stage="store", reason="internal", detail="refused"))
    [entry] = spool.failed_entries()
    assert (entry["claim"], entry["stage"], entry["reason"], entry["detail"], entry["doc_id"]) == (
        "abcd1234__a.txt",
        "store",
        "internal",
        "refused",
        DOC,
    )
    assert value(metrics.files_failed, stage="store", reason="internal") == 1


def test_a_repeated_done_is_harmless(spool: Spool) -> None:
    """A second DocumentDone for a file already filed away changes nothing."""
    handler = DoneHandler(spool, create_metrics())
    handler.handle(done("stored"))
    handler.handle(done("failed", stage="enrich", reason="parse_error"))
    assert [p.name for p in spool.archive.iterdir()] == ["abcd1234__a.txt"]
    assert spool.failed_entries() == []


@pytest.mark.parametrize("claim", ["../archive/abcd1234__a.txt", "../../buiten.txt", ".verborgen"])
def test_a_claim_that_would_leave_processing_is_refused(spool: Spool, claim: str) -> None:
    """A message naming a path outside processing/ moves nothing and is counted as a dead letter."""
    metrics = create_metrics()
    DoneHandler(spool, metrics).handle(done("stored", claim=claim))
    assert [p.name for p in spool.processing.iterdir()] == ["abcd1234__a.txt"]
    assert value(metrics.dead_letters, stage="ingest", reason="bad_message") == 1


def test_a_message_that_is_not_a_done_record_is_dropped(spool: Spool) -> None:
    """Garbage on ingest.done is logged and counted, never raised."""
    metrics = create_metrics()
    DoneHandler(spool, metrics).handle("{not json")
    assert value(metrics.dead_letters, stage="ingest", reason="bad_message") == 1


def batch(*payloads: str) -> str:
    return DocumentsDone(items=tuple(decode(DocumentDone, p) for p in payloads)).to_json()


def test_a_batch_message_files_each_of_its_files_away(spool: Spool) -> None:
    """One DocumentsDone from a store batch: every file archived or failed as its own message would."""
    (spool.processing / "abcd1234__b.txt").write_text("tekst")
    (spool.processing / "abcd1234__c.txt").write_text("tekst")
    metrics = create_metrics()
    handlers = DoneHandler(spool, metrics).handlers()
    handlers[TASK_DONE_BATCH](
        batch(
            done("stored"),
            done("duplicate", claim="abcd1234__b.txt"),
            done("failed", claim="abcd1234__c.txt", stage="store", reason="internal"),
        )
    )
    assert sorted(p.name for p in spool.archive.iterdir()) == ["abcd1234__a.txt", "abcd1234__b.txt"]
    assert [e["claim"] for e in spool.failed_entries()] == ["abcd1234__c.txt"]
    assert value(metrics.files_archived, outcome="stored") == 1
    assert value(metrics.files_archived, outcome="duplicate") == 1
    assert value(metrics.files_failed, stage="store", reason="internal") == 1
    assert list(spool.processing.iterdir()) == []


def test_a_file_that_cannot_be_filed_away_does_not_hold_back_the_rest_of_its_batch(
    spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OS error on one file leaves it in processing/ (its lease brings it round) and the others move."""
    (spool.processing / "abcd1234__b.txt").write_text("tekst")
    real_rename = os.rename

    def rename(source: object, target: object) -> None:
        if str(source).endswith("abcd1234__a.txt"):
            raise PermissionError("read-only archive")
        real_rename(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(done_module.os, "rename", rename)
    DoneHandler(spool, create_metrics()).handle_batch(
        batch(done("stored"), done("stored", claim="abcd1234__b.txt"))
    )
    assert [p.name for p in spool.processing.iterdir()] == ["abcd1234__a.txt"]
    assert [p.name for p in spool.archive.iterdir()] == ["abcd1234__b.txt"]


def test_a_redelivered_batch_is_harmless(spool: Spool) -> None:
    handler = DoneHandler(spool, create_metrics())
    handler.handle_batch(batch(done("stored")))
    handler.handle_batch(batch(done("stored")))
    assert [p.name for p in spool.archive.iterdir()] == ["abcd1234__a.txt"]


@pytest.mark.parametrize(
    "payload",
    ['{"schema_version": 1, "items": []}', '{"schema_version": 2, "items": []}', "[]", "{not json"],
    ids=["empty", "other-version", "not-an-object", "not-json"],
)
def test_a_batch_message_that_does_not_fit_is_dropped_and_counted(spool: Spool, payload: str) -> None:
    metrics = create_metrics()
    DoneHandler(spool, metrics).handle_batch(payload)
    assert [p.name for p in spool.processing.iterdir()] == ["abcd1234__a.txt"]
    assert value(metrics.dead_letters, stage="ingest", reason="bad_message") == 1
