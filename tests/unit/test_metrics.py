"""The metric declarations: conventional names, bounded labels, series present at 0 before any event."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shared import __version__
from shared.errors import FAILURE_REASONS
from shared.metrics import (
    BATCH_BUCKETS,
    DURATION_BUCKETS,
    LATENCY_BUCKETS,
    create_metrics,
    describe,
    exported_names,
    markdown_table,
)

pytestmark = pytest.mark.unit

NAME = re.compile(r"^dropwire_[a-z][a-z0-9_]*$")
# Labels whose values come from a closed set; a file name or a doc id would make series unbounded.
BOUNDED_LABELS = {"stage", "outcome", "reason", "label", "role", "queue", "folder", "table", "kind"}
BUILD_LABELS = {"version", "parser_version", "model_version"}


def scraped() -> dict[str, list[dict[str, str]]]:
    """Each sample name of a fresh registry's scrape and the label sets it carries."""
    text = generate_latest(create_metrics().registry).decode()
    out: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(dict(s.labels))
    return out


def test_names_follow_the_conventions() -> None:
    """dropwire_ prefix, counters end in _total, durations and timestamps in _seconds, sizes in _bytes."""
    for info in describe(create_metrics()):
        assert NAME.match(info.name), info.name
        if info.type == "counter":
            assert info.name.endswith("_total"), info.name
        else:
            assert not info.name.endswith("_total"), info.name
        if (
            "duration" in info.name
            or "latency" in info.name
            or "age" in info.name
            or "timestamp" in info.name
        ):
            assert info.name.endswith("_seconds"), info.name
        if "bytes" in info.name:
            assert info.name.endswith("_bytes") or info.name.endswith("_bytes_total"), info.name
        assert info.help.strip(), info.name


def test_labels_are_bounded() -> None:
    """Only closed-set labels are used (build info carries versions); never a file name or a doc id."""
    for info in describe(create_metrics()):
        allowed = BUILD_LABELS if info.name == "dropwire_build_info" else BOUNDED_LABELS
        assert set(info.labels) <= allowed, (info.name, info.labels)


def test_every_series_exists_at_zero_before_the_first_event() -> None:
    """Each counter and histogram is exported, every label value included, before anything happened."""
    samples = scraped()
    for info in describe(create_metrics()):
        if info.name == "dropwire_queue_depth":
            continue  # exported by ingest's scrape alone (test_queue_depth_comes_from_one_service)
        for name in info.samples:
            assert name in samples, name
    failed = samples["dropwire_files_failed_total"]
    assert {(s["stage"], s["reason"]) for s in failed} == {
        (stage, reason) for stage in ("ingest", "enrich", "store") for reason in FAILURE_REASONS
    }
    entities = {s["label"] for s in samples["dropwire_entity_mentions_total"]}
    assert entities == {"PER", "LOC", "ORG", "MISC"}
    assert "dropwire_queue_depth" not in samples


def test_process_and_python_series_are_exported() -> None:
    """process_* (memory, CPU, start time) and python_* series come with every service's metrics."""
    samples = scraped()
    assert {"process_resident_memory_bytes", "process_start_time_seconds", "python_info"} <= set(samples)


def test_build_info_carries_the_versions() -> None:
    """build_info is 1 with dropwire's version and the parser and model versions given (n/a otherwise)."""
    metrics = create_metrics(parser_version="p-3", model_version="nl_dropwire_ner-0.1.0")
    text = generate_latest(metrics.registry).decode()
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "dropwire_build_info"]
    (sample,) = family.samples
    assert sample.value == 1
    assert sample.labels == {
        "version": __version__,
        "parser_version": "p-3",
        "model_version": "nl_dropwire_ner-0.1.0",
    }
    plain = generate_latest(create_metrics().registry).decode()
    assert 'parser_version="n/a"' in plain


def test_buckets_ascend_and_span_their_ranges() -> None:
    """Bucket bounds are strictly increasing and cover the documented ranges."""
    for buckets in (DURATION_BUCKETS, LATENCY_BUCKETS, BATCH_BUCKETS):
        assert list(buckets) == sorted(set(buckets))
    assert DURATION_BUCKETS[0] <= 0.001 and DURATION_BUCKETS[-1] >= 10
    assert LATENCY_BUCKETS[0] <= 0.1 and LATENCY_BUCKETS[-1] >= 600
    assert BATCH_BUCKETS[0] == 1 and BATCH_BUCKETS[-1] >= 50


def test_two_services_can_each_declare_the_metrics() -> None:
    """create_metrics on separate registries never collides (one per service process, or per test)."""
    first, second = create_metrics(CollectorRegistry()), create_metrics(CollectorRegistry())
    first.files_claimed.inc()
    assert second.files_claimed._value.get() == 0


def test_exported_names_and_table_cover_every_metric() -> None:
    """The Markdown table lists each metric once; exported_names holds the stored series names."""
    table = markdown_table()
    for info in describe(create_metrics()):
        assert table.count(f"| `{info.name}` |") == 1
    names = exported_names()
    assert "dropwire_end_to_end_latency_seconds_bucket" in names
    assert "dropwire_files_claimed_total" in names
    assert "dropwire_files_claimed" not in names


def _series(service: str) -> dict[str, list[dict[str, str]]]:
    text = generate_latest(create_metrics(service=service).registry).decode()
    out: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(dict(s.labels))
    return out


def test_each_service_exports_only_what_it_measures() -> None:
    """ingest has no store rows, store no files or queue depth, enrich no heartbeat age; stage series
    are the service's own stage only (files_failed at ingest excepted: it counts every stage's)."""
    ingest, enrich, store = _series("ingest"), _series("enrich"), _series("store")
    assert "dropwire_store_rows_total" not in ingest and "dropwire_articles_total" not in ingest
    assert "dropwire_files_detected_total" not in store and "dropwire_queue_depth" not in store
    assert "dropwire_heartbeat_age_seconds" not in enrich and "dropwire_queue_depth" not in enrich
    for name, series in (("ingest", ingest), ("enrich", enrich), ("store", store)):
        assert {s["stage"] for s in series["dropwire_tasks_started_total"]} == {name}
    assert {s["stage"] for s in ingest["dropwire_files_failed_total"]} == {"ingest", "enrich", "store"}
