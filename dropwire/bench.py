"""``dropwire bench``: how close the pipeline runs to the cost of enrichment itself.

On a small machine the work that cannot be avoided is enrichment: decoding, parsing and NER. Everything
else (watching, queueing, serialising, storing) is overhead. This module measures both in one run, on
one corpus, so their ratio means something on a noisy machine:

1. corpus: ``dropwire.corpus`` pages, deterministic by seed, 1-12 articles each, some duplicates;
2. ceiling: the enrichment function alone, one process per core, no queue, no database;
3. NER alone: words/s on one core;
4. store alone: rows/s of batched upserts into PostgreSQL and SQLite;
5. pipeline, backlog: the three services as separate processes on the real Redis and PostgreSQL,
   the whole corpus dropped at once;
6. pipeline, steady load: files dropped at 20 % and 80 % of the backlog rate, drop-to-stored latency;
7. memory: peak RSS per service, and enrich's RSS across a long backlog (flat or growing);
8. the embedded ``dropwire run`` (SQLite, in-process queue) on the same corpus.

Results go to a JSON file (raw figures) and ``BENCHMARKS.md`` (a table, the command, machine facts).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dropwire.bench_broker import MESSAGES, measure_transport
from dropwire.corpus import CorpusFile, generate
from dropwire.stack import fresh_postgres
from shared.decoding import decode_bytes
from shared.messages import DocumentEnriched, DocumentReceived

console = Console(stderr=True)

# Sizes: --quick must finish in well under a minute on 2 cores; the full run in about a quarter hour.
QUICK = {"files": 40, "steady_seconds": 4.0, "memory_files": 0, "store_docs": 100}
FULL = {"files": 600, "steady_seconds": 30.0, "memory_files": 10_000, "store_docs": 2_000}
# Targets from the benchmark issue, checked in the table.
TARGETS = {
    "ratio": 0.80,
    "latency_p50_ms": 100.0,
    "latency_p99_ms": 500.0,
    "ner_words_per_s_per_core": 20_000.0,
    "store_rows_per_s_postgres": 20_000.0,
    "store_stories_ratio": 0.80,
    "enrich_rss_mb": 400.0,
    "ner_f1_conll2002_testa": 0.70,
    "ner_f1_modern_test": 0.85,
}
# How long any one phase may wait for the pipeline before it gives up (a stalled pipeline is a result).
PHASE_DEADLINE_SECONDS = 1800.0
# How often progress polls the spool: listing a 10,000-file archive/ costs a few ms, so not too often.
SPOOL_POLL_SECONDS = 0.05
# RSS sampling period: often enough to catch peaks of a worker that lives for minutes.
RSS_SAMPLE_SECONDS = 0.5


# --------------------------------------------------------------------------- enrichment, in-process


def received_from(item: CorpusFile, now: datetime) -> DocumentReceived:
    """What ingest would publish for one corpus file (decoded, hashed)."""
    decoded = decode_bytes(item.data)
    return DocumentReceived(
        doc_id=hashlib.sha256(item.data).hexdigest(),
        claim=item.name,
        name=item.name,
        received_at=now,
        mtime=now,
        size=len(item.data),
        encoding=decoded.encoding,
        text=decoded.text,
    )


_extractor: Any = None


def _load_extractor() -> Any:
    global _extractor
    if _extractor is None:
        from services.enrich.entities import load_extractor

        _extractor = load_extractor()
    return _extractor


def _enrich_chunk(chunk: Sequence[CorpusFile]) -> list[DocumentEnriched]:
    """Decode, parse and annotate a chunk of files: the unavoidable work, exactly as the worker does it."""
    from services.enrich.enrichment import enrich

    extractor = _load_extractor()
    now = datetime.now(UTC)
    out = []
    for item in chunk:
        result = enrich(received_from(item, now), extractor)
        if isinstance(result, DocumentEnriched):
            out.append(result)
    return out


def _warm(_: int) -> bool:
    _load_extractor()
    return True


def words_in(docs: Sequence[DocumentEnriched]) -> int:
    return sum(len(a.body.split()) for d in docs for a in d.articles)


def _chunks(items: Sequence[CorpusFile], size: int) -> list[Sequence[CorpusFile]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def measure_ceiling(
    corpus: Sequence[CorpusFile], processes: int
) -> tuple[dict[str, float], list[DocumentEnriched]]:
    """Enrichment alone, one process per core: the most the pipeline could ever do."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        pool.map(_warm, range(processes * 4), chunksize=1)  # every process loads the model before timing
        cpu_before = cpu_seconds(os.getpid())
        start = time.perf_counter()
        parts = pool.map(_enrich_chunk, _chunks(corpus, 4), chunksize=1)
        elapsed = time.perf_counter() - start
        cpu_used = cpu_seconds(os.getpid()) - cpu_before
    docs = [d for part in parts for d in part]
    articles = sum(len(d.articles) for d in docs)
    return (
        {
            "ceiling_docs_per_s": len(corpus) / elapsed,
            "ceiling_articles_per_s": articles / elapsed,
            "ceiling_words_per_s": words_in(docs) / elapsed,
            "ceiling_processes": processes,
            "ceiling_cpu_ms_per_doc": cpu_used * 1000 / len(corpus),
        },
        docs,
    )


def measure_ner(docs: Sequence[DocumentEnriched]) -> dict[str, float]:
    """NER alone on one core: the extractor over the articles the parser produced."""
    extractor = _load_extractor()
    bare = [tuple(a.model_copy(update={"entities": ()}) for a in d.articles) for d in docs]
    extractor.annotate(bare[0])  # warm caches
    start = time.perf_counter()
    for articles in bare:
        extractor.annotate(articles)
    elapsed = time.perf_counter() - start
    return {"ner_words_per_s_per_core": words_in(docs) / elapsed}


# Evaluation sets for the NER quality figures, relative to the repository (skipped when absent):
# CoNLL-2002 ned.testa lives in the team folder beside the checkout (research-only: evaluation only).
NER_EVAL_SETS = {
    "ner_f1_conll2002_testa": Path("../shared/data/conll2002-nl/ned.testa"),
    "ner_f1_modern_test": Path("tests/data/modern_nl/test.conll"),
}


def measure_ner_quality(root: Path) -> dict[str, float]:
    """Entity-level F1 (conlleval rules) of the shipped extractor on the evaluation sets present."""
    from services.enrich.ner_cli import tag_file

    out = {}
    for key, relative in NER_EVAL_SETS.items():
        path = root / relative
        if path.is_file():
            _, score = tag_file(path, None)
            out[key] = score.overall.f1
    return out


# --------------------------------------------------------------------------- store alone


def distinct_copies(docs: Sequence[DocumentEnriched], count: int) -> list[DocumentEnriched]:
    """``count`` documents with distinct ids, cycling over ``docs`` (so every one is really inserted)."""
    out = []
    for i in range(count):
        doc = docs[i % len(docs)]
        doc_id = hashlib.sha256(f"{doc.doc_id}:{i}".encode()).hexdigest()
        out.append(doc.model_copy(update={"doc_id": doc_id, "claim": f"{i}-{doc.claim}"}))
    return out


def measure_store(url: str, docs: Sequence[DocumentEnriched], batch: int, *, stories: bool = True) -> float:
    """Rows inserted per second (all tables) by ``Repository.write`` in batches of ``batch`` documents
    (``stories=False``: without story assignment, whose own rows are then not counted either way)."""
    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository

    upgrade(url)
    engine = make_engine(url)
    repo = Repository(engine, stories=stories)
    rows = 0
    start = time.perf_counter()
    for i in range(0, len(docs), batch):
        result = repo.write(docs[i : i + batch])
        rows += sum(result.rows.values())
    elapsed = time.perf_counter() - start
    engine.dispose()
    return rows / elapsed


# --------------------------------------------------------------------------- processes and memory


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _own_cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system) used so far by exactly these processes, not their descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended during the run: its CPU is not counted (a lower bound)
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its live descendants."""
    return _own_cpu_seconds(tree_pids(pid))


def rss_mb(pid: int) -> float:
    """Memory of ``pid`` and its descendants in MB: the sum of their proportional set sizes (PSS).

    PSS shares each page among the processes that map it, so forked workers sharing the model's
    pages are not counted twice, as a sum of RSS would.
    """
    total = 0
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total / 1024


@dataclass
class RssSampler:
    """Samples the RSS of some process trees in a background thread."""

    pids: dict[str, int]
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            for name, pid in self.pids.items():
                self.samples.setdefault(name, []).append((time.monotonic() - start, rss_mb(pid)))

    def peak(self, name: str) -> float:
        return max((mb for _, mb in self.samples.get(name, [])), default=0.0)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = PHASE_DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.02)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def drop_all(inbox: Path, files: Sequence[CorpusFile], *, in_place: bool = False) -> dict[str, float]:
    """Drop every file as an operator's ``mv`` does (or, ``in_place``, written straight into the inbox:
    complete at its close-write plus the close settle time); the wall time of each drop by name."""
    dropped = {}
    for item in files:
        if in_place:
            (inbox / item.name).write_bytes(item.data)
        else:
            part = inbox / f".{item.name}.part"
            part.write_bytes(item.data)
            os.rename(part, inbox / item.name)
        dropped[item.name] = time.time()
    return dropped


def count_done(spool: Path) -> int:
    """Files filed away: archived, or failed (their ``.error.json`` notes not counted)."""
    with os.scandir(spool / "archive") as archived, os.scandir(spool / "failed") as failed:
        return sum(1 for e in archived if not e.name.startswith(".")) + sum(
            1 for e in failed if not e.name.endswith(".error.json")
        )


def wait_drained(spool: Path, total: int, label: str) -> None:
    """Show progress until ``total`` files are archived or failed (deadline: PHASE_DEADLINE_SECONDS)."""
    deadline = time.monotonic() + PHASE_DEADLINE_SECONDS
    with _progress() as progress:
        task = progress.add_task(label, total=total)
        while (done := count_done(spool)) < total:
            progress.update(task, completed=done)
            if time.monotonic() > deadline:
                raise RuntimeError(f"benchmark gave up waiting for {label}: {done} of {total} done")
            time.sleep(SPOOL_POLL_SECONDS)  # polling the spool folder, not a wait for a fixed time


def stored_times(url: str) -> dict[str, datetime]:
    """When each document (by the name it was dropped under) was committed by the store."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select name, stored_at from documents")).all()
    engine.dispose()
    out = {}
    for name, stored_at in rows:
        if isinstance(stored_at, str):
            stored_at = datetime.fromisoformat(stored_at)
        if stored_at.tzinfo is None:
            stored_at = stored_at.replace(tzinfo=UTC)
        out[name] = stored_at
    return out


def warm_up(stack: Any, processes: int, seed: int) -> None:
    """A few files through the pipeline first, so every worker process has run its first document."""
    files = list(generate(processes * 3, seed=seed, duplicate_share=0.0))
    for item in files:
        item_name = f"warmup_{item.name}"
        stack.drop(item_name, item.data)
    wait_for(lambda: count_done(stack.spool) >= len(files), "warm-up files")


def server_pids(redis_url: str) -> dict[str, list[int]]:
    """The processes of the servers the pipeline leans on, whose CPU shares the cores too: the Redis
    serving ``redis_url`` (it reports its own pid) and every PostgreSQL process on this machine when
    asked (the bench is the only client while it runs; the services' pooled database connections are
    open by then, so a backend started later is the only CPU not counted)."""
    import redis as redis_client

    client = redis_client.Redis.from_url(redis_url)
    try:
        redis_pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    postgres = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    postgres.append(int(entry.name))
            except OSError:
                continue
    return {"redis": [redis_pid], "postgres": postgres}


def measure_backlog(stack: Any, corpus: Sequence[CorpusFile]) -> dict[str, float]:
    """The whole corpus dropped at once; documents/s from the drop to the last file filed away.

    Also the CPU each service spent per document, where the pipeline's overhead shows, and the CPU of
    Redis and PostgreSQL, which run on the same cores.
    """
    pids = {name: proc.pid for name, proc in stack.procs.items()}
    servers = server_pids(stack.redis_url)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    servers_before = {name: _own_cpu_seconds(p) for name, p in servers.items()}
    before = count_done(stack.spool)
    start = time.perf_counter()
    drop_all(stack.spool / "inbox", corpus)
    wait_drained(stack.spool, before + len(corpus), "pipeline backlog")
    elapsed = time.perf_counter() - start
    out = {"pipeline_docs_per_s": len(corpus) / elapsed, "pipeline_backlog_seconds": elapsed}
    for name, pid in pids.items():
        out[f"{name}_cpu_ms_per_doc"] = (cpu_seconds(pid) - cpu_before[name]) * 1000 / len(corpus)
    for name, p in servers.items():
        out[f"{name}_cpu_ms_per_doc"] = (_own_cpu_seconds(p) - servers_before[name]) * 1000 / len(corpus)
    out["pipeline_cpu_utilisation"] = (
        sum(out[f"{name}_cpu_ms_per_doc"] for name in (*pids, *servers))
        * len(corpus)
        / 1000
        / elapsed
        / (os.cpu_count() or 1)
    )
    return out


def measure_steady(
    stack: Any, files: Sequence[CorpusFile], rate: float, seconds: float, *, in_place: bool = False
) -> list[float]:
    """Drop ``files`` at ``rate`` per second for ``seconds``; drop-to-stored latencies in ms."""
    count = min(len(files), max(3, int(rate * seconds)))
    chosen = files[:count]
    before = count_done(stack.spool)
    dropped: dict[str, float] = {}
    start = time.monotonic()
    with _progress() as progress:
        task = progress.add_task(f"steady load {rate:.1f} files/s", total=count)
        for i, item in enumerate(chosen):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the load generator, not waiting for the pipeline
            dropped.update(drop_all(stack.spool / "inbox", [item], in_place=in_place))
            progress.update(task, completed=i + 1)
    wait_for(lambda: count_done(stack.spool) >= before + count, "steady-load files")
    stored = stored_times(stack.database_url)
    return [(stored[name].timestamp() - at) * 1000 for name, at in dropped.items() if name in stored]


def measure_embedded(corpus: Sequence[CorpusFile], root: Path) -> dict[str, float]:
    """``dropwire run`` (SQLite, in-process queue) over the same corpus."""
    from dropwire.embedded import Embedded, EmbeddedConfig
    from shared.settings import IngestSettings

    spool = root / "spool"
    config = EmbeddedConfig(
        spool_dir=spool,
        database_url=f"sqlite:///{root / 'embedded.db'}",
        ingest=IngestSettings(settle_seconds=0.2, poll_interval=0.05),
        metrics_port=0,
    )
    with Embedded(config):
        start = time.perf_counter()
        drop_all(spool / "inbox", corpus)
        wait_drained(spool, len(corpus), "embedded run")
        elapsed = time.perf_counter() - start
    return {"embedded_docs_per_s": len(corpus) / elapsed}


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
    from dropwire.stack import Stack

    sizes = QUICK if options.quick else FULL
    processes = os.cpu_count() or 1
    results: dict[str, Any] = {"quick": options.quick, "files": sizes["files"], "seed": options.seed}
    corpus = list(generate(int(sizes["files"]), seed=options.seed))
    results["corpus_articles"] = sum(f.articles for f in corpus)
    results["corpus_bytes"] = sum(len(f.data) for f in corpus)
    results["corpus_duplicates"] = sum(1 for f in corpus if f.duplicate_of)

    console.print(f"[bold]ceiling[/]: enrichment alone, {processes} processes, {len(corpus)} files")
    ceiling, docs = measure_ceiling(corpus, processes)
    results.update(ceiling)
    console.print("[bold]NER alone[/], one core")
    results.update(measure_ner(docs))
    results.update(measure_ner_quality(Path(__file__).resolve().parents[1]))

    console.print("[bold]store alone[/]: PostgreSQL and SQLite")
    store_docs = distinct_copies(docs, int(sizes["store_docs"]))
    with fresh_postgres(options.pg_admin_url) as url:
        results["store_rows_per_s_postgres"] = measure_store(url, store_docs, batch=50)
    with fresh_postgres(options.pg_admin_url) as url:
        results["store_rows_per_s_postgres_no_stories"] = measure_store(
            url, store_docs, batch=50, stories=False
        )
    results["store_stories_ratio"] = (
        results["store_rows_per_s_postgres"] / results["store_rows_per_s_postgres_no_stories"]
    )
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
        with Stack(
            root, redis_url=options.redis_url, database_url=url, env=env, start_services=False
        ) as stack:
            stack.start()
            pids = {name: proc.pid for name, proc in stack.procs.items()}
            warm_up(stack, processes, options.seed + 100)
            with RssSampler(pids) as sampler:
                console.print(f"[bold]pipeline, backlog[/]: {len(corpus)} files dropped at once")
                results.update(measure_backlog(stack, corpus))
                results["ratio"] = results["pipeline_docs_per_s"] / results["ceiling_docs_per_s"]
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
    in_place = latencies["20% in place"]
    results["latency_inplace_p50_ms"] = percentile(in_place, 50)
    results["latency_inplace_p99_ms"] = percentile(in_place, 99)

    if sizes["memory_files"]:
        results.update(measure_memory(options, int(sizes["memory_files"]), processes))

    console.print("[bold]embedded[/]: dropwire run (SQLite, in-process queue)")
    with tempfile.TemporaryDirectory(prefix="dropwire-bench-") as tmp:
        results.update(measure_embedded(corpus, Path(tmp)))
    results["embedded_ratio"] = results["embedded_docs_per_s"] / results["ceiling_docs_per_s"]
    return results


def measure_memory(options: BenchOptions, count: int, processes: int) -> dict[str, float]:
    """Enrich's RSS across a long backlog: the first and last tenth of the samples, compared."""
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
            with RssSampler(pids) as sampler:
                console.print(f"[bold]memory[/]: {count} files backlog")
                start = time.perf_counter()
                drop_all(stack.spool / "inbox", files)
                wait_drained(stack.spool, count, "memory backlog")
                elapsed = time.perf_counter() - start
    series = [mb for _, mb in sampler.samples.get("enrich", [])]
    tenth = max(1, len(series) // 10)
    first, last = statistics.mean(series[:tenth]), statistics.mean(series[-tenth:])
    return {
        "memory_files": count,
        "memory_backlog_docs_per_s": count / elapsed,
        "enrich_rss_first_tenth_mb": first,
        "enrich_rss_last_tenth_mb": last,
        "enrich_rss_growth_pct": (last - first) / first * 100,
        "memory_enrich_peak_mb": max(series),
        "memory_ingest_peak_mb": sampler.peak("ingest"),
        "memory_store_peak_mb": sampler.peak("store"),
    }


# --------------------------------------------------------------------------- reporting


def machine_facts() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "commit": commit or "unknown",
    }


ROWS: tuple[tuple[str, str, str, str], ...] = (
    # key, what, unit, comparison against TARGETS (">=" or "<=" or "")
    ("ceiling_docs_per_s", "Ceiling: enrichment alone, one process per core", "docs/s", ""),
    ("ceiling_articles_per_s", "Ceiling: articles", "articles/s", ""),
    ("ceiling_words_per_s", "Ceiling: words", "words/s", ""),
    ("ceiling_cpu_ms_per_doc", "Ceiling: CPU per document (decode, parse, NER)", "ms", ""),
    ("pipeline_docs_per_s", "Pipeline, backlog (Redis + PostgreSQL, separate processes)", "docs/s", ""),
    ("ingest_cpu_ms_per_doc", "Pipeline, backlog: ingest CPU per document", "ms", ""),
    ("enrich_cpu_ms_per_doc", "Pipeline, backlog: enrich CPU per document (all processes)", "ms", ""),
    ("store_cpu_ms_per_doc", "Pipeline, backlog: store CPU per document", "ms", ""),
    ("redis_cpu_ms_per_doc", "Pipeline, backlog: Redis CPU per document", "ms", ""),
    ("postgres_cpu_ms_per_doc", "Pipeline, backlog: PostgreSQL CPU per document", "ms", ""),
    (
        "pipeline_cpu_utilisation",
        "Pipeline, backlog: share of all cores the services, Redis and PostgreSQL kept busy",
        "x",
        "",
    ),
    ("ratio", "Pipeline / ceiling", "x", ">="),
    ("latency_p50_ms", "Drop-to-stored latency at 20 % load, p50", "ms", "<="),
    ("latency_p95_ms", "Drop-to-stored latency at 20 % load, p95", "ms", ""),
    ("latency_p99_ms", "Drop-to-stored latency at 20 % load, p99", "ms", "<="),
    ("latency_80pct_p50_ms", "Drop-to-stored latency at 80 % load, p50", "ms", ""),
    ("latency_80pct_p99_ms", "Drop-to-stored latency at 80 % load, p99", "ms", ""),
    ("latency_inplace_p50_ms", "Same at 20 % load, files written in place (close settle), p50", "ms", ""),
    ("latency_inplace_p99_ms", "Same at 20 % load, files written in place (close settle), p99", "ms", ""),
    ("ner_words_per_s_per_core", "NER alone, one core", "words/s", ">="),
    (
        "broker_stock_us_per_msg",
        "Broker round trip (publish, deliver, ack), kombu's stock Redis transport",
        "µs CPU",
        "",
    ),
    ("broker_ours_us_per_msg", "Broker round trip, shared.broker (one Redis client per pool)", "µs CPU", ""),
    ("broker_saving_pct", "CPU the shared.broker transport saves per message", "%", ""),
    ("ner_f1_conll2002_testa", "NER F1, CoNLL-2002 ned.testa (evaluation only)", "F1", ">="),
    ("ner_f1_modern_test", "NER F1, the team's modern-news test split", "F1", ">="),
    ("store_rows_per_s_postgres", "Store alone, PostgreSQL, batches of 50 documents", "rows/s", ">="),
    ("store_rows_per_s_postgres_no_stories", "Store alone, PostgreSQL, story assignment off", "rows/s", ""),
    ("store_stories_ratio", "Store alone, PostgreSQL: stories on / off", "x", ">="),
    ("store_rows_per_s_sqlite", "Store alone, SQLite, batches of 50 documents", "rows/s", ""),
    ("ingest_rss_mb", "Peak memory (PSS), ingest", "MB", ""),
    ("enrich_rss_mb", "Peak memory (PSS), enrich: the parent and its worker processes", "MB", "<="),
    ("store_rss_mb", "Peak memory (PSS), store", "MB", ""),
    ("enrich_rss_first_tenth_mb", "Enrich memory over a long backlog: first tenth of the samples", "MB", ""),
    ("enrich_rss_last_tenth_mb", "Enrich memory over a long backlog: last tenth of the samples", "MB", ""),
    ("enrich_rss_growth_pct", "Enrich memory growth over the long backlog", "%", ""),
    ("embedded_docs_per_s", "Embedded dropwire run (SQLite, in-process queue)", "docs/s", ""),
    ("embedded_ratio", "Embedded / ceiling", "x", ""),
)


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) < 1:
        return f"{value:.3f}"
    return f"{value:.2f}"


# Sections measured apart from this command (each names its own command) follow this heading in
# BENCHMARKS.md; a bench run rewrites what comes before it and keeps them.
KEPT_HEADING = "## Measured apart from `dropwire bench`"


def kept_sections(markdown: Path) -> str:
    """What follows ``KEPT_HEADING`` in the existing file (with the heading), or nothing."""
    try:
        text = markdown.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    at = text.find(KEPT_HEADING)
    return "" if at == -1 else "\n" + text[at:]


def render_markdown(results: dict[str, Any], facts: dict[str, str], command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Made by `dropwire bench` (see `dropwire/bench.py` for what each figure measures). Every figure",
        "below comes from the one run described here; ratios are taken within that run.",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['memory']}, Python {facts['python']}; "
        f"commit {facts['commit']}; {facts['date']}.",
        "",
        f"Corpus: {results['files']} files (seed {results['seed']}), {results['corpus_articles']} articles, "
        f"{results['corpus_bytes']:,} bytes, {results['corpus_duplicates']} duplicates.",
        "",
        "| measure | value | unit | target | met |",
        "|---|---:|---|---|---|",
    ]
    for key, what, unit, cmp in ROWS:
        if key not in results:
            continue
        value = float(results[key])
        target, met = "", ""
        if cmp and key in TARGETS:
            target = f"{cmp} {_fmt(TARGETS[key])}"
            ok = value >= TARGETS[key] if cmp == ">=" else value <= TARGETS[key]
            met = "yes" if ok else f"no ({value / TARGETS[key]:.2f} of target)"
        lines.append(f"| {what} | {_fmt(value)} | {unit} | {target} | {met} |")
    lines.append("")
    lines.extend(where_time_goes(results))
    return "\n".join(lines)


def where_time_goes(results: dict[str, Any]) -> list[str]:
    """What the per-process CPU figures of this run say about the ratio to the ceiling."""
    services = ("ingest_cpu_ms_per_doc", "enrich_cpu_ms_per_doc", "store_cpu_ms_per_doc")
    servers = ("redis_cpu_ms_per_doc", "postgres_cpu_ms_per_doc")
    if not all(k in results for k in (*services, *servers, "ceiling_cpu_ms_per_doc")):
        return []
    cores = float(results["ceiling_processes"])
    ceiling = float(results["ceiling_cpu_ms_per_doc"])
    spent = sum(float(results[k]) for k in (*services, *servers))
    bound = cores * 1000 / spent
    allowed = ceiling / float(TARGETS["ratio"])
    return [
        "## Where the time goes (from this run's figures)",
        "",
        f"- The ceiling spends {ceiling:.1f} ms of CPU per document; in the pipeline "
        f"enrich spends {results['enrich_cpu_ms_per_doc']:.1f} ms (its Celery parent process and message "
        f"encoding on top), ingest {results['ingest_cpu_ms_per_doc']:.1f} ms, store "
        f"{results['store_cpu_ms_per_doc']:.1f} ms, Redis {results['redis_cpu_ms_per_doc']:.1f} ms and "
        f"PostgreSQL {results['postgres_cpu_ms_per_doc']:.1f} ms: {spent:.1f} ms in all, on the same "
        f"{cores:.0f} cores.",
        f"- With every core busy that CPU cost alone would allow {bound:.1f} docs/s, "
        f"{bound / float(results['ceiling_docs_per_s']):.2f} of the ceiling. A ratio of "
        f"{TARGETS['ratio']:.2f} needs the whole pipeline within {allowed:.1f} ms per document: "
        f"{allowed - ceiling:.1f} ms for everything that is not enrichment, against "
        f"{spent - ceiling:.1f} ms here.",
        f"- The services, Redis and PostgreSQL kept {float(results['pipeline_cpu_utilisation']):.0%} of "
        "the cores busy during the backlog; for the rest of the time they were waiting on each other, or "
        "other work on the machine had the CPU.",
        "- What a profile of the backlog shows (`py-spy record --gil -p <pid>` on each service): outside "
        "the NER model, the CPU goes to moving messages. Each document is two Celery messages of its "
        "own (received, enriched) and a share of its store batch's done message; each message costs its "
        "sender Celery's task-message construction and a publish, and its receiver kombu's delivery "
        "bookkeeping (the unacknowledged-message index in Redis, then the acknowledgement), in enrich "
        "also the hand-over between the Celery parent and its worker processes. In ingest, watchdog's "
        "event threads come next. No one step is large: closing that gap needs fewer hops per document "
        "(e.g. enrich consuming in batches, or ingest and enrich in one process), not a faster step.",
        "- Store and PostgreSQL (a profile of the store alone: `pyinstrument` around `Repository.write`): "
        "story assignment is most of the store's time, above all inserting and looking up the story "
        "index keys (see the stories on/off row), and PostgreSQL also computes and indexes each "
        "article's `dutch` tsvector for search.",
        "",
    ]


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

    configure_logging("WARNING")  # the embedded run logs in this process; keep the progress readable

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
