"""End to end through a real Prometheus: files dropped, counters read back over Prometheus's HTTP API.

The three services run as processes against the real Redis and PostgreSQL (``tests/e2e/stack.py``);
Prometheus (``tests/e2e/prom.py``) scrapes them every second. After the files are filed away, the
counters Prometheus holds must match what was dropped, the end-to-end latency histogram must have an
observation per archived file, and every query of the Grafana dashboard must return data.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.multiprocess import MultiProcessCollector

from dropwire.corpus import generate
from dropwire.stack import Stack, wait_until
from tests.dashboards import queries, render
from tests.e2e.prom import Prometheus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Good pages: enough for both enrich children and several store batches, few enough for a 2-core box.
GOOD_FILES = 8
# On a busy 2-core machine the whole flow takes seconds; the deadline only catches a stall.
FLOW_DEADLINE_SECONDS = 90.0
# After the flow, how long a count may take to show: a scrape a second, and a stage that counts a
# document just after passing it on may be descheduled for a moment on a loaded machine.
SETTLE_SECONDS = 30.0
# Broken on purpose, with the reason ingest must give.
BROKEN = {
    "leeg.txt": (b"", "empty"),
    "plaatje.txt": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
}


@dataclass(frozen=True)
class Dropped:
    good: dict[str, bytes]
    duplicate: tuple[str, bytes]
    broken: dict[str, tuple[bytes, str]]
    started: float
    finished: float

    @property
    def total(self) -> int:
        return len(self.good) + 1 + len(self.broken)

    @property
    def total_bytes(self) -> int:
        return (
            sum(map(len, self.good.values()))
            + len(self.duplicate[1])
            + sum(len(d) for d, _ in self.broken.values())
        )


def drop_everything(stack: Stack) -> Dropped:
    """Drop distinct good pages, one repeat of the first under another name, and the broken files."""
    started = time.time()
    good = {f.name: f.data for f in generate(GOOD_FILES, seed=4242, duplicate_share=0.0)}
    for name, data in good.items():
        stack.drop(name, data)
    first = next(iter(good.values()))
    stack.drop("herhaling.txt", first)
    for name, (data, _) in BROKEN.items():
        stack.drop(name, data)
    total = len(good) + 1 + len(BROKEN)
    wait_until(
        lambda: stack.counts()["archive"] + stack.counts()["failed"] == total,
        "every dropped file to be archived or failed",
        timeout=FLOW_DEADLINE_SECONDS,
    )
    return Dropped(good, ("herhaling.txt", first), BROKEN, started, time.time())


@pytest.fixture
def stack(tmp_path: Path, redis_url: str, pg_url: str) -> Iterator[Stack]:
    with Stack(tmp_path / "stack", redis_url=redis_url, database_url=pg_url) as running:
        yield running


@pytest.fixture
def prometheus(tmp_path: Path, stack: Stack) -> Iterator[Prometheus]:
    targets = {service: [f"127.0.0.1:{stack.ports[service]}"] for service in stack.services}
    with Prometheus(tmp_path / "prometheus", targets) as prom:
        prom.wait_for_targets_up()
        yield prom


def by_label(prom: Prometheus, expr: str, label: str) -> dict[str, float]:
    """``{label value: value}`` of an expression aggregated by that one label (so keys are unique)."""
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in prom.query(expr)}


def test_prometheus_counters_match_the_files_dropped(
    stack: Stack, prometheus: Prometheus, pg_url: str
) -> None:
    """Claimed, archived, failed (by reason), duplicate, byte and latency counts in Prometheus match the drop."""
    prom = prometheus
    # Before the first event the counters are there, at 0 (not missing).
    assert prom.value("sum(dropwire_files_claimed_total)") == 0
    assert by_label(
        prom,
        'sum by (reason) (dropwire_files_failed_total{stage="ingest", reason=~"empty|binary"})',
        "reason",
    ) == {
        "empty": 0,
        "binary": 0,
    }
    assert prom.value("sum(dropwire_end_to_end_latency_seconds_count)") == 0

    dropped = drop_everything(stack)
    good = len(dropped.good)

    # A stage counts a document just after passing it on, so the last counts may land a moment after
    # the last file was filed away: each expectation is polled until it holds (or the deadline).
    def settles(expr: str, expected: float) -> None:
        prom.wait_for(expr, lambda v: v == expected, timeout=SETTLE_SECONDS)

    def reaches(expr: str, at_least: float) -> None:
        prom.wait_for(expr, lambda v: v >= at_least, timeout=SETTLE_SECONDS)

    settles("sum(dropwire_files_claimed_total)", dropped.total)
    settles("sum(dropwire_ingested_bytes_total)", dropped.total_bytes)
    settles('sum(dropwire_files_archived_total{outcome="stored"})', good)
    settles('sum(dropwire_files_archived_total{outcome="duplicate"})', 1)
    for _, reason in BROKEN.values():
        settles(f'sum(dropwire_files_failed_total{{stage="ingest", reason="{reason}"}})', 1)
    settles("sum(dropwire_files_failed_total)", len(BROKEN))
    reaches("sum(dropwire_files_detected_total)", dropped.total)

    # The latency histogram: one observation per archived file, drop to stored, within the flow's time.
    settles("sum(dropwire_end_to_end_latency_seconds_count)", good + 1)
    settles('sum(dropwire_end_to_end_latency_seconds_bucket{le="+Inf"})', good + 1)
    latency_sum = prom.value("sum(dropwire_end_to_end_latency_seconds_sum)")
    assert latency_sum is not None and 0 < latency_sum < (good + 1) * (dropped.finished - dropped.started + 1)

    # The stages agree with ingest and with the database.
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:  # heartbeats live in their own table, never in documents
        documents = conn.execute(sa.text("select count(*) from documents")).scalar_one()
        articles = conn.execute(sa.text("select count(*) from articles")).scalar_one()
    engine.dispose()
    assert documents == good
    settles('sum(dropwire_duplicates_total{job="store"})', 1)
    reaches('sum(dropwire_tasks_completed_total{job="enrich", stage="enrich", outcome="ok"})', good + 1)
    reaches('sum(dropwire_tasks_completed_total{job="store", stage="store", outcome="ok"})', good + 1)
    reaches('sum(dropwire_articles_total{job="enrich"})', articles)
    assert articles > 0
    reaches('sum(dropwire_entity_mentions_total{job="enrich"})', 1)
    reaches('sum(dropwire_store_batch_documents_count{job="store"})', 1)
    reaches('sum(dropwire_store_rows_total{job="store", table="documents"})', good)

    # Nothing left waiting or in flight; every stage succeeded after the test started.
    settles('sum(dropwire_files_waiting{folder=~"inbox|processing"})', 0)
    settles("sum(dropwire_queue_depth)", 0)
    settles("sum(dropwire_tasks_in_progress)", 0)
    for stage in ("ingest", "enrich", "store"):
        reaches(f'max(dropwire_last_success_timestamp_seconds{{stage="{stage}"}})', dropped.started - 1)

    # Build info: one series per service, the enrich worker's carrying its parser and model versions.
    builds = {r["metric"]["job"]: r["metric"] for r in prom.query("dropwire_build_info")}
    assert set(builds) == {"ingest", "enrich", "store"}
    assert builds["enrich"]["parser_version"] != "n/a"


def test_every_dashboard_query_returns_data(stack: Stack, prometheus: Prometheus) -> None:
    """Each query of every Grafana panel returns at least one series with a real value after a run."""
    dropped = drop_everything(stack)
    good = len(dropped.good)
    for expr, at_least in (
        ("sum(dropwire_end_to_end_latency_seconds_count)", good + 1),
        ('sum(dropwire_tasks_completed_total{job="enrich", stage="enrich", outcome="ok"})', good + 1),
        ('sum(dropwire_tasks_completed_total{job="store", stage="store", outcome="ok"})', good + 1),
        ('sum(dropwire_store_batch_documents_count{job="store"})', 1),
    ):
        prometheus.wait_for(expr, lambda v, n=at_least: v >= n, timeout=SETTLE_SECONDS)
    # A few more scrapes after the last count, so each rate() window holds samples on both sides of it.
    prometheus.wait_for_scrapes_after(time.time() + 2)
    window = time.time() - dropped.started + 5
    empty = []
    for q in queries():
        expr = render(q.expr, rate_interval="15s", range_=f"{math.ceil(window)}s")
        if q.instant:
            values = [float(r["value"][1]) for r in prometheus.query(expr)]
        else:
            values = [
                float(v)
                for series in prometheus.query_range(expr, seconds=window)
                for _, v in series["values"]
            ]
        if not any(math.isfinite(v) for v in values):
            empty.append(f"{q.panel} [{q.ref}]: {expr}")
    assert empty == []


def per_process_counts(folder: Path, sample: str, labels: dict[str, str]) -> dict[str, float]:
    """One sample's value in each process's metric file of a multiprocess folder, keyed by file name."""
    out = {}
    for path in sorted(folder.glob("counter_*.db")):
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for s in family.samples:
                if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                    out[path.name] = out.get(path.name, 0.0) + s.value
    return out


def test_enrich_with_two_processes_reports_counters_that_add_up(stack: Stack, prometheus: Prometheus) -> None:
    """With --concurrency 2, both worker processes enrich batches, and the consumer's one endpoint counts
    every document once (the consumer keeps the metrics; its processes only enrich)."""
    dropped = drop_everything(stack)
    enriched = len(dropped.good) + 1  # the duplicate is enriched too; the store skips it
    enrich_ok = 'sum(dropwire_tasks_completed_total{job="enrich", stage="enrich", outcome="ok"})'
    prometheus.wait_for(enrich_ok, lambda v: v >= enriched, timeout=SETTLE_SECONDS)
    prometheus.wait_for_scrapes_after(time.time())  # the work is counted: this scrape is final
    batches = [e for e in stack.events("enrich") if e.get("event") == "enrich.batch"]
    workers = {e["worker"] for e in batches}
    assert len(workers) >= 2, batches  # both processes took documents
    assert prometheus.value(enrich_ok) >= enriched
    every = prometheus.value('sum(dropwire_tasks_completed_total{job="enrich", stage="enrich"})')
    assert every == sum(e["documents"] for e in batches)  # ok or failed, each document once
    durations = prometheus.value('sum(dropwire_task_duration_seconds_count{job="enrich", stage="enrich"})')
    assert durations == every
    # Nothing is in progress once the work is done.
    assert prometheus.value('sum(dropwire_tasks_in_progress{job="enrich"})') == 0


# Celery's own line for each task it runs names the task id: "Task dropwire.enrich.document[ID] ...".
CELERY_TASK_LINE = re.compile(r"Task dropwire\.enrich\.document\[([0-9a-f-]+)\]")


@pytest.mark.parametrize("pool", ["batch", "prefork"])
def test_one_documents_story_can_be_grepped_across_the_three_services(
    tmp_path: Path, redis_url: str, pg_url: str, pool: str
) -> None:
    """One correlation id, the doc_id, on every line of a document's journey: every service logs JSON
    lines carrying each stored document's doc_id; no line about a document names it otherwise (no
    second id under another key, no other doc_id beside its claim); with the Celery pool, the enrich
    task's id is the doc_id too, which is what Flower and ``celery inspect`` show."""
    args = {"enrich": ("--pool", pool, "--concurrency", "2")}
    with Stack(tmp_path / "stack", redis_url=redis_url, database_url=pg_url, args=args) as stack:
        dropped = drop_everything(stack)
        events = {service: stack.events(service) for service in stack.services}
        enrich_log = stack.log("enrich")
    by_claim: dict[str, str] = {}
    doc_ids = {hashlib.sha256(data).hexdigest() for data in dropped.good.values()}
    for service, lines in events.items():
        assert lines, f"{service} wrote no JSON log lines"
        assert all(e.get("service") == service for e in lines), [
            e for e in lines if e.get("service") != service
        ][:3]
        seen = {e["doc_id"] for e in lines if e.get("doc_id")}
        assert doc_ids <= seen, f"{service}: no log line for {sorted(doc_ids - seen)[:3]}"
        about = [e for e in lines if e.get("doc_id") in doc_ids]
        assert not [e for e in about if "task_id" in e], f"{service}: a second id on a document's line"
        for e in lines:
            if e.get("claim") and e.get("doc_id"):
                # One claim (one dropped file) has one id on every line of every service.
                assert by_claim.setdefault(e["claim"], e["doc_id"]) == e["doc_id"], (service, e)
    if pool == "prefork":
        task_ids = set(CELERY_TASK_LINE.findall(enrich_log))
        assert doc_ids <= task_ids, f"Celery's task ids are not the doc_ids: {sorted(task_ids)[:3]}"
