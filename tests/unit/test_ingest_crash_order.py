"""Crash consistency of ingest's own failures: the reason is on disk before the file is in failed/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from services.ingest import service as service_module
from services.ingest.service import IngestService
from shared.messages import DocumentDone, DocumentReceived
from shared.metrics import create_metrics
from shared.settings import IngestSettings
from shared.spool import Spool

pytestmark = [pytest.mark.unit]


class Crash(BaseException):
    """Stands for a SIGKILL at that point: nothing after it runs."""


class Publisher:
    def __init__(self) -> None:
        self.failures: list[DocumentDone] = []

    def received(self, message: DocumentReceived) -> None:
        raise AssertionError("a bad file must not be queued")

    def failed(self, done: DocumentDone) -> None:
        self.failures.append(done)

    def backlog(self) -> int | None:
        return 0


def make_service(tmp_path: Path) -> tuple[IngestService, Spool, Publisher]:
    spool = Spool(tmp_path / "spool")
    publisher = Publisher()
    service = IngestService(spool, IngestSettings(heartbeat_seconds=0), publisher, create_metrics())
    return service, spool, publisher


def test_a_crash_while_failing_a_bad_file_never_leaves_it_in_failed_without_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed at the move into failed/, a bad claimed file stays in processing/ (its lease brings it
    round again) with its note already written; the next attempt moves it and reports it once."""
    service, spool, publisher = make_service(tmp_path)
    (spool.processing / "0badc0de__leeg.txt").write_bytes(b"")

    def crash(*_: object) -> None:
        raise Crash

    monkeypatch.setattr(service_module.os, "rename", crash)
    with pytest.raises(Crash):
        service.publish("0badc0de__leeg.txt")
    monkeypatch.undo()
    assert os.listdir(spool.processing) == ["0badc0de__leeg.txt"]
    assert os.listdir(spool.failed) == ["0badc0de__leeg.txt.error.json"]
    assert publisher.failures == []

    service.publish("0badc0de__leeg.txt")  # the lease re-publishes it
    assert os.listdir(spool.processing) == []
    assert sorted(os.listdir(spool.failed)) == ["0badc0de__leeg.txt", "0badc0de__leeg.txt.error.json"]
    note = json.loads((spool.failed / "0badc0de__leeg.txt.error.json").read_text(encoding="utf-8"))
    assert (note["stage"], note["reason"]) == ("ingest", "empty")
    assert [(d.claim, d.reason) for d in publisher.failures] == [("0badc0de__leeg.txt", "empty")]
