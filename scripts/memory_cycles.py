"""Enrich's memory over a long backlog, worker cycle by worker cycle (what ``dropwire bench`` reads).

``python scripts/memory_cycles.py [--files 10000] [--json FILE] [NAME=VALUE ...]``

Runs the three services as separate processes (``dropwire.stack``, a leased Redis database and a
fresh PostgreSQL database), drops ``--files`` generated pages at once and samples the PSS of every
process of enrich's tree every 0.5 s until all are filed away (``dropwire.bench_procs.RssSampler``).
Prints each worker generation (its processes, when it ran, its peak alone and at the recycle
overlap) and the growth figures of ``dropwire.bench_memory.growth``; ``--json`` also writes the
samples. ``NAME=VALUE`` arguments are passed to the services' environment
(``DROPWIRE_ENRICH_RECYCLE_DOCUMENTS=500``, say).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from dropwire.bench_memory import cycles, growth
from dropwire.bench_pipeline import drop_all, wait_drained
from dropwire.bench_procs import RssSampler
from dropwire.corpus import generate
from dropwire.stack import Stack, fresh_postgres, leased_redis_db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", type=Path)
    parser.add_argument("env", nargs="*", help="NAME=VALUE for the services' environment")
    args = parser.parse_args()
    env = {"DROPWIRE_LOG_LEVEL": "WARNING", **dict(a.split("=", 1) for a in args.env)}
    files = list(generate(args.files, seed=args.seed, duplicate_share=0.0))
    with (
        leased_redis_db(args.redis) as redis_url,
        tempfile.TemporaryDirectory(prefix="dropwire-memory-") as tmp,
        fresh_postgres(args.pg_admin_url) as url,
        Stack(Path(tmp), redis_url=redis_url, database_url=url, env=env, start_services=False) as stack,
    ):
        stack.start()
        root = stack.procs["enrich"].pid
        with RssSampler({"enrich": root}, detailed=("enrich",)) as sampler:
            start = time.perf_counter()
            drop_all(stack.spool / "inbox", files)
            wait_drained(stack.spool, len(files), "memory backlog")
            elapsed = time.perf_counter() - start
    details = sampler.details.get("enrich", [])
    print(f"{len(files)} files in {elapsed:.0f} s, {len(details)} samples")
    for n, cycle in enumerate(cycles(details, root), 1):
        print(
            f"cycle {n}: {details[cycle.first][0]:.0f}-{details[cycle.last][0]:.0f} s, "
            f"peak alone {cycle.peak_mb:.1f} MB, at the recycle {cycle.overlap_mb:.1f} MB"
            f"{'' if cycle.complete else ' (incomplete)'}"
        )
    figures = growth(details, root)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"root": root, "elapsed": elapsed, "details": details, **figures}))


if __name__ == "__main__":
    main()
