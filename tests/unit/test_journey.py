"""Provenance's small parts: the journey field in the contract, the spool's journal, the timeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.enrich.journey import with_enrich_steps
from shared.journal import Journal, step
from shared.messages import DocumentDone, DocumentEnriched, decode
from shared.readmodel.journey import trace

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 1, 10, 2, tzinfo=UTC)
SHA = "a" * 64


def enriched() -> DocumentEnriched:
    return DocumentEnriched(
        doc_id=SHA,
        claim="0badc0de__wire.txt",
        name="wire.txt",
        received_at=AT,
        mtime=AT,
        size=10,
        encoding="utf-8",
        articles=(),
        parser_version="1",
        model_version="m",
    )


def test_a_message_without_a_journey_still_decodes() -> None:
    """A DocumentEnriched sent before provenance (no ``journey`` key) decodes with an empty journey."""
    data = json.loads(enriched().model_dump_json())
    del data["journey"]
    assert decode(DocumentEnriched, json.dumps(data)).journey == ()


def test_enrich_adds_its_steps_to_the_record_it_sends() -> None:
    """Enrich's steps ride in the record: started, then enriched with host, pid, ms and versions."""
    out = with_enrich_steps(enriched(), AT, 0.25)
    assert [e.kind for e in out.journey] == ["enrich_started", "enriched"]
    facts = out.journey[1].facts
    assert (facts["ms"], facts["parser"], facts["model"], facts["articles"]) == (250.0, "1", "m", 0)
    assert decode(DocumentEnriched, out.to_json()) == out
    done = DocumentDone(claim="c", name="n", outcome="failed", stage="enrich", finished_at=AT)
    assert [e.kind for e in with_enrich_steps(done, AT, 0.1).journey] == ["enrich_started"]


def test_the_journal_appends_lines_skips_torn_ones_and_prunes_whole_days(tmp_path: Path) -> None:
    """Lines come back in order; a torn line is skipped; pruning deletes days past the retention."""
    journal = Journal(tmp_path)
    journal.record("0badc0de__wire.txt", [step("dropped", AT), step("claimed", AT + timedelta(seconds=1))])
    journal.record("0badc0de__wire.txt", [step("archived", AT + timedelta(seconds=3))], SHA)
    journal.record("0badc0de__old.txt", [step("archived", AT - timedelta(days=40))], SHA)
    with (journal.dir / "2026-12-01.jsonl").open("a") as fh:
        fh.write('{"claim": "torn", "ev')
    assert [len(line.events) for line in journal.lines()] == [1, 2, 1]
    assert journal.prune(30, now=AT) == 1
    assert [line.claim for line in journal.lines()] == ["0badc0de__wire.txt"] * 2


def test_trace_from_the_journal_alone_times_each_step(tmp_path: Path) -> None:
    """Without a database the journal tells the journey, each step timed from the one before."""
    journal = Journal(tmp_path)
    journal.record("0badc0de__wire.txt", [step("dropped", AT), step("claimed", AT + timedelta(seconds=2))])
    journal.record("0badc0de__wire.txt", [step("failed", AT + timedelta(seconds=2.5), stage="ingest")])
    [journey] = trace("wire.txt", engine=None, spool_root=tmp_path)
    assert [(s.kind, s.since_previous) for s in journey.steps] == [
        ("dropped", None),
        ("claimed", 2.0),
        ("failed", 0.5),
    ]
    assert journey.total_seconds == 2.5 and journey.folder is None


def test_a_journal_that_cannot_be_written_does_not_stop_the_work(tmp_path: Path) -> None:
    """A journal step that cannot be written (here: its folder is a file) is logged and skipped."""
    (tmp_path / ".journal").write_text("not a folder")
    Journal(tmp_path).record("0badc0de__wire.txt", [step("dropped", AT)])
    assert list(Journal(tmp_path).lines()) == []


def test_an_empty_journey_is_left_out_of_the_wire_form() -> None:
    """Without steps no ``journey`` key travels, so consumers older than provenance still read it;
    the store's batch of outcomes for ingest never carries journeys."""
    from shared.messages import DocumentsDone

    assert "journey" not in json.loads(enriched().to_json())
    assert "journey" in json.loads(with_enrich_steps(enriched(), AT, 0.1).to_json())
    done = DocumentDone(claim="c", name="n", outcome="failed", stage="enrich", finished_at=AT)
    batch = DocumentsDone(items=(with_enrich_steps(done, AT, 0.1),))  # type: ignore[arg-type]
    assert "journey" not in json.loads(batch.to_json())["items"][0]
