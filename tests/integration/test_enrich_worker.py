"""``dropwire enrich`` as a real Celery worker process on the real Redis: results, dead letters, one model per child."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from dropwire.stack import Stack, wait_until
from shared.celery_app import (
    TASK_ENRICH,
    TASK_STORE,
    TASK_STORE_FAILURE,
    create_app,
    forget_redeliveries,
    redelivery_count,
    send,
)
from shared.decoding import decode_bytes
from shared.messages import DocumentDone, DocumentEnriched, DocumentReceived
from tests.integration.enrichqueue import store_queue

pytestmark = pytest.mark.integration

CONCURRENCY = 2


def received(name: str, data: bytes, text: str | None = None) -> DocumentReceived:
    decoded = decode_bytes(data) if text is None else None
    now = datetime.now(UTC)
    return DocumentReceived(
        doc_id=hashlib.sha256(data).hexdigest(),
        claim=f"abcd1234__{name}",
        name=name,
        received_at=now,
        mtime=now,
        size=len(data),
        encoding=decoded.encoding if decoded else "utf-8",
        text=decoded.text if decoded else text or "",
    )


def test_the_worker_enriches_dead_letters_and_survives_bad_messages(
    tmp_path: Path, redis_url: str, seeds_dir: Path
) -> None:
    """A seed becomes a DocumentEnriched for the store with its gold article count; a page with no
    article becomes a failed DocumentDone (stage enrich, parse_error); a message that is not JSON is
    dropped without stopping the worker; each child process loads the NER model exactly once."""
    seed = sorted(seeds_dir.glob("*.txt"))[0]
    gold = json.loads((seeds_dir / "gold" / f"{seed.stem}.json").read_text(encoding="utf-8"))
    good = received(seed.name, seed.read_bytes())
    empty = received("leeg.txt", b"\n\n", text="\n\n")
    app = create_app("test-producer", redis_url)
    client = redis.Redis.from_url(redis_url)
    with Stack(tmp_path, redis_url=redis_url, database_url="sqlite://", services=("enrich",)) as stack:
        send(app, TASK_ENRICH, "dit is geen json")
        send(app, TASK_ENRICH, good.to_json())
        send(app, TASK_ENRICH, empty.to_json())
        for i in range(4):  # more tasks than children: a model per task would show in the load count
            send(app, TASK_ENRICH, received(f"n{i}.txt", seed.read_bytes() + str(i).encode()).to_json())
        messages = wait_until(
            lambda: len(store_queue(client).entries) >= 6 and store_queue(client).entries, "six results", 60
        )
        codes = stack.stop()
        loads = [e for e in stack.events("enrich") if e.get("event") == "ner.loaded"]
        bad = [e for e in stack.events("enrich") if e.get("event") == "enrich.bad_message"]
    client.close()
    by_claim = {message.claim: (task, message) for task, message in messages}
    task, enriched = by_claim[good.claim]
    assert task == TASK_STORE
    assert isinstance(enriched, DocumentEnriched)
    assert len(enriched.articles) == len(gold["articles"])
    assert [a.dateline.place if a.dateline else None for a in enriched.articles] == [
        a["dateline_place"] for a in gold["articles"]
    ]
    task, done = by_claim[empty.claim]
    assert task == TASK_STORE_FAILURE
    assert isinstance(done, DocumentDone)
    assert (done.outcome, done.stage, done.reason) == ("failed", "enrich", "parse_error")
    assert len(bad) == 1
    pids = [e["pid"] for e in loads]
    assert 1 <= len(pids) <= CONCURRENCY
    assert len(set(pids)) == len(pids)  # no process loaded it twice, though it ran seven tasks
    assert codes == {"enrich": 0}


def test_redeliveries_are_counted_per_task_in_the_broker(redis_url: str) -> None:
    """Each redelivery of one task id raises its count in Redis (so a bound holds across worker deaths);
    a first delivery counts nothing; a count forgotten (its document dead-lettered) starts again."""
    app = create_app("test-redelivery", redis_url)
    assert redelivery_count(app, "task-1", redelivered=False) == 0
    assert [redelivery_count(app, "task-1", redelivered=True) for _ in range(3)] == [1, 2, 3]
    assert redelivery_count(app, "task-2", redelivered=True) == 1
    forget_redeliveries(app, "task-1")  # its document was dead-lettered: a `failed retry` starts afresh
    assert redelivery_count(app, "task-1", redelivered=True) == 1
