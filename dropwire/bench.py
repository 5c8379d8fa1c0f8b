"""``dropwire bench``: how close the pipeline runs to the cost of enrichment itself.

On a small machine the work that cannot be avoided is enrichment: decoding, parsing and NER. Everything
else (watching, queueing, serialising, storing) is overhead. This module measures both in one run, on
one corpus, so their ratio means something on a noisy machine:

1. corpus: ``dropwire.corpus`` pages, deterministic by seed, 1-12 articles each, some duplicates;
2. ceiling: the enrichment function alone, one process per core, no queue, no database, in batches
   as the enrich worker makes them under a backlog (``enrich_batch``, ``DROPWIRE_ENRICH_BATCH_SIZE``);
3. NER alone: words/s on one core;
4. store alone: rows/s of batched upserts into PostgreSQL and SQLite; on PostgreSQL with story
   assignment on and off, ``ROUNDS`` interleaved pairs (median; the ratio: the median of the pairs');
5. pipeline, backlog: the three services as separate processes on the real Redis and PostgreSQL,
   the whole corpus dropped at once. Rounds interleave with the ceiling (ceiling, pipeline, ceiling,
   pipeline, ...; ``ROUNDS`` of each, each round a fresh corpus of the same size and both halves of a
   round the same files): the ratio reported is the median of the rounds' ratios, with their spread,
   so that a disturbance of the machine moves one round, not the result. A second stack with
   ``DROPWIRE_PROVENANCE=false`` runs the same files in every round (before or after the pipeline's,
   alternately): provenance's cost is the median of the rounds' on/off ratios;
6. pipeline, steady load: files dropped at 20 % and 80 % of the backlog rate, drop-to-stored latency;
7. memory: peak RSS per service, and enrich's RSS across a long backlog (flat or growing);
8. the embedded ``dropwire run`` (SQLite, in-process queue) on the same corpus.

Results go to a JSON file (raw figures) and ``BENCHMARKS.md`` (a table, the command, machine facts).

This module runs the phases in order; each concern has its own: ``bench_enrich`` (the unavoidable
work alone: steps 2-4), ``bench_pipeline`` (steps 5, 6 and 8), ``bench_procs`` (CPU, RSS and pids
from /proc), ``bench_broker`` (the transport alone), ``bench_report`` (the machine and the table).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from dropwire.bench_broker import MESSAGES, measure_transport
from dropwire.bench_enrich import (
    Ceiling,
    distinct_copies,
    measure_ner,
    measure_ner_quality,
    measure_store,
)
from dropwire.bench_memory import growth as memory_growth
from dropwire.bench_pipeline import (
    drop_all,
    measure_backlog,
    measure_embedded,
    measure_steady,
    wait_drained,
    warm_up,
)
from dropwire.bench_procs import RssSampler, console, percentile
from dropwire.bench_report import kept_sections, machine_facts, render_markdown
from dropwire.corpus import generate
from dropwire.stack import fresh_postgres

# Sizes: --quick must finish in well under a minute on 2 cores; the full run in about a quarter hour.
QUICK = {"files": 40, "steady_seconds": 4.0, "memory_files": 0, "store_docs": 100}
FULL = {"files": 600, "steady_seconds": 30.0, "memory_files": 10_000, "store_docs": 2_000}
# Interleaved rounds of ceiling and pipeline backlog (see 5.).
ROUNDS = 3


# --------------------------------------------------------------------------- the whole run


@dataclass
class BenchOptions:
    quick: bool
    json_path: Path
    markdown_path: Path
    redis_url: str
    pg_admin_url: str
    seed: int
    command: str


def run(options: BenchOptions) -> dict[str, Any]:
    sizes = QUICK if options.quick else FULL
    processes = os.cpu_count() or 1
    results: dict[str, Any] = {"quick": options.quick, "files": sizes["files"], "seed": options.seed}
    corpus = list(generate(int(sizes["files"]), seed=options.seed))
    results["corpus_articles"] = sum(f.articles for f in corpus)
    results["corpus_bytes"] = sum(len(f.data) for f in corpus)
    results["corpus_duplicates"] = sum(1 for f in corpus if f.duplicate_of)

    from shared.settings import EnrichSettings

    batch_size = EnrichSettings().enrich_batch_size
    with Ceiling(processes, batch_size) as ceiling:
        return _run(options, sizes, results, corpus, ceiling)


def _store_rounds(pg_admin_url: str, docs: list[Any]) -> dict[str, float]:
    """Store alone on PostgreSQL with story assignment on and off, ``ROUNDS`` pairs interleaved (on, off;
    off, on; ...), each run in a fresh database: rows/s of each mode is the median of its runs and the
    ratio the median of the pairs' ratios, so that neither mode always runs first (the process's first
    run pays its warm-up) and a disturbance of the machine moves one pair, not the result."""
    runs: dict[bool, list[float]] = {True: [], False: []}
    ratios = []
    for n in range(ROUNDS):
        for stories in (True, False) if n % 2 == 0 else (False, True):
            with fresh_postgres(pg_admin_url) as url:
                runs[stories].append(measure_store(url, docs, batch=50, stories=stories))
        ratios.append(runs[True][-1] / runs[False][-1])
    return {
        "store_rows_per_s_postgres": statistics.median(runs[True]),
        "store_rows_per_s_postgres_no_stories": statistics.median(runs[False]),
        "store_stories_ratio": statistics.median(ratios),
        "store_stories_ratio_min": min(ratios),
        "store_stories_ratio_max": max(ratios),
    }


def _run(
    options: BenchOptions,
    sizes: dict[str, float],
    results: dict[str, Any],
    corpus: list[Any],
    ceiling: Ceiling,
) -> dict[str, Any]:
    from dropwire.stack import Stack

    processes = ceiling.processes
    console.print(f"[bold]ceiling[/]: enrichment alone, {processes} processes, {len(corpus)} files (warm-up)")
    _, docs = ceiling.measure(corpus)
    console.print("[bold]NER alone[/], one core")
    results.update(measure_ner(docs))
    results.update(measure_ner_quality(Path(__file__).resolve().parents[1]))

    console.print("[bold]store alone[/]: PostgreSQL and SQLite")
    store_docs = distinct_copies(docs, int(sizes["store_docs"]))
    results.update(_store_rounds(options.pg_admin_url, store_docs))
    with tempfile.TemporaryDirectory(prefix="dropwire-bench-") as tmp:
        results["store_rows_per_s_sqlite"] = measure_store(f"sqlite:///{tmp}/store.db", store_docs, batch=50)
    console.print("[bold]broker transport[/]: kombu's stock Redis transport vs shared.broker's")
    results.update(measure_transport(options.redis_url, messages=200 if options.quick else MESSAGES))

    with (
        tempfile.TemporaryDirectory(prefix="dropwire-bench-") as tmp,
        fresh_postgres(options.pg_admin_url) as url,
    ):
        root = Path(tmp)
        env = {"DROPWIRE_LOG_LEVEL": "WARNING"}
        with (
            Stack(
                root, redis_url=options.redis_url, database_url=url, env=env, start_services=False
            ) as stack,
            contextlib.ExitStack() as beside,
        ):
            stack.start()
            pids = {name: proc.pid for name, proc in stack.procs.items()}
            warm_up(stack, processes, options.seed + 100)
            off = beside.enter_context(provenance_off_stack(options, processes))
            with RssSampler(pids) as sampler:
                results.update(interleaved_rounds(stack, ceiling, corpus, options.seed, off))
                beside.close()  # stopped before the steady phases: its idle loops would share the cores
                latencies: dict[str, list[float]] = {}
                phases = ((0.2, False), (0.8, False), (0.2, True))
                # Enough fresh files for every phase to last its steady_seconds (1.2 x the backlog rate).
                wanted = sum(share for share, _ in phases) * results["pipeline_docs_per_s"]
                fresh_count = max(int(sizes["files"]) * 2, int(wanted * float(sizes["steady_seconds"])) + 10)
                fresh = list(generate(fresh_count, seed=options.seed + 1, duplicate_share=0.0))
                used = 0
                # The third phase writes files in place: what the close settle time costs them.
                for share, in_place in phases:
                    rate = share * results["pipeline_docs_per_s"]
                    need = max(3, int(rate * sizes["steady_seconds"]))
                    batch = fresh[used : used + need]
                    used += need
                    how = "written in place" if in_place else "renamed in"
                    console.print(
                        f"[bold]pipeline, steady load[/] at {share:.0%} ({rate:.1f} files/s, {how})"
                    )
                    latencies[f"{share:.0%}{' in place' if in_place else ''}"] = measure_steady(
                        stack, batch, rate, float(sizes["steady_seconds"]), in_place=in_place
                    )
            for name in pids:
                results[f"{name}_rss_mb"] = sampler.peak(name)
    low = latencies["20%"]
    results["latency_p50_ms"] = percentile(low, 50)
    results["latency_p95_ms"] = percentile(low, 95)
    results["latency_p99_ms"] = percentile(low, 99)
    high = latencies["80%"]
    results["latency_80pct_p50_ms"] = percentile(high, 50)
    results["latency_80pct_p99_ms"] = percentile(high, 99)
    written_in_place = latencies["20% in place"]
    results["latency_inplace_p50_ms"] = percentile(written_in_place, 50)
    results["latency_inplace_p99_ms"] = percentile(written_in_place, 99)

    if sizes["memory_files"]:
        results.update(measure_memory(options, int(sizes["memory_files"]), processes))

    ratios, rates = [], []
    for number in range(ROUNDS):
        console.print(f"[bold]embedded round {number + 1}/{ROUNDS}[/]: ceiling, then dropwire run")
        figures, _ = ceiling.measure(corpus)
        with tempfile.TemporaryDirectory(prefix="dropwire-bench-") as tmp:
            rate = measure_embedded(corpus, Path(tmp))["embedded_docs_per_s"]
        rates.append(rate)
        ratios.append(rate / figures["ceiling_docs_per_s"])
    results["embedded_docs_per_s"] = statistics.median(rates)
    results["embedded_ratio"] = statistics.median(ratios)
    results["embedded_ratio_min"], results["embedded_ratio_max"] = min(ratios), max(ratios)
    return results


@contextlib.contextmanager
def provenance_off_stack(options: BenchOptions, processes: int) -> Iterator[Any]:
    """A second stack, warmed up, with ``DROPWIRE_PROVENANCE=false`` (its own spool, PostgreSQL
    database and Redis database): its backlog runs in the same rounds as the first stack's, so that
    provenance's cost is a ratio within each round, not one run against another stretch of the host."""
    import redis as redis_client

    from dropwire.stack import Stack

    redis_url = sibling_redis_db(options.redis_url)
    client = redis_client.Redis.from_url(redis_url)
    client.flushdb()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="dropwire-bench-") as tmp,
            fresh_postgres(options.pg_admin_url) as url,
        ):
            env = {"DROPWIRE_LOG_LEVEL": "WARNING", "DROPWIRE_PROVENANCE": "false"}
            with Stack(
                Path(tmp), redis_url=redis_url, database_url=url, env=env, start_services=False
            ) as stack:
                stack.start()
                warm_up(stack, processes, options.seed + 100)
                yield stack
    finally:
        client.flushdb()
        client.close()


def sibling_redis_db(url: str) -> str:
    """``url`` with the database number next to its own (``/14`` -> ``/13``, ``/0`` -> ``/1``)."""
    base, _, db = url.rpartition("/")
    number = int(db or 0)
    return f"{base}/{number - 1 if number > 0 else number + 1}"


def interleaved_rounds(
    stack: Any, ceiling: Ceiling, corpus: list[Any], seed: int, off: Any | None = None
) -> dict[str, Any]:
    """Ceiling and pipeline backlog in turn, ``ROUNDS`` times; the round with the median ratio gives
    the per-process figures, and the ratio's spread is reported with it (see 5.). With ``off`` (the
    stack without provenance) each round also runs its backlog, in alternating order with the
    pipeline's: provenance's cost is the median of the rounds' on/off ratios."""
    rounds: list[dict[str, float]] = []
    for number in range(ROUNDS):
        files = corpus if number == 0 else list(generate(len(corpus), seed=seed + 1000 * number))
        console.print(
            f"[bold]round {number + 1}/{ROUNDS}[/]: ceiling, then pipeline backlog ({len(files)} files)"
            + (", with and without provenance" if off is not None else "")
        )
        figures, _ = ceiling.measure(files)
        if off is not None and number % 2 == 1:
            figures["no_provenance_docs_per_s"] = measure_backlog(off, files)["pipeline_docs_per_s"]
        figures.update(measure_backlog(stack, files))
        if off is not None and number % 2 == 0:
            figures["no_provenance_docs_per_s"] = measure_backlog(off, files)["pipeline_docs_per_s"]
        figures["ratio"] = figures["pipeline_docs_per_s"] / figures["ceiling_docs_per_s"]
        rounds.append(figures)
    ratios = [r["ratio"] for r in rounds]
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    out: dict[str, Any] = dict(median)
    out["ratio"] = statistics.median(ratios)
    out["ratio_min"], out["ratio_max"] = min(ratios), max(ratios)
    out["ratio_rounds"] = ratios
    out["ceiling_docs_per_s"] = statistics.median(r["ceiling_docs_per_s"] for r in rounds)
    out["pipeline_docs_per_s"] = statistics.median(r["pipeline_docs_per_s"] for r in rounds)
    out["rounds"] = ROUNDS
    if off is not None:
        provenance = [r["pipeline_docs_per_s"] / r["no_provenance_docs_per_s"] for r in rounds]
        out["pipeline_docs_per_s_no_provenance"] = statistics.median(
            r["no_provenance_docs_per_s"] for r in rounds
        )
        out["provenance_ratio"] = statistics.median(provenance)
        out["provenance_ratio_min"], out["provenance_ratio_max"] = min(provenance), max(provenance)
    return out


def measure_memory(options: BenchOptions, count: int, processes: int) -> dict[str, Any]:
    """Enrich's memory across a long backlog, cycle by cycle of its recycled worker processes
    (``dropwire.bench_memory`` says why cycles, not the first and last samples, are compared)."""
    from dropwire.stack import Stack

    files = list(generate(count, seed=options.seed + 2, duplicate_share=0.0))
    with (
        tempfile.TemporaryDirectory(prefix="dropwire-bench-") as tmp,
        fresh_postgres(options.pg_admin_url) as url,
    ):
        env = {"DROPWIRE_LOG_LEVEL": "WARNING"}
        with Stack(
            Path(tmp), redis_url=options.redis_url, database_url=url, env=env, start_services=False
        ) as stack:
            stack.start()
            pids = {name: proc.pid for name, proc in stack.procs.items()}
            with RssSampler(pids, detailed=("enrich",)) as sampler:
                console.print(f"[bold]memory[/]: {count} files backlog")
                start = time.perf_counter()
                drop_all(stack.spool / "inbox", files)
                wait_drained(stack.spool, count, "memory backlog")
                elapsed = time.perf_counter() - start
    return {
        "memory_files": count,
        "memory_backlog_docs_per_s": count / elapsed,
        **memory_growth(sampler.details.get("enrich", []), pids["enrich"]),
        "memory_ingest_peak_mb": sampler.peak("ingest"),
        "memory_store_peak_mb": sampler.peak("store"),
    }


def command(
    quick: Annotated[
        bool, typer.Option("--quick", help="A small run (under a minute) for smoke tests.")
    ] = False,
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the raw figures.")] = Path(
        "bench-out/bench.json"
    ),
    markdown: Annotated[Path, typer.Option("--markdown", help="Where to write the table.")] = Path(
        "BENCHMARKS.md"
    ),
    redis_url: Annotated[
        str, typer.Option(help="Redis for the pipeline runs; this database is flushed.")
    ] = "redis://127.0.0.1:6379/14",
    pg_admin_url: Annotated[
        str,
        typer.Option(help="PostgreSQL maintenance database; the bench makes and drops its own databases."),
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    seed: Annotated[int, typer.Option(help="Corpus seed.")] = 1,
) -> None:
    """Measure the pipeline against the cost of enrichment itself; write BENCHMARKS.md and a JSON file."""
    import redis as redis_client

    from shared.logging import configure_logging

    configure_logging("WARNING")  # warnings only from this process: keep the progress readable

    client = redis_client.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    cmd = "dropwire bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    options = BenchOptions(quick, json_path, markdown, redis_url, pg_admin_url, seed, cmd.strip())
    results = run(options)
    facts = machine_facts()
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps({"results": results, "machine": facts, "command": options.command}, indent=2)
    )
    markdown.write_text(render_markdown(results, facts, options.command) + kept_sections(markdown))
    typer.echo(render_markdown(results, facts, options.command))


def register(app: typer.Typer) -> None:
    app.command("bench")(command)
