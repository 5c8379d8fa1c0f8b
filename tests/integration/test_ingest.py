"""The ingest service against the real Redis: claims, messages on the enrich queue, done handling, leases."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from services.ingest.done import DoneHandler
from services.ingest.publisher import CeleryPublisher
from services.ingest.service import IngestService
from shared.celery_app import QUEUE_DONE, TASK_DONE, TASK_ENRICH, TASK_STORE_FAILURE, create_app, send
from shared.consumer import TaskConsumer
from shared.messages import DocumentDone, DocumentReceived, decode
from shared.metrics import create_metrics
from shared.settings import IngestSettings
from shared.spool import Spool
from tests.integration.badinput import queued

pytestmark = pytest.mark.integration

PAGE = b"Kop boven een stuk\nGRONINGEN (ANP) - In Groningen is woensdag een nieuwe brug geopend.\n"
DEADLINE_SECONDS = 15.0


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE_SECONDS) -> Any:
    """Poll ``condition`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


class Running:
    def __init__(self, service: IngestService, stop: threading.Event, thread: threading.Thread) -> None:
        self.service, self.stop, self.thread = service, stop, thread


@pytest.fixture
def start_ingest(tmp_path: Path, redis_url: str) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(spool_dir: Path | None = None, **settings: Any) -> Running:
        app = create_app("test-ingest", redis_url)
        spool = Spool(spool_dir or tmp_path / "spool")
        merged = {"watch_mode": "events", "settle_seconds": 0.2, "poll_interval": 0.05, **settings}
        service = IngestService(spool, IngestSettings(**merged), CeleryPublisher(app), create_metrics())
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        service.ready.wait(5)
        running = Running(service, stop, thread)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop.set()
        running.thread.join(5)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


def test_a_dropped_file_is_claimed_and_queued_for_enrich(tmp_path: Path, start_ingest, client) -> None:
    """A file written into the inbox moves to processing/ and its decoded text is on the enrich queue."""
    running = start_ingest()
    spool = running.service.spool
    (spool.inbox / "bericht.txt").write_bytes(PAGE)
    [(task, payload)] = wait_for(lambda: queued(client, "enrich"), "a message on the enrich queue")
    message = decode(DocumentReceived, payload)
    assert task == TASK_ENRICH
    assert message.name == "bericht.txt"
    assert message.text == PAGE.decode()
    assert [p.name for p in spool.processing.iterdir()] == [message.claim]
    assert list(spool.inbox.iterdir()) == []


def test_a_file_present_at_start_up_is_claimed(tmp_path: Path, start_ingest, client) -> None:
    """Files already in the inbox when ingest starts produce no events but are claimed after settling."""
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    (spool.inbox / "al-daar.txt").write_bytes(PAGE)
    start_ingest()
    [(_, payload)] = wait_for(lambda: queued(client, "enrich"), "the start-up file on the queue")
    assert decode(DocumentReceived, payload).name == "al-daar.txt"


@pytest.mark.parametrize("mode", ["events", "poll"])
def test_a_slowly_written_file_is_claimed_only_once_complete(
    tmp_path: Path, start_ingest, client, mode
) -> None:
    """A file written in chunks with pauses is queued once, with all of its bytes."""
    running = start_ingest(watch_mode=mode, settle_seconds=0.6)
    path = running.service.spool.inbox / "traag.txt"
    with path.open("wb") as fh:
        for i in range(5):
            fh.write(PAGE)
            fh.flush()
            os.fsync(fh.fileno())
            # Pauses shorter than the settle time: a writer that is slow, not finished.
            threading.Event().wait(0.25)
            assert queued(client, "enrich") == [], f"claimed after chunk {i}"
    [(_, payload)] = wait_for(lambda: queued(client, "enrich"), "the complete file on the queue")
    assert decode(DocumentReceived, payload).size == 5 * len(PAGE)


def test_hidden_partial_and_directory_entries_are_left_alone(tmp_path: Path, start_ingest, client) -> None:
    """Dotfiles, *.part, *.tmp and directories stay in the inbox; a renamed .part is then claimed."""
    running = start_ingest()
    inbox = running.service.spool.inbox
    for name in (".verborgen.txt", "half.txt.part", "bezig.tmp"):
        (inbox / name).write_bytes(PAGE)
    (inbox / "map").mkdir()
    os.rename(inbox / "half.txt.part", inbox / "half.txt")
    [(_, payload)] = wait_for(lambda: queued(client, "enrich"), "the renamed file on the queue")
    assert decode(DocumentReceived, payload).name == "half.txt"
    assert sorted(p.name for p in inbox.iterdir()) == [".verborgen.txt", "bezig.tmp", "map"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p, t: p.write_bytes(b""), "empty"),
        (lambda p, t: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), "binary"),
        (lambda p, t: os.symlink(t, p), "not_regular_file"),
        (lambda p, t: os.mkfifo(p), "not_regular_file"),
    ],
    ids=["empty", "binary", "symlink", "fifo"],
)
def test_bad_input_goes_straight_to_failed_and_is_reported(
    tmp_path: Path, start_ingest, client, make, reason
) -> None:
    """Unusable inbox entries land in failed/ with a note, and a failed DocumentDone goes to the store."""
    running = start_ingest()
    spool = running.service.spool
    target = tmp_path / "doel.txt"
    target.write_bytes(PAGE)
    make(spool.inbox / "slecht.txt", target)
    [(task, payload)] = wait_for(lambda: queued(client, "store"), "a failure report on the store queue")
    done = decode(DocumentDone, payload)
    assert task == TASK_STORE_FAILURE
    assert (done.outcome, done.stage, done.reason, done.name) == ("failed", "ingest", reason, "slecht.txt")
    [entry] = spool.failed_entries()
    assert (entry["claim"], entry["stage"], entry["reason"]) == (done.claim, "ingest", reason)
    assert target.read_bytes() == PAGE  # a symlink's target is never touched
    assert queued(client, "enrich") == []


def test_done_messages_file_the_claim_away(tmp_path: Path, start_ingest, redis_url: str, client) -> None:
    """stored → archive/, failed → failed/ with NAME.error.json, and a repeat of either is harmless."""
    running = start_ingest()
    spool = running.service.spool
    (spool.inbox / "goed.txt").write_bytes(PAGE)
    (spool.inbox / "fout.txt").write_bytes(PAGE + b"anders\n")
    messages = [
        decode(DocumentReceived, p)
        for _, p in wait_for(
            lambda: len(queued(client, "enrich")) == 2 and queued(client, "enrich"), "two queued files"
        )
    ]
    good, bad = sorted(messages, key=lambda m: m.name)[::-1]
    metrics = create_metrics()
    app = create_app("test-done", redis_url)
    consumer = TaskConsumer(
        app, QUEUE_DONE, {TASK_DONE: DoneHandler(spool, metrics).handle}, name="test-done"
    )
    consumer.start()
    try:
        now = datetime.now(UTC)
        stored = DocumentDone(
            doc_id=good.doc_id,
            claim=good.claim,
            name=good.name,
            outcome="stored",
            mtime=good.mtime,
            finished_at=now,
        )
        failed = DocumentDone(
            doc_id=bad.doc_id,
            claim=bad.claim,
            name=bad.name,
            outcome="failed",
            stage="enrich",
            reason="parse_error",
            detail="no article found",
            mtime=bad.mtime,
            finished_at=now,
        )
        for message in (stored, failed, stored, failed):
            send(app, TASK_DONE, message.to_json())
        wait_for(
            lambda: not list(spool.processing.iterdir()) and client.llen(QUEUE_DONE) == 0,
            "processing/ to empty",
        )
    finally:
        consumer.stop()
    assert [p.name for p in spool.archive.iterdir()] == [good.claim]
    [entry] = spool.failed_entries()
    assert (entry["claim"], entry["stage"], entry["reason"], entry["doc_id"]) == (
        bad.claim,
        "enrich",
        "parse_error",
        bad.doc_id,
    )
    assert metrics.end_to_end_latency.collect()[0].samples[-2].value == 1  # _count: one archived file


def test_an_expired_lease_is_published_again(tmp_path: Path, start_ingest, client) -> None:
    """A claimed file nobody filed away within the lease is re-published: same doc id, claim and drop time."""
    running = start_ingest(lease_seconds=0.5)
    (running.service.spool.inbox / "vergeten.txt").write_bytes(PAGE)
    messages = wait_for(
        lambda: len(queued(client, "enrich")) >= 2 and queued(client, "enrich"), "a re-publish"
    )
    first, second = (decode(DocumentReceived, p) for _, p in messages[:2])
    assert (first.doc_id, first.claim, first.mtime) == (second.doc_id, second.claim, second.mtime)


def test_two_ingest_replicas_never_claim_one_file_twice(tmp_path: Path, start_ingest, client) -> None:
    """Two services on one inbox: every file is queued exactly once."""
    spool_dir = tmp_path / "gedeeld"
    start_ingest(spool_dir, watch_mode="poll", settle_seconds=0.0)
    start_ingest(spool_dir, watch_mode="events")
    inbox = spool_dir / "inbox"
    for i in range(40):
        (inbox / f"f{i:02d}.txt.part").write_bytes(PAGE + str(i).encode())
        os.rename(inbox / f"f{i:02d}.txt.part", inbox / f"f{i:02d}.txt")
    messages = wait_for(
        lambda: len(queued(client, "enrich")) >= 40 and queued(client, "enrich"), "40 queued files"
    )
    names = sorted(decode(DocumentReceived, p).name for _, p in messages)
    assert names == [f"f{i:02d}.txt" for i in range(40)]


def test_ingest_holds_back_while_the_enrich_queue_is_full(tmp_path: Path, start_ingest, client) -> None:
    """With the enrich queue at its cap, further files wait in the inbox and the paused gauge reads 1."""
    running = start_ingest(max_queue_depth=2)
    inbox = running.service.spool.inbox
    for i in range(5):
        (inbox / f"f{i}.txt").write_bytes(PAGE + str(i).encode())
    wait_for(lambda: client.llen("enrich") == 2, "two queued files")
    wait_for(lambda: running.service.metrics.ingest_paused._value.get() == 1, "the paused gauge")
    assert client.llen("enrich") == 2
    assert len(list(inbox.iterdir())) == 3

    def drain_and_check() -> bool:  # a worker taking everything queued: claiming resumes
        client.delete("enrich")
        return not list(inbox.iterdir())

    wait_for(drain_and_check, "the inbox to empty")


def test_a_file_moved_in_from_another_folder_is_claimed_at_once(tmp_path: Path, start_ingest, client) -> None:
    """`mv /elsewhere/x inbox/` (a rename from an unwatched folder) counts as complete, like a close-write."""
    running = start_ingest(watch_mode="events")
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    (elsewhere / "verhuisd.txt").write_bytes(PAGE)
    os.rename(elsewhere / "verhuisd.txt", running.service.spool.inbox / "verhuisd.txt")
    # Well inside the events-mode rescan interval: only the move event can have triggered the claim.
    [(_, payload)] = wait_for(lambda: queued(client, "enrich"), "the moved file on the queue", timeout=5)
    assert decode(DocumentReceived, payload).name == "verhuisd.txt"
