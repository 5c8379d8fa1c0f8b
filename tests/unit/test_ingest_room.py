"""Backpressure bookkeeping: how often ingest asks the broker for the enrich queue's depth."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest import service as service_module
from services.ingest.service import DEPTH_CHECK_SECONDS, IngestService
from shared.messages import DocumentDone, DocumentReceived
from shared.metrics import create_metrics
from shared.settings import IngestSettings
from shared.spool import Spool

pytestmark = [pytest.mark.unit]

PAGE = b"Kop\nGRONINGEN (ANP) - In Groningen is een brug geopend.\n"
CAP = 5


class Queue:
    """A publisher whose queue depth the test sets, counting how often it is asked."""

    def __init__(self) -> None:
        self.depth = 0
        self.asked = 0
        self.sent: list[DocumentReceived] = []

    def received(self, message: DocumentReceived) -> None:
        self.sent.append(message)
        self.depth += 1

    def failed(self, done: DocumentDone) -> None:
        raise AssertionError(f"unexpected failure: {done}")

    def backlog(self) -> int | None:
        self.asked += 1
        return self.depth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[IngestService, Queue, Clock]:
    clock = Clock()
    monkeypatch.setattr(service_module.time, "monotonic", clock)
    queue = Queue()
    settings = IngestSettings(max_queue_depth=CAP, heartbeat_seconds=0)
    service = IngestService(Spool(tmp_path / "spool"), settings, queue, create_metrics())
    return service, queue, clock


def claim_one(service: IngestService, name: str) -> None:
    (service.spool.inbox / name).write_bytes(PAGE + name.encode())
    assert service.take(name) is not None


def test_between_asks_ingest_counts_its_own_claims_against_the_last_depth(rig) -> None:
    service, queue, _ = rig
    assert service.room() == CAP
    claim_one(service, "a.txt")
    claim_one(service, "b.txt")
    queue.depth = 0  # enrich took both: unseen until the next ask, the bound stays conservative
    assert service.room() == CAP - 2
    assert queue.asked == 1


def test_the_broker_is_asked_again_once_the_check_interval_has_passed(rig) -> None:
    service, queue, clock = rig
    service.room()
    queue.depth = 3  # another replica's claims
    clock.now += DEPTH_CHECK_SECONDS
    assert service.room() == CAP - 3
    assert queue.asked == 2


def test_at_the_cap_every_round_asks_so_claiming_resumes_as_soon_as_enrich_drains(rig) -> None:
    service, queue, _ = rig
    assert service.room() == CAP
    for i in range(CAP):
        claim_one(service, f"f{i}.txt")
    assert service.room() == 0  # the bound reached the cap: asked, and the queue is full
    assert service.metrics.ingest_paused._value.get() == 1
    assert service.room() == 0
    assert queue.asked == 3
    queue.depth = 1
    assert service.room() == CAP - 1
    assert service.metrics.ingest_paused._value.get() == 0


def test_an_unknown_depth_does_not_hold_claiming_back_and_is_asked_again(rig) -> None:
    service, queue, _ = rig
    queue.backlog = lambda: None  # type: ignore[method-assign]
    assert service.room() == CAP
    asked = []
    queue.backlog = lambda: asked.append(1) or 0  # type: ignore[method-assign]
    assert service.room() == CAP
    assert asked == [1]
