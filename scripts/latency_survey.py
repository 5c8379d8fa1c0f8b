"""The measurements behind the histogram buckets and the store's backlog batching.

``python scripts/latency_survey.py [--redis URL] [--postgres-url URL] [--json FILE]``

Runs the three services as separate processes (``dropwire.stack``: enrich ``--concurrency 2``, the
shipped NER model, a fresh PostgreSQL database and a leased Redis database per run) with generated wire pages
(``dropwire.corpus``) in three runs, each on a fresh stack:

1. ``burst``: 200 files dropped at once;
2. ``steady``: 100 files at 5 files/s;
3. ``backlog``: 600 files dropped at once, twice: with the store's batch window off
   (``DROPWIRE_BATCH_SECONDS=0``: every batch ends at the first lull) and at its default.

It reads the services' own histograms after each run (percentiles interpolated within buckets, as
Prometheus's ``histogram_quantile`` does): enrich task and store batch durations, documents per store
batch, drop-to-stored latency; and for the backlog runs the store's transactions and the CPU the store
and PostgreSQL spent per document. Prints a JSON object; ``--json`` also writes it to a file. Figures
depend on the machine and on what else runs on it: state both beside them.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from dropwire.bench_pipeline import count_done, drop_all, wait_drained
from dropwire.bench_procs import cpu_seconds, own_cpu_seconds
from dropwire.corpus import generate
from dropwire.stack import Stack, fresh_postgres, leased_redis_db

Buckets = list[tuple[float, float]]  # (upper bound, cumulative count), sorted by bound


def histogram(text: str, name: str, **labels: str) -> Buckets:
    """The cumulative buckets of one histogram series in a /metrics text (summed over other labels)."""
    totals: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name != f"{name}_bucket":
                continue
            if any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            bound = float(sample.labels["le"])
            totals[bound] = totals.get(bound, 0.0) + sample.value
    return sorted(totals.items())


def quantile(buckets: Buckets, q: float) -> float:
    """``histogram_quantile``: linear interpolation inside the bucket holding the q-th observation."""
    if not buckets or buckets[-1][1] == 0:
        return math.nan
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its bound is all that is known
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return math.nan


def summary(buckets: Buckets, *quantiles: float) -> dict[str, float]:
    out = {f"p{round(q * 100)}": round(quantile(buckets, q), 4) for q in quantiles}
    out["count"] = buckets[-1][1] if buckets else 0
    return out


def read_histograms(stack: Stack) -> dict[str, Any]:
    enrich, store, ingest = stack.scrape("enrich"), stack.scrape("store"), stack.scrape("ingest")
    return {
        "enrich_task_seconds": summary(
            histogram(enrich, "dropwire_task_duration_seconds", stage="enrich"), 0.5, 0.9, 0.99
        ),
        "store_batch_seconds": summary(
            histogram(store, "dropwire_task_duration_seconds", stage="store"), 0.5, 0.9
        ),
        "store_batch_documents": summary(histogram(store, "dropwire_store_batch_documents"), 0.5, 0.9),
        "drop_to_stored_seconds": summary(
            histogram(ingest, "dropwire_end_to_end_latency_seconds"), 0.5, 0.9, 1.0
        ),
    }


def backend_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``database_url``'s database (other databases on
    the same server, such as other tests', are not counted; a backend that closed mid-run is lost)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(
                sa.text(
                    "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
                )
            ).scalars()
            return {pid: own_cpu_seconds([pid]) for pid in pids}
    finally:
        engine.dispose()


def one_run(
    root: Path,
    redis_url: str,
    pg_admin: str,
    files: Sequence[Any],
    *,
    rate: float | None,
    env: dict[str, str],
) -> dict[str, Any]:
    """One fresh stack, ``files`` dropped at once (``rate`` None) or paced; its histograms after."""
    with (
        fresh_postgres(pg_admin) as database_url,
        Stack(root, redis_url=redis_url, database_url=database_url, env=env) as stack,
    ):
        pids = {name: proc.pid for name, proc in stack.procs.items()}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        pg_before = backend_cpu(database_url)
        start = time.perf_counter()
        if rate is None:
            drop_all(stack.spool / "inbox", files)
        else:
            for i, item in enumerate(files):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # pacing the load generator
                drop_all(stack.spool / "inbox", [item])
        wait_drained(stack.spool, len(files), "survey")
        elapsed = time.perf_counter() - start
        time.sleep(1.0)  # one more metrics flush of the services' multiprocess files
        out = read_histograms(stack)
        out["files_per_s"] = round(len(files) / elapsed, 1)
        out["filed_away"] = count_done(stack.spool)
        out["store_cpu_ms_per_doc"] = round(
            (cpu_seconds(pids["store"]) - cpu_before["store"]) * 1000 / len(files), 2
        )
        pg_after = backend_cpu(database_url)
        pg_spent = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
        out["postgres_cpu_ms_per_doc"] = round(pg_spent * 1000 / len(files), 2)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379", help="a database of it is leased and flushed"
    )
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    corpus = list(generate(1000, seed=args.seed, duplicate_share=0.0))
    plans = [
        ("burst", corpus[:200], None, {}),
        ("steady", corpus[200:300], 5.0, {}),
        ("backlog_window_off", corpus[300:900], None, {"DROPWIRE_BATCH_SECONDS": "0"}),
        ("backlog_window_default", corpus[300:900], None, {}),
    ]
    results: dict[str, Any] = {}
    for label, files, rate, env in plans:
        with (
            leased_redis_db(args.redis) as redis_url,
            tempfile.TemporaryDirectory(prefix=f"survey-{label}-") as root,
        ):
            results[label] = one_run(Path(root), redis_url, args.postgres_url, files, rate=rate, env=env)
        print(label, json.dumps(results[label]), flush=True)
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
