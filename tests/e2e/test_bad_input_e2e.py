"""The bad-input catalogue, whole-pipeline part: the three services as processes on the real Redis and
PostgreSQL (one start-up for the module), one case per test.

Each case checks where the file ends (``archive/`` and the database, or ``failed/`` with its reason),
the metric on the service that counts it, the JSON log line, and that a good file dropped afterwards is
still stored. Bad *messages* (not JSON, another schema version, pickled) are put straight on the queues:
dead-lettered once, never retried, never executed. The ingest-only cases are in
``tests/integration/test_bad_input.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from dropwire.stack import Stack, fresh_postgres, leased_redis_db, wait_until
from shared.celery_app import (
    QUEUE_DONE,
    QUEUE_ENRICH,
    QUEUE_STORE,
    TASK_DONE,
    TASK_ENRICH,
    TASK_STORE,
    create_app,
    send,
)
from shared.messages import DocumentDone
from tests.integration.badinput import (
    samples,
    unique_page,
    value,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# One file through enrich and store on a busy 2-core machine: well under this.
CASE_DEADLINE_SECONDS = 45.0


class Pipeline:
    def __init__(self, stack: Stack, redis_url: str, database_url: str) -> None:
        self.stack = stack
        self.client = redis.Redis.from_url(redis_url)
        self.app = create_app("e2e-producer", redis_url)
        self.engine = sa.create_engine(database_url)

    def metric(self, service: str, name: str, **labels: str) -> float:
        return value(samples(self.stack.scrape(service)), name, **labels)

    def events(self, service: str, event: str) -> list[dict[str, Any]]:
        return [e for e in self.stack.events(service) if e.get("event") == event]

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def claim_in(self, folder: str, name: str) -> str | None:
        return next((c for c in self.stack.folder(folder) if c.partition("__")[2] == name), None)

    def until_in(self, folder: str, name: str) -> str:
        return wait_until(
            lambda: self.claim_in(folder, name), f"{name!r} in {folder}/", CASE_DEADLINE_SECONDS
        )

    def stores_a_good_file(self) -> None:
        """A good file dropped now is archived and has its document row."""
        name = f"goed-{os.urandom(4).hex()}.txt"
        data = unique_page(name)
        self.stack.drop(name, data)
        self.until_in("archive", name)
        assert self.rows("select id from documents where sha256 = :s", s=hashlib.sha256(data).hexdigest())

    def queues_settled(self) -> bool:
        """Nothing waiting or held unacknowledged on any queue: no message is being retried."""
        return all(self.client.llen(q) == 0 for q in (QUEUE_ENRICH, QUEUE_STORE, QUEUE_DONE)) and not (
            self.client.hlen("unacked")
        )


@pytest.fixture(scope="module")
def pipeline(
    redis_server: str, pg_admin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    root = tmp_path_factory.mktemp("catalogue-e2e")
    with leased_redis_db(redis_server) as redis_url, fresh_postgres(pg_admin) as database_url:
        env = {"DROPWIRE_HEARTBEAT_SECONDS": "0"}
        with Stack(root, redis_url=redis_url, database_url=database_url, env=env) as stack:
            p = Pipeline(stack, redis_url, database_url)
            yield p
            codes = stack.stop()
            p.client.close()
            p.engine.dispose()
        assert codes == {"ingest": 0, "enrich": 0, "store": 0}


def article_rows(p: Pipeline, data: bytes) -> list[Any]:
    return p.rows(
        "select d.encoding, a.place_raw, a.agencies, a.body from articles a join documents d "
        "on d.id = a.document_id where d.sha256 = :s order by a.seq",
        s=hashlib.sha256(data).hexdigest(),
    )


def test_a_page_without_a_dateline_is_stored_as_an_undated_article(pipeline: Pipeline) -> None:
    """No dateline at all is not a failure: archived, one article with no place and no agencies."""
    data = b"Geen dateline hier\nHet kabinet is gevallen, meldt de premier woensdag.\n"
    pipeline.stack.drop("zonder-dateline.txt", data)
    pipeline.until_in("archive", "zonder-dateline.txt")
    [(encoding, place, agencies, body)] = article_rows(pipeline, data)
    assert (encoding, place, agencies) == ("utf-8", None, None)
    assert "kabinet is gevallen" in body
    [line] = [
        e for e in pipeline.events("ingest", "file.archived") if e["claim"].endswith("zonder-dateline.txt")
    ]
    assert line["outcome"] == "stored"


@pytest.mark.parametrize(
    ("name", "encode", "encoding"),
    [
        ("utf16-bom.txt", lambda t: t.encode("utf-16"), "utf-16"),
        ("utf16-zonder-bom.txt", lambda t: t.encode("utf-16-le"), "utf-16-le"),
    ],
    ids=["with-bom", "without-bom"],
)
def test_utf16_pages_are_stored_with_their_text_intact(
    pipeline: Pipeline, name: str, encode, encoding
) -> None:
    """UTF-16 with or without a BOM: archived, stored with the detected encoding and the accents intact."""
    text = "Oekraïne meldt vooruitgang\nKIEV (ANP) - Oekraïne en Curaçao tekenen een verdrag.\n"
    data = encode(text)
    pipeline.stack.drop(name, data)
    pipeline.until_in("archive", name)
    [(stored_encoding, place, agencies, body)] = article_rows(pipeline, data)
    assert (stored_encoding, place, agencies) == (encoding, "KIEV", "ANP")
    assert body == "Oekraïne en Curaçao tekenen een verdrag."


def test_one_1_mb_line_fails_at_enrich_as_too_large(pipeline: Pipeline) -> None:
    """A single line of over a million characters (past what NER takes): failed/ with stage enrich and
    reason too_large, counted by ingest and dead-lettered by enrich, not a crash or a retry loop."""
    before_failed = pipeline.metric(
        "ingest", "dropwire_files_failed_total", stage="enrich", reason="too_large"
    )
    before_dead = pipeline.metric("enrich", "dropwire_dead_letters_total", stage="enrich", reason="too_large")
    line = "GRONINGEN (ANP) - " + "Een lange zin over de brug in Groningen, " * 25_000
    pipeline.stack.drop("een-regel.txt", ("Kop\n" + line + "\n").encode())
    claim = pipeline.until_in("failed", "een-regel.txt")
    note = pipeline.stack.error_note(claim)
    assert (note["stage"], note["reason"]) == ("enrich", "too_large")
    wait_until(
        lambda: (
            pipeline.metric("ingest", "dropwire_files_failed_total", stage="enrich", reason="too_large")
            == before_failed + 1
        ),
        "files_failed at ingest",
    )
    assert (
        pipeline.metric("enrich", "dropwire_dead_letters_total", stage="enrich", reason="too_large")
        == before_dead + 1
    )
    [failed_line] = [e for e in pipeline.events("enrich", "enrich.failed") if e.get("claim") == claim]
    assert failed_line["reason"] == "too_large"
    assert pipeline.rows("select stage, reason from failures where claim = :c", c=claim) == [
        ("enrich", "too_large")
    ]
    pipeline.stores_a_good_file()


def test_the_same_bytes_dropped_twice_at_once_are_stored_once(pipeline: Pipeline) -> None:
    """Two names, identical bytes, dropped together: both archived (stored + duplicate), one document row."""
    data = unique_page("tweeling")
    before = pipeline.metric("store", "dropwire_duplicates_total")
    pipeline.stack.drop("tweeling-a.txt", data)
    pipeline.stack.drop("tweeling-b.txt", data)
    pipeline.until_in("archive", "tweeling-a.txt")
    pipeline.until_in("archive", "tweeling-b.txt")
    assert (
        len(pipeline.rows("select id from documents where sha256 = :s", s=hashlib.sha256(data).hexdigest()))
        == 1
    )
    outcomes = sorted(
        e["outcome"]
        for e in pipeline.events("ingest", "file.archived")
        if "__tweeling-" in e.get("claim", "")
    )
    assert outcomes == ["duplicate", "stored"]
    assert pipeline.metric("store", "dropwire_duplicates_total") == before + 1


def test_a_new_version_under_an_old_name_is_stored_as_a_new_document(pipeline: Pipeline) -> None:
    """Same name, new bytes, after the first was archived: a second document; both files in archive/."""
    first, second = unique_page("versie 1"), unique_page("versie 2")
    pipeline.stack.drop("versie.txt", first)
    pipeline.until_in("archive", "versie.txt")
    pipeline.stack.drop("versie.txt", second)
    wait_until(
        lambda: sum(c.endswith("__versie.txt") for c in pipeline.stack.folder("archive")) == 2,
        "both versions archived",
        CASE_DEADLINE_SECONDS,
    )
    stored = pipeline.rows("select sha256 from documents where name = 'versie.txt' order by id")
    assert [r[0] for r in stored] == [hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()]


@pytest.mark.parametrize(
    "payload",
    ["dit is geen json {", json.dumps({"schema_version": 2, "doc_id": "0" * 64, "claim": "x", "text": "?"})],
    ids=["not-json", "wrong-schema-version"],
)
def test_a_bad_message_on_the_enrich_queue_is_dead_lettered_once(pipeline: Pipeline, payload: str) -> None:
    """Not JSON, or a schema version this enrich does not know: counted as a dead letter, logged,
    acknowledged (not retried, not redelivered), and the worker goes on."""
    before = pipeline.metric("enrich", "dropwire_dead_letters_total", stage="enrich", reason="bad_message")
    logged = len(pipeline.events("enrich", "enrich.bad_message"))
    send(pipeline.app, TASK_ENRICH, payload)
    wait_until(
        lambda: (
            pipeline.metric("enrich", "dropwire_dead_letters_total", stage="enrich", reason="bad_message")
            == before + 1
        ),
        "the dead letter",
    )
    wait_until(lambda: len(pipeline.events("enrich", "enrich.bad_message")) == logged + 1, "its log line")
    wait_until(pipeline.queues_settled, "no message left to retry")
    pipeline.stores_a_good_file()
    assert (
        pipeline.metric("enrich", "dropwire_dead_letters_total", stage="enrich", reason="bad_message")
        == before + 1
    )
    assert pipeline.metric("enrich", "dropwire_retries_total", stage="enrich") == 0


class _Exploit:
    """Unpickling this runs ``touch <marker>``: proof, if the marker appears, that pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    ("task", "queue", "service"),
    [
        (TASK_ENRICH, QUEUE_ENRICH, "enrich"),
        (TASK_STORE, QUEUE_STORE, "store"),
        (TASK_DONE, QUEUE_DONE, "ingest"),
    ],
    ids=["enrich", "store", "ingest.done"],
)
def test_a_pickled_message_is_refused_on_every_queue_and_never_executed(
    pipeline: Pipeline, tmp_path: Path, task: str, queue: str, service: str
) -> None:
    """A pickle-serialised task whose unpickling would run a command: the consumer refuses the content
    type (the marker file never appears), drops it with a log line, and keeps consuming."""
    marker = tmp_path / "pickle-was-executed"
    log_before = len(pipeline.stack.log(service).splitlines())
    pipeline.app.send_task(task, args=[_Exploit(marker)], queue=queue, routing_key=queue, serializer="pickle")
    wait_until(
        lambda: any(
            "pickle" in line.lower() for line in pipeline.stack.log(service).splitlines()[log_before:]
        ),
        f"{service}'s log line about the refused pickle",
    )
    wait_until(pipeline.queues_settled, f"the pickled message to leave {queue}")
    pipeline.stores_a_good_file()
    assert not marker.exists()


@pytest.mark.parametrize("claim", ["../ontsnapt.txt", "/etc/passwd", "a\x00b.txt", "..", "sub/dir.txt"])
def test_a_done_message_naming_a_path_outside_processing_moves_nothing(
    pipeline: Pipeline, claim: str
) -> None:
    """A DocumentDone whose claim would leave processing/ (``..``, absolute, NUL, a separator) is never
    turned into a path: nothing moves, the target is untouched, it is dead-lettered with a log line."""
    outside = pipeline.stack.spool / "ontsnapt.txt"
    outside.write_bytes(b"blijf van mij af\n")
    before = pipeline.metric("ingest", "dropwire_dead_letters_total", stage="ingest", reason="bad_message")
    done = DocumentDone(claim=claim, name="x", outcome="stored", finished_at=datetime.now(UTC))
    send(pipeline.app, TASK_DONE, done.to_json())
    wait_until(
        lambda: (
            pipeline.metric("ingest", "dropwire_dead_letters_total", stage="ingest", reason="bad_message")
            == before + 1
        ),
        "the dead letter",
    )
    assert [e for e in pipeline.events("ingest", "done.unsafe_claim") if e.get("claim") == claim]
    assert outside.read_bytes() == b"blijf van mij af\n"
    outside.unlink()
