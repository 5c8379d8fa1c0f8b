"""Where a document's drop-to-stored time goes, hop by hop, at a steady load (from its journey).

``python scripts/latency_hops.py [--rate R | --share 0.8] [--seconds 30] [--rounds 3] [NAME=VALUE ...]``

Runs the three services as separate processes (``dropwire.stack``: a leased Redis database, a fresh
PostgreSQL database), warms them up, measures the backlog rate as ``dropwire bench`` does (``--rounds``
backlogs of 600 files) and then drops files at ``--share`` of that rate (or at ``--rate`` files/s)
for ``--seconds``. Each steady file's journey (``shared.readmodel.journey``: the spool's journal and
the store's ``journey_events``) splits its time into hops: dropped -> claimed (ingest's watch and
settle), claimed -> queued (claim and publish), queued -> enrich_started (waiting for a worker
process: the queue, the batch), enrich_started -> enriched (the batch's NER pass: every document of a
batch waits for the whole batch), enriched -> stored (the store's queue, batch and commit). Prints
percentiles per hop, the batch sizes seen and the slowest documents. ``NAME=VALUE`` arguments go to
the services' environment (``DROPWIRE_ENRICH_BATCH_SIZE=8``, say).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from dropwire.bench_pipeline import measure_backlog, measure_steady, stored_times, warm_up
from dropwire.bench_procs import percentile
from dropwire.corpus import generate
from dropwire.stack import Stack, fresh_postgres, leased_redis_db
from shared.journal import Journal
from shared.readmodel import open_engine
from shared.readmodel.journey import journeys_of

HOPS = ("dropped", "claimed", "queued", "enrich_started", "enriched", "stored")


def steady_journeys(args: argparse.Namespace, env: dict[str, str]) -> tuple[list[dict[str, Any]], float]:
    """The journeys of the steady-load files (time of each step, enrich's and the store's facts)."""
    with (
        leased_redis_db(args.redis) as redis_url,
        tempfile.TemporaryDirectory(prefix="dropwire-hops-") as tmp,
        fresh_postgres(args.pg_admin_url) as url,
        Stack(Path(tmp), redis_url=redis_url, database_url=url, env=env, start_services=False) as stack,
    ):
        stack.start()
        warm_up(stack, 2, 101)
        rates = [
            measure_backlog(stack, list(generate(600, seed=11 + n)))["pipeline_docs_per_s"]
            for n in range(args.rounds)
        ]
        rate = args.rate or args.share * statistics.median(rates)
        print(f"backlog rates {[round(r, 1) for r in rates]} docs/s; steady load {rate:.1f} files/s")
        files = list(generate(int(rate * args.seconds) + 5, seed=22, duplicate_share=0.0))
        measure_steady(stack, files, rate, args.seconds)
        steady = {f.name for f in files}
        claims = {ln.claim for ln in Journal(stack.spool).lines()}
        engine = open_engine(url)
        try:
            journeys = [
                j for j in journeys_of(claims, engine=engine, spool_root=stack.spool) if j.name in steady
            ]
        finally:
            engine.dispose()
        stored = stored_times(url)
    rows = []
    for journey in journeys:
        at: dict[str, float] = {}
        facts: dict[str, Any] = {}
        for step in journey.steps:
            at.setdefault(step.kind, step.at.timestamp())
            facts.setdefault(step.kind, step.facts)
        if journey.name in stored and all(h in at for h in HOPS):
            at["committed"] = stored[journey.name].timestamp()
            rows.append({"at": at, "enriched": facts["enriched"], "stored": facts["stored"]})
    return rows, rate


def report(rows: list[dict[str, Any]]) -> None:
    total = [(r["at"]["committed"] - r["at"]["dropped"]) * 1000 for r in rows]
    print(
        f"{len(rows)} documents; drop to stored p50 {percentile(total, 50):.0f} ms, "
        f"p95 {percentile(total, 95):.0f} ms, p99 {percentile(total, 99):.0f} ms"
    )
    for a, b in itertools.pairwise(HOPS):
        hop = [(r["at"][b] - r["at"][a]) * 1000 for r in rows]
        print(
            f"  {a:>14} -> {b:<14} p50 {percentile(hop, 50):7.1f}  p90 {percentile(hop, 90):7.1f}  "
            f"p99 {percentile(hop, 99):7.1f} ms"
        )
    sizes = Counter(r["enriched"].get("batch") for r in rows)
    print("  documents by enrich batch size:", dict(sorted(sizes.items(), key=lambda kv: kv[0] or 0)))
    print("  slowest 1 %: hops in ms, enrich batch size, store batch documents")
    slowest = sorted(rows, key=lambda r: r["at"]["committed"] - r["at"]["dropped"])[
        -max(1, len(rows) // 100) :
    ]
    for r in slowest:
        hops = [round((r["at"][b] - r["at"][a]) * 1000) for a, b in itertools.pairwise(HOPS)]
        total_ms = (r["at"]["committed"] - r["at"]["dropped"]) * 1000
        print(
            f"    {total_ms:6.0f} {hops} batch {r['enriched'].get('batch')} store {r['stored'].get('docs')}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", type=float, default=0.8, help="steady load as a share of the backlog rate")
    parser.add_argument("--rate", type=float, help="steady load in files/s (instead of --share)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3, help="backlog rounds before the steady load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("env", nargs="*", help="NAME=VALUE for the services' environment")
    args = parser.parse_args()
    env = {"DROPWIRE_LOG_LEVEL": "WARNING", **dict(a.split("=", 1) for a in args.env)}
    rows, _ = steady_journeys(args, env)
    report(rows)


if __name__ == "__main__":
    main()
