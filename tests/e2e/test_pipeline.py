"""The three services as separate processes against the real Redis and PostgreSQL, files in a real inbox."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from dropwire.stack import Stack, wait_until
from tests.e2e.scenario import BROKEN, exercise

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_dropped_files_end_archived_with_their_rows_or_failed_with_their_reason(
    tmp_path: Path, redis_url: str, pg_url: str, seeds_dir: Path
) -> None:
    """Seeds and fixtures become documents, articles, datelines and entities in PostgreSQL; duplicates,
    slow writers, files present at start-up and broken files are each handled as designed."""
    with Stack(tmp_path, redis_url=redis_url, database_url=pg_url, start_services=False) as stack:
        rows = exercise(stack, seeds_dir)
        metrics = samples(stack.scrape("ingest"))
        archived = len(stack.folder("archive"))
        assert (
            metrics[("dropwire_files_archived_total", (("outcome", "stored"),))]
            + metrics[("dropwire_files_archived_total", (("outcome", "duplicate"),))]
            == archived
        )
        assert metrics[("dropwire_end_to_end_latency_seconds_count", ())] == archived
        failed = sum(
            metrics[("dropwire_files_failed_total", (("reason", reason), ("stage", "ingest")))]
            for reason in {r for _, r in BROKEN.values()}
        )
        assert failed == len(BROKEN)
        enrich = samples(stack.scrape("enrich"))
        assert enrich[("dropwire_articles_total", (("role", "main"),))] >= len(rows["documents"])
        codes = stack.stop()
    assert codes == {"ingest": 0, "enrich": 0, "store": 0}


def test_a_file_left_in_processing_by_a_killed_ingest_is_finished_after_its_lease(
    tmp_path: Path, redis_url: str, pg_url: str, seeds_dir: Path
) -> None:
    """Ingest killed (SIGKILL) after claiming a file whose message was lost: the next ingest
    re-publishes it once the lease runs out, and it is stored exactly once."""
    seed = sorted(seeds_dir.glob("*.txt"))[0]
    env = {"DROPWIRE_LEASE_SECONDS": "3"}
    broker = redis.Redis.from_url(redis_url)
    with Stack(tmp_path, redis_url=redis_url, database_url=pg_url, env=env, services=("ingest",)) as stack:
        stack.drop("verweesd.txt", seed.read_bytes())
        wait_until(lambda: stack.folder("processing"), "the claim")
        wait_until(lambda: broker.llen("enrich") == 1, "the published message")
        os.killpg(stack.procs["ingest"].pid, signal.SIGKILL)
        stack.procs.pop("ingest").wait(10)
        broker.delete("enrich")  # the message is lost with it
        stack.start()
        stack.start(["enrich", "store"])
        wait_until(lambda: stack.counts()["archive"] == 1, "the orphan to be archived", timeout=45)
        assert stack.counts() == {"inbox": 0, "processing": 0, "archive": 1, "failed": 0}
        leases = [e for e in stack.events("ingest") if e.get("event") == "lease.expired"]
        assert len(leases) >= 1
    broker.close()
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from documents")).scalar_one() == 1
    engine.dispose()
