"""The enrich handler's document counters (the Celery pool and ``dropwire run``): heartbeats apart, so
started = completed (ok + failed + retry) + in progress over documents only."""

from __future__ import annotations

import hashlib

import pytest

from services.enrich.task import EnrichHandler, ExtractorSlot
from services.ingest.service import heartbeat_message
from shared.errors import DependencyUnavailable
from shared.messages import DocumentReceived
from shared.metrics import Metrics, create_metrics
from tests.documents import NOW, PassThrough, received_text

pytestmark = pytest.mark.unit


def page(text: str) -> DocumentReceived:
    """``text`` received, under a claim of its own."""
    return received_text(text, claim=f"c-{hashlib.sha256(text.encode()).hexdigest()[:6]}__p.txt")


def counters(m: Metrics) -> dict[str, float]:
    out = {
        o: m.tasks_completed.labels(stage="enrich", outcome=o)._value.get() for o in ("ok", "failed", "retry")
    }
    out["started"] = m.tasks_started.labels(stage="enrich")._value.get()
    out["in_progress"] = m.tasks_in_progress.labels(stage="enrich")._value.get()
    out["beats"] = m.heartbeats.labels(stage="enrich", outcome="ok")._value.get()
    return out


def test_heartbeats_stay_out_of_the_document_counters_which_reconcile() -> None:
    """Two documents (one enriched, one dead-lettered), one handed back by a broker away, and three
    heartbeats: started 3 = ok 1 + failed 1 + retry 1 + in progress 0; the heartbeats count apart."""
    metrics = create_metrics(service="enrich")
    sent: list[str] = []
    away = {"now": False}

    def send(task: str, payload: str) -> None:
        if away["now"]:
            raise DependencyUnavailable("broker unreachable while publishing")
        sent.append(task)

    handler = EnrichHandler(ExtractorSlot(PassThrough), send, metrics, provenance=False)
    good = page("Brug open\nGRONINGEN (ANP) - In Groningen is een brug geopend.\n")
    handler.process(good)
    handler.process(page("\n\n"))  # no article: dead-lettered (parse_error)
    for second in range(3):
        handler.process(heartbeat_message(NOW.replace(second=second)))
    away["now"] = True
    with pytest.raises(DependencyUnavailable):
        handler.process(page("Weer open\nZWOLLE (ANP) - In Zwolle is de brug weer open.\n"))
    c = counters(metrics)
    assert c == {"ok": 1, "failed": 1, "retry": 1, "started": 3, "in_progress": 0, "beats": 3}
    assert metrics.dead_letters.labels(stage="enrich", reason="parse_error")._value.get() == 1
