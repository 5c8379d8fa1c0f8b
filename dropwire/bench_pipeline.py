"""The bench's pipeline phases: dropping the corpus into a running stack (or ``dropwire run``) and
timing it through to the archive, as a backlog and as a steady load."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dropwire.bench_procs import PHASE_DEADLINE_SECONDS, console, cpu_seconds, own_cpu_seconds, wait_for
from dropwire.corpus import CorpusFile, generate

# How often progress polls the spool: listing a 10,000-file archive/ costs a few ms, so not too often.
SPOOL_POLL_SECONDS = 0.05


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
    servers_before = {name: own_cpu_seconds(p) for name, p in servers.items()}
    before = count_done(stack.spool)
    start = time.perf_counter()
    drop_all(stack.spool / "inbox", corpus)
    wait_drained(stack.spool, before + len(corpus), "pipeline backlog")
    elapsed = time.perf_counter() - start
    out = {"pipeline_docs_per_s": len(corpus) / elapsed, "pipeline_backlog_seconds": elapsed}
    for name, pid in pids.items():
        out[f"{name}_cpu_ms_per_doc"] = (cpu_seconds(pid) - cpu_before[name]) * 1000 / len(corpus)
    for name, p in servers.items():
        out[f"{name}_cpu_ms_per_doc"] = (own_cpu_seconds(p) - servers_before[name]) * 1000 / len(corpus)
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
    """``dropwire run`` (SQLite, in-process queue) over the same corpus, started as a user starts it:
    a process of its own, so that the bench's progress and its polling of the spool share the cores
    with it, as any other program would, but not its interpreter."""
    import subprocess

    from dropwire.stack import answers_ready, dropwire_command, free_port, wait_until

    spool = root / "spool"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_")}
    env.update(
        {
            "DROPWIRE_SPOOL_DIR": str(spool),
            "DROPWIRE_DATABASE_URL": f"sqlite:///{root / 'embedded.db'}",
            "DROPWIRE_SETTLE_SECONDS": "0.2",
            "DROPWIRE_POLL_INTERVAL": "0.05",
            "DROPWIRE_METRICS_PORT": str(port),
            "DROPWIRE_LOG_LEVEL": "WARNING",
        }
    )

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"dropwire run exited early: see {root / 'run.log'}")
        return answers_ready(f"http://127.0.0.1:{port}/readyz")

    with (root / "run.log").open("ab") as log:
        proc = subprocess.Popen([*dropwire_command(), "run"], cwd=root, env=env, stdout=log, stderr=log)
    try:
        wait_until(ready, "dropwire run to answer /readyz", timeout=120)
        start = time.perf_counter()
        drop_all(spool / "inbox", corpus)
        wait_drained(spool, len(corpus), "embedded run")
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return {"embedded_docs_per_s": len(corpus) / elapsed}
