"""Every dropwire metric, declared once, on an explicit registry.

Names follow ``dropwire_<noun>_<unit>`` with base units and ``_total`` for counters. Labels are
bounded: ``stage`` (ingest, enrich, store), ``outcome``, ``reason`` (the codes in
``shared.errors.FAILURE_REASONS``), ``label`` (PER, LOC, ORG, MISC), ``role``, ``queue``, ``folder``,
``kind`` (the parse-warning kinds of ``shared.messages.WARNING_KINDS``).
Never a file name or a doc id.

Each service builds one ``Metrics`` for its process and serves it with its health endpoints
(``shared.observability.serve``). Counters are pre-initialised for every label value so their series
exist (at 0) before the first event.

Multiprocess mode (Celery prefork): every gauge names how the values of several processes combine.
``live*`` modes drop a dead process's value (``shared.observability.mark_process_dead``);
``mostrecent`` keeps the latest sample, for values sampled at scrape time. The ``_created`` series
are switched off: they double every counter's series and multiprocess mode cannot produce them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics import MetricWrapperBase

from shared import __version__
from shared.errors import FAILURE_REASONS
from shared.messages import WARNING_KINDS

STAGES = ("ingest", "enrich", "store")

FOLDERS = ("inbox", "processing", "archive", "failed")
ENTITY_LABELS = ("PER", "LOC", "ORG", "MISC")
ROLES = ("main", "brief")
# How an article joined its story (services.store.stories): a story of its own, a repeat or cut, a version.
STORY_KINDS = ("new", "repeat", "version")
ARCHIVE_OUTCOMES = ("stored", "duplicate")
# How a work item left a stage: done, dead-lettered, or handed back to be taken up again (a transient
# error), so that started = sum of these + in progress.
TASK_OUTCOMES = ("ok", "failed", "retry")
# A heartbeat document passed through a stage, or was dead-lettered there (an alarm: the stage is broken).
HEARTBEAT_OUTCOMES = ("ok", "failed")
# build_info's parser/model version in a service that neither parses nor runs the NER model.
NOT_APPLICABLE = "n/a"

# Buckets follow the distributions measured on the process stack by scripts/latency_survey.py (Redis,
# PostgreSQL, enrich --concurrency 2, 2 cores); docs/explanation/monitoring.md gives the runs and figures.
# Stage durations: one enrich document (parse + NER of a page) took 10 ms to 250 ms (p50 19-23 ms on a
# quiet machine, 90-180 ms on a loaded one), one store batch transaction 10 ms to 250 ms. 1 ms to 10 s
# in ~2.5x steps puts each body in four buckets and leaves headroom for a slow database or a heavier model.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Drop to stored: measured p50 52 ms, p90 93 ms at a steady 5 files/s on a quiet machine (0.43 s and
# 2.5 s on a loaded one), 2-7 s for a burst or backlog of 200-600 files; polling adds the settle time
# (1 s by default). Fine steps from 25 ms to 15 s where the bodies lie, coarse ones up to the 10
# minutes after which the stall alerts have long fired.
LATENCY_BUCKETS = (
    0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip
# Documents per store transaction: measured 1 at a steady 5 files/s and 15 to 46 in a burst or backlog
# (enrich hands the store whole batches); the cap is DROPWIRE_BATCH_SIZE (default 50); the larger
# bounds serve a raised cap.
BATCH_BUCKETS = (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500)

disable_created_metrics()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    build_info: Gauge
    files_detected: Counter
    files_claimed: Counter
    files_archived: Counter
    files_failed: Counter
    files_waiting: Gauge
    ingested_bytes: Counter
    ingest_paused: Gauge
    tasks_started: Counter
    tasks_in_progress: Gauge
    tasks_completed: Counter
    task_failures: Counter
    task_duration: Histogram
    last_success: Gauge
    retries: Counter
    dead_letters: Counter
    articles: Counter
    entities: Counter
    parsed_documents: Counter
    warned_documents: Counter
    parse_warnings: Counter
    store_batch_documents: Histogram
    store_rows: Counter
    duplicates: Counter
    story_articles: Counter
    queue_depth: Gauge
    end_to_end_latency: Histogram
    heartbeat_age: Gauge
    heartbeats: Counter
    # Names of the families this service exports (None: all); see shared/metric_owners.py.
    exported: frozenset[str] | None = None


def create_metrics(
    registry: CollectorRegistry | None = None,
    *,
    parser_version: str = NOT_APPLICABLE,
    model_version: str = NOT_APPLICABLE,
    service: str | None = None,
) -> Metrics:
    """Declare every metric on ``registry`` (a fresh one by default) with its series pre-initialised.

    ``service`` (ingest, enrich, store) exports only the families that service measures, with only its
    own stage's series; ``None`` exports every family (``dropwire run``, the reference docs).

    ``dropwire_build_info`` is set to 1 with dropwire's version and the given parser and NER model
    versions (the enrich worker passes its own; other services leave them ``n/a``).
    """
    reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
    m = Metrics(
        registry=reg,
        build_info=Gauge(
            "dropwire_build_info",
            "Always 1; labels carry the versions.",
            ["version", "parser_version", "model_version"],
            registry=reg,
            multiprocess_mode="max",
        ),
        files_detected=Counter("dropwire_files_detected_total", "Files noticed in the inbox.", registry=reg),
        files_claimed=Counter(
            "dropwire_files_claimed_total", "Files claimed into processing/.", registry=reg
        ),
        files_archived=Counter(
            "dropwire_files_archived_total",
            "Files done and archived (or deleted), by outcome.",
            ["outcome"],
            registry=reg,
        ),
        files_failed=Counter(
            "dropwire_files_failed_total",
            "Files moved to failed/, by stage and reason.",
            ["stage", "reason"],
            registry=reg,
        ),
        files_waiting=Gauge(
            "dropwire_files_waiting",
            "Files currently in a spool folder.",
            ["folder"],
            registry=reg,
            multiprocess_mode="livemax",
        ),
        ingested_bytes=Counter("dropwire_ingested_bytes_total", "Bytes of claimed files.", registry=reg),
        ingest_paused=Gauge(
            "dropwire_ingest_paused",
            "1 while ingest holds back because the enrich queue is too deep.",
            registry=reg,
            multiprocess_mode="livemax",
        ),
        tasks_started=Counter(
            "dropwire_tasks_started_total",
            "Documents taken up, by stage (heartbeats: dropwire_heartbeats_total).",
            ["stage"],
            registry=reg,
        ),
        tasks_in_progress=Gauge(
            "dropwire_tasks_in_progress",
            "Documents being processed, by stage (heartbeats not counted).",
            ["stage"],
            registry=reg,
            multiprocess_mode="livesum",
        ),
        tasks_completed=Counter(
            "dropwire_tasks_completed_total",
            "Documents that left a stage, by outcome: ok, failed (dead-lettered), retry (handed back);"
            " heartbeats not counted.",
            ["stage", "outcome"],
            registry=reg,
        ),
        task_failures=Counter(
            "dropwire_task_failures_total",
            "Documents that failed, by stage and reason (heartbeats not counted).",
            ["stage", "reason"],
            registry=reg,
        ),
        task_duration=Histogram(
            "dropwire_task_duration_seconds",
            "Time to process one work item, by stage.",
            ["stage"],
            buckets=DURATION_BUCKETS,
            registry=reg,
        ),
        last_success=Gauge(
            "dropwire_last_success_timestamp_seconds",
            "Unix time of the last success, by stage.",
            ["stage"],
            registry=reg,
            multiprocess_mode="max",
        ),
        retries=Counter(
            "dropwire_retries_total", "Transient failures retried, by stage.", ["stage"], registry=reg
        ),
        dead_letters=Counter(
            "dropwire_dead_letters_total",
            "Messages given up on, by stage and reason.",
            ["stage", "reason"],
            registry=reg,
        ),
        articles=Counter("dropwire_articles_total", "Articles extracted, by role.", ["role"], registry=reg),
        entities=Counter(
            "dropwire_entity_mentions_total",
            "Entity mentions found in articles, by label.",
            ["label"],
            registry=reg,
        ),
        parsed_documents=Counter(
            "dropwire_parsed_documents_total",
            "Documents parsed into articles (heartbeats not counted).",
            registry=reg,
        ),
        warned_documents=Counter(
            "dropwire_warned_documents_total",
            "Parsed documents with at least one parse warning: a layout the parser does not know.",
            registry=reg,
        ),
        parse_warnings=Counter(
            "dropwire_parse_warnings_total",
            "Parse warnings (text not placed with confidence), by kind.",
            ["kind"],
            registry=reg,
        ),
        store_batch_documents=Histogram(
            "dropwire_store_batch_documents",
            "Documents per store transaction.",
            buckets=BATCH_BUCKETS,
            registry=reg,
        ),
        store_rows=Counter("dropwire_store_rows_total", "Rows inserted, by table.", ["table"], registry=reg),
        duplicates=Counter(
            "dropwire_duplicates_total",
            "Documents skipped because their content was already stored.",
            registry=reg,
        ),
        story_articles=Counter(
            "dropwire_story_articles_total",
            "Articles stored, by how they joined a story: new (a story of their own), repeat, version.",
            ["kind"],
            registry=reg,
        ),
        queue_depth=Gauge(
            "dropwire_queue_depth",
            "Messages waiting in a broker queue.",
            ["queue"],
            registry=reg,
            multiprocess_mode="mostrecent",
        ),
        end_to_end_latency=Histogram(
            "dropwire_end_to_end_latency_seconds",
            "From file drop (mtime) to stored, seen at ingest.",
            buckets=LATENCY_BUCKETS,
            registry=reg,
        ),
        heartbeat_age=Gauge(
            "dropwire_heartbeat_age_seconds",
            "Seconds since the last heartbeat document came through (since start, before the first one).",
            registry=reg,
            multiprocess_mode="mostrecent",
        ),
        heartbeats=Counter(
            "dropwire_heartbeats_total",
            "Heartbeat documents through a stage, by outcome (ok, failed); kept out of dropwire_tasks_*.",
            ["stage", "outcome"],
            registry=reg,
        ),
    )
    m.build_info.labels(version=__version__, parser_version=parser_version, model_version=model_version).set(
        1
    )
    for outcome in ARCHIVE_OUTCOMES:
        m.files_archived.labels(outcome=outcome)
    for folder in FOLDERS:
        m.files_waiting.labels(folder=folder)
    for stage in STAGES:  # ingest counts the files every stage failed
        for reason in FAILURE_REASONS:
            m.files_failed.labels(stage=stage, reason=reason)
    for stage in (service,) if service in STAGES else STAGES:
        m.tasks_started.labels(stage=stage)
        m.tasks_in_progress.labels(stage=stage)
        m.retries.labels(stage=stage)
        m.task_duration.labels(stage=stage)
        m.last_success.labels(stage=stage)
        for outcome in TASK_OUTCOMES:
            m.tasks_completed.labels(stage=stage, outcome=outcome)
        for reason in FAILURE_REASONS:
            m.task_failures.labels(stage=stage, reason=reason)
            m.dead_letters.labels(stage=stage, reason=reason)
        for outcome in HEARTBEAT_OUTCOMES if stage != "ingest" else ():
            m.heartbeats.labels(stage=stage, outcome=outcome)
    for role in ROLES:
        m.articles.labels(role=role)
    for label in ENTITY_LABELS:
        m.entities.labels(label=label)
    for warning in WARNING_KINDS:
        m.parse_warnings.labels(kind=warning)
    for table in ("documents", "articles", "entities", "mentions", "failures", "journey_events"):
        m.store_rows.labels(table=table)
    for kind in STORY_KINDS:
        m.story_articles.labels(kind=kind)
    # dropwire_queue_depth is not pre-initialised: only the service that measures it (ingest, whose
    # scrape asks Redis) exports it, so `sum by (queue)` over all jobs is the depth, not a multiple.
    collect_process_metrics(reg)
    if service is None:
        return m
    from dataclasses import replace

    from shared.metric_owners import unregister_foreign

    families = {
        f.name: getattr(m, f.name) for f in fields(m) if isinstance(getattr(m, f.name), MetricWrapperBase)
    }
    return replace(m, exported=unregister_foreign(reg, families, service))


def collect_process_metrics(registry: CollectorRegistry) -> None:
    """``process_*`` (CPU, memory, start time, open files) and ``python_*`` (GC, version) series."""
    from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


# The series a family of each type is stored as (``_created`` series are switched off above).
_SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


@dataclass(frozen=True)
class MetricInfo:
    """One metric family as an operator sees it: name (as scraped), type, labels and meaning."""

    name: str
    type: str
    labels: tuple[str, ...]
    help: str
    samples: frozenset[str]


def describe(metrics: Metrics) -> list[MetricInfo]:
    """Every family ``metrics`` declares, in declaration order, with the sample names Prometheus stores."""
    out: list[MetricInfo] = []
    for f in fields(metrics):
        metric = getattr(metrics, f.name)
        if not isinstance(metric, MetricWrapperBase):
            continue
        for family in metric.describe():
            suffixes = _SAMPLE_SUFFIXES.get(family.type, ("",))
            name = f"{family.name}_total" if family.type == "counter" else family.name
            out.append(
                MetricInfo(
                    name=name,
                    type=family.type,
                    labels=tuple(metric._labelnames),
                    help=family.documentation,
                    samples=frozenset(family.name + suffix for suffix in suffixes),
                )
            )
    return out


def exported_names(metrics: Metrics | None = None) -> frozenset[str]:
    """Every series name a scrape of a dropwire service can carry (``_total``, ``_bucket``, ``_sum``…)."""
    return frozenset(name for info in describe(metrics or create_metrics()) for name in info.samples)


def markdown_table(metrics: Metrics | None = None) -> str:
    """The metrics as one Markdown table (``python -m shared.metrics`` prints it); the docs' reference page
    is written by ``scripts/gen_reference.py``."""
    rows = ["| metric | type | labels | meaning |", "|---|---|---|---|"]
    for info in describe(metrics or create_metrics()):
        labels = ", ".join(f"`{label}`" for label in info.labels) or "—"
        rows.append(f"| `{info.name}` | {info.type} | {labels} | {info.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
