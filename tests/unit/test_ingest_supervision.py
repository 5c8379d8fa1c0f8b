"""One file never stops ingest: each step's error stays with its file, races are survived, nothing is
re-published forever, and a loop that dies anyway says so (readiness) instead of idling as a zombie."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dropwire.stack import wait_until
from services.ingest import claim as claims
from services.ingest.done import DoneHandler
from services.ingest.service import MAX_PUBLISHES, IngestService
from services.ingest.watcher import InboxWatcher
from shared.errors import DependencyUnavailable
from shared.messages import DocumentDone, DocumentReceived
from shared.metrics import create_metrics
from shared.observability import alive_check, serve
from shared.spool import Spool, inbox_name, is_claim_name

pytestmark = [pytest.mark.unit]

PAGE = b"Kop\nAMSTERDAM (ANP) - Een bericht van vandaag.\n"


class Publisher:
    """Records what ingest queues and reports; ``down`` makes the broker unreachable."""

    def __init__(self) -> None:
        self.received_messages: list[DocumentReceived] = []
        self.failures: list[DocumentDone] = []
        self.down = False

    def received(self, message: DocumentReceived) -> None:
        if self.down:
            raise DependencyUnavailable("broker down")
        message.to_json()  # what goes on the wire must serialise
        self.received_messages.append(message)

    def failed(self, done: DocumentDone) -> None:
        done.to_json()
        self.failures.append(done)

    def backlog(self) -> int | None:
        return 0


def make_service(tmp_path: Path, **settings: object) -> tuple[IngestService, Spool, Publisher]:
    from shared.settings import IngestSettings

    spool = Spool(tmp_path / "spool")
    publisher = Publisher()
    config = IngestSettings(heartbeat_seconds=0, **settings)  # type: ignore[arg-type]
    return IngestService(spool, config, publisher, create_metrics()), spool, publisher


def test_a_step_that_breaks_on_one_file_sets_that_file_aside_and_the_next_is_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error while publishing one file sends it to failed/ (reason internal, with its
    note and a failure report) and the loop claims the next file."""
    service, spool, publisher = make_service(tmp_path)
    spool.ensure()
    (spool.inbox / "kapot.txt").write_bytes(PAGE)
    (spool.inbox / "goed.txt").write_bytes(PAGE + b"Nog een regel.\n")
    real = claims.read_claimed

    def read(spool_: Spool, claim_name: str, **kw: object) -> DocumentReceived:
        if claim_name.endswith("kapot.txt"):
            raise RuntimeError("a bug that only this file triggers")
        return real(spool_, claim_name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(claims, "read_claimed", read)
    service.contain("inbox", "kapot.txt", lambda: service.take("kapot.txt"))
    service.contain("inbox", "goed.txt", lambda: service.take("goed.txt"))
    [failed] = spool.failed_entries()
    assert (failed["name"], failed["stage"], failed["reason"]) == ("kapot.txt", "ingest", "internal")
    assert "a bug that only this file triggers" in failed["detail"]
    assert [d.reason for d in publisher.failures] == ["internal"]
    assert [m.name for m in publisher.received_messages] == ["goed.txt"]
    assert service.metrics.files_failed.labels(stage="ingest", reason="internal")._value.get() == 1


def test_a_file_that_cannot_even_be_set_aside_is_skipped_once_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the move to failed/ fails too, the file stays where it is, this process skips it from then on
    (no hot loop) and the failure is counted."""
    service, spool, _ = make_service(tmp_path)
    spool.ensure()

    def broken_note(*_: object, **__: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Spool, "write_error", broken_note)
    service.set_aside("inbox", "vast.txt", RuntimeError("boom"))
    assert ("inbox", "vast.txt") in service.skipped
    assert service.metrics.task_failures.labels(stage="ingest", reason="internal")._value.get() == 1


def test_a_file_archived_between_the_read_and_the_lease_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The done thread files a claim away while a lease re-publish is between its read and its utime:
    no FileNotFoundError escapes, nothing is queued again, the archived file stays archived."""
    service, spool, publisher = make_service(tmp_path)
    spool.ensure()
    claim_name = "0a0b0c0d__laat.txt"
    (spool.processing / claim_name).write_bytes(PAGE)
    real = claims.read_claimed

    def read_then_archive(spool_: Spool, name: str, **kw: object) -> DocumentReceived:
        message = real(spool_, name, **kw)  # type: ignore[arg-type]
        os.rename(spool.processing / name, spool.archive / name)  # the done thread, right now
        return message

    monkeypatch.setattr(claims, "read_claimed", read_then_archive)
    service.republish(claim_name)
    assert publisher.received_messages == []
    assert (spool.archive / claim_name).exists()
    assert claim_name not in service.unpublished


def test_a_file_whose_outcome_never_comes_back_is_failed_after_max_publishes(tmp_path: Path) -> None:
    """Lease after lease without an outcome: after MAX_PUBLISHES the file goes to failed/ with
    retries_exhausted instead of being re-published forever."""
    service, spool, publisher = make_service(tmp_path)
    spool.ensure()
    claim_name = "1a2b3c4d__nooit.txt"
    (spool.processing / claim_name).write_bytes(PAGE)
    for _ in range(MAX_PUBLISHES + 3):
        service.republish(claim_name)
    assert len(publisher.received_messages) == MAX_PUBLISHES
    [entry] = spool.failed_entries()
    assert (entry["claim"], entry["reason"]) == (claim_name, "retries_exhausted")
    assert [d.reason for d in publisher.failures] == ["retries_exhausted"]


def test_a_lease_republish_racing_a_failure_leaves_the_note_of_the_failure(tmp_path: Path) -> None:
    """The done thread moved a claim to failed/ with its note just after the lease scan listed it: the
    re-publish finds it gone and neither overwrites nor removes that note."""
    service, spool, publisher = make_service(tmp_path)
    spool.ensure()
    claim_name = "2b3c4d5e__laat.txt"
    (spool.failed / claim_name).write_bytes(PAGE)
    spool.write_error(claim_name, stage="enrich", reason="parse_error", detail="geen artikelen", doc_id=None)
    service.republish(claim_name)  # listed as expired a moment before the move
    [entry] = spool.failed_entries()
    assert (entry["stage"], entry["reason"]) == ("enrich", "parse_error")
    assert publisher.received_messages == [] and publisher.failures == []


def test_an_old_claim_under_a_name_that_cannot_travel_is_renamed_then_published(tmp_path: Path) -> None:
    """A claim left in processing/ by an older version with raw bytes in its name (its message could
    never be sent) is renamed to an escaped claim and published under it."""
    service, spool, publisher = make_service(tmp_path)
    spool.ensure()
    legacy = os.fsdecode(b"0a0b0c0d__oud\xffbestand.txt")
    (spool.processing / legacy).write_bytes(PAGE)
    service.republish(legacy)
    [message] = publisher.received_messages
    assert is_claim_name(message.claim) and message.name == "oud%FFbestand.txt"
    assert inbox_name(message.claim) == os.fsdecode(b"oud\xffbestand.txt")
    assert os.listdir(spool.processing) == [message.claim]


def test_latency_runs_from_first_sight_not_from_an_old_mtime(tmp_path: Path) -> None:
    """A file moved in with a years-old mtime is sent with the time ingest first saw it."""
    service, spool, publisher = make_service(tmp_path, watch_mode="poll")
    spool.ensure()
    path = spool.inbox / "oud.txt"
    path.write_bytes(PAGE)
    old = (datetime.now(UTC) - timedelta(days=3 * 365)).timestamp()
    os.utime(path, (old, old))
    service.watcher.start()
    try:
        before = datetime.now(UTC)
        service.watcher.poll(0.01)
        service.take("oud.txt")
    finally:
        service.watcher.stop()
    [message] = publisher.received_messages
    assert message.mtime >= before - timedelta(seconds=1)


def test_the_done_handler_records_latency_from_the_message_not_from_the_file(tmp_path: Path) -> None:
    """End-to-end latency observed on filing away is small for a file dropped just now, whatever its mtime."""
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    metrics = create_metrics()
    (spool.processing / "0a0b0c0d__x.txt").write_bytes(PAGE)
    done = DocumentDone(
        doc_id="a" * 64,
        claim="0a0b0c0d__x.txt",
        name="x.txt",
        outcome="stored",
        finished_at=datetime.now(UTC),
        mtime=datetime.now(UTC) - timedelta(seconds=1),
    )
    DoneHandler(spool, metrics).handle_done(done)
    assert 0.5 < metrics.end_to_end_latency._sum.get() < 60


def test_a_file_vanishing_during_the_rescan_does_not_end_the_watcher(tmp_path: Path) -> None:
    """The periodic rescan lists a file, the file goes before its stat: the poll returns normally."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "weg.txt").write_bytes(PAGE)
    watcher = InboxWatcher(inbox, mode="events", settle_seconds=0.0, poll_interval=0.05)
    watcher.start()
    try:
        listed = watcher._scan()
        (inbox / "weg.txt").unlink()
        watcher._scan = lambda: listed  # type: ignore[method-assign]
        watcher._next_rescan = 0.0
        assert watcher.poll(0.01).complete == []
    finally:
        watcher.stop()


def test_a_writer_that_reopens_the_file_per_chunk_is_claimed_once_whole(tmp_path: Path) -> None:
    """Events mode: one close-write per appended chunk; the file is complete only after it stayed
    unwritten for the close settle time, so it is seen complete once, with every chunk in it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = InboxWatcher(
        inbox, mode="events", settle_seconds=1.0, poll_interval=0.05, close_settle_seconds=0.3
    )
    watcher.start()
    seen: list[tuple[str, int]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for name in watcher.poll(0.02).complete:
                seen.append((name, (inbox / name).stat().st_size))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        for _ in range(10):
            with (inbox / "stukjes.txt").open("ab") as fh:
                fh.write(b"regel\n")
            time.sleep(0.02)
        wait_until(lambda: seen, "the file to be complete", 5)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(5)
        watcher.stop()
    assert seen == [("stukjes.txt", 60)]


def test_a_loop_that_dies_fails_readiness_and_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error outside any one file's step ends the loop: ``crashed`` is kept, ``/readyz`` says which
    loop stopped, and ``run`` raises so the process exits non-zero."""
    import json
    import urllib.error
    import urllib.request

    service, _, _ = make_service(tmp_path)

    def broken_poll(_: float) -> object:
        raise RuntimeError("the watcher itself broke")

    monkeypatch.setattr(service.watcher, "poll", broken_poll)
    server = serve(service.metrics, port=0, checks={"loops": alive_check(lambda: {"ingest": service.alive})})
    try:
        with pytest.raises(RuntimeError):
            service.run(threading.Event())
        assert not service.alive
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"{server.url}/readyz", timeout=5)
        assert answer.value.code == 503
        body = json.loads(answer.value.read())
        assert body["checks"]["loops"] == {
            **body["checks"]["loops"],
            "ok": False,
            "detail": "RuntimeError: stopped: ingest",
        }
    finally:
        server.close()
