"""One backlog through the pipeline of whichever checkout is on PYTHONPATH: CPU per document of each
process (``stack``: ingest, enrich, store as separate processes on Redis and PostgreSQL) or the
documents/s of ``dropwire run`` (``embedded``). Run it from two checkouts in turn to compare them:

    PYTHONPATH=<checkout> python scripts/compare_hops.py stack redis://127.0.0.1:6379/<db> 501 200
    PYTHONPATH=<checkout> python scripts/compare_hops.py embedded - 701 150

(arguments: mode, Redis URL whose database is used, corpus seed, files). Prints one JSON line; in
``stack`` mode it also holds ``enrich_parent_cpu_ms_per_doc``: enrich's consumer process alone.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from dropwire.bench_pipeline import measure_backlog, measure_embedded, warm_up
from dropwire.bench_procs import own_cpu_seconds
from dropwire.corpus import generate
from dropwire.stack import Stack, fresh_postgres
from shared.logging import configure_logging

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    mode, redis_url, seed, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    configure_logging("WARNING")
    corpus = list(generate(files, seed=seed))
    with tempfile.TemporaryDirectory(prefix="dropwire-hops-") as tmp:
        if mode == "embedded":
            print(json.dumps(measure_embedded(corpus, Path(tmp))))
            return
        with (
            fresh_postgres(PG_ADMIN) as url,
            Stack(
                Path(tmp),
                redis_url=redis_url,
                database_url=url,
                env={"DROPWIRE_LOG_LEVEL": "WARNING"},
                start_services=False,
            ) as stack,
        ):
            stack.start()
            warm_up(stack, 2, seed + 100)
            parent = [stack.procs["enrich"].pid]  # enrich's consumer process alone, its workers apart
            before = own_cpu_seconds(parent)
            out = measure_backlog(stack, corpus)
            out["enrich_parent_cpu_ms_per_doc"] = (own_cpu_seconds(parent) - before) * 1000 / files
            print(json.dumps(out))


if __name__ == "__main__":
    main()
