"""What ingest costs per file under a backlog: two checkouts of ``dropwire ingest`` alternated.

For each round and each checkout (the order swapped every round): a fresh spool and a Redis database
of its own (leased, as the tests lease theirs), ``dropwire ingest`` started from that checkout
(``PYTHONPATH``), and in this process a stand-in for the rest of the pipeline: a kombu consumer on
``enrich`` that answers each batch of up to 16 documents (cut at the first lull, as enrich's) with one
``DocumentsDone`` on ``ingest.done``, as the store does. Then ``files`` generated files are dropped as
the bench drops them (written as ``.part``, renamed in) and ingest's CPU is read from ``/proc`` from
just before the drop until every file is in ``archive/``: watcher, claim, journal, publish, the done
consumer's filing away. The stand-in's own CPU is not counted.

    python scripts/ingest_cost.py BEFORE_CHECKOUT AFTER_CHECKOUT [files] [rounds] [rate] [KEY=VALUE ...]

``rate``: documents per second the stand-in answers at most (0, the default: as fast as it can); at
the bench's backlog rate (about 50) ingest's idle rounds between outcomes count as they do there.

``KEY=VALUE``: environment for both ingest processes (e.g. ``DROPWIRE_PROVENANCE=false``). Prints
one JSON line: CPU ms per file per round for each checkout, medians, and in how many rounds "after"
was lower.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from dropwire.bench_pipeline import count_done, drop_all
from dropwire.bench_procs import own_cpu_seconds
from dropwire.corpus import generate
from dropwire.stack import free_port, leased_redis_db
from shared.celery_app import TASK_DONE_BATCH, create_app, send
from shared.queues import QUEUE_ENRICH

REDIS = "redis://127.0.0.1:6379"
# The stand-in enrich: batches as large as enrich's, ended at the first lull of this length.
BATCH = 16
LULL_SECONDS = 0.005
WARM_UP_FILES = 6
DEADLINE_SECONDS = 300.0


class StandIn:
    """Consumes ``enrich`` and sends each batch's outcomes back to ingest as the store would."""

    def __init__(self, url: str, rate: float) -> None:
        self.app = create_app("ingest-cost", url)
        self.rate = rate
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(10)

    def _run(self) -> None:
        held: list[Any] = []
        with (
            self.app.connection_for_read() as conn,
            conn.Consumer(
                [self.app.amqp.queues[QUEUE_ENRICH]],
                callbacks=[lambda body, m: held.append((body, m))],
                accept=["json"],
            ) as consumer,
        ):
            consumer.qos(prefetch_count=3 * BATCH)
            while not self.stopping.is_set():
                try:
                    conn.drain_events(timeout=LULL_SECONDS if held else 0.2)
                    if len(held) < BATCH:
                        continue
                except TimeoutError:
                    if not held:
                        continue
                started = time.monotonic()
                self._answer([body for body, _ in held])
                if self.rate:  # paced like a pipeline whose enrichment takes 1/rate s per document
                    self.stopping.wait(max(0.0, started + len(held) / self.rate - time.monotonic()))
                for _, message in held:
                    message.ack()
                held.clear()

    def _answer(self, bodies: list[Any]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        items = []
        for body in bodies:
            doc = json.loads(body[0][0])
            items.append(
                {
                    "doc_id": doc["doc_id"],
                    "claim": doc["claim"],
                    "name": doc["name"],
                    "outcome": "stored",
                    "mtime": doc["mtime"],
                    "finished_at": now,
                    "heartbeat": doc.get("heartbeat", False),
                }
            )
        send(self.app, TASK_DONE_BATCH, json.dumps({"schema_version": 1, "items": items}))


def start_ingest(checkout: Path, spool: Path, url: str, extra: dict[str, str]) -> tuple[Any, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_")}
    env.update(
        {
            "PYTHONPATH": str(checkout),
            "DROPWIRE_SPOOL_DIR": str(spool),
            "DROPWIRE_BROKER_URL": url,
            "DROPWIRE_METRICS_PORT": str(port),
            "DROPWIRE_SETTLE_SECONDS": "0.3",
            "DROPWIRE_POLL_INTERVAL": "0.05",
            "DROPWIRE_LOG_FORMAT": "json",
            "DROPWIRE_LOG_LEVEL": "WARNING",  # as in the bench
            **extra,
        }
    )
    log = (spool.parent / "ingest.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dropwire.cli import main; main()", "ingest", "--create"],
        env=env,
        cwd=checkout,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return proc, port


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.02)


def one_run(checkout: Path, files: int, seed: int, rate: float, extra: dict[str, str]) -> dict[str, float]:
    corpus = list(generate(files, seed=seed))
    warm = [replace(f, name=f"warm_{f.name}") for f in generate(WARM_UP_FILES, seed=seed + 1)]
    with tempfile.TemporaryDirectory(prefix="dropwire-ingest-cost-") as tmp, leased_redis_db(REDIS) as url:
        spool = Path(tmp) / "spool"
        for folder in ("inbox", "processing", "archive", "failed"):
            (spool / folder).mkdir(parents=True)
        proc, port = start_ingest(checkout, spool, url, extra)
        try:
            with StandIn(url, rate):
                wait(lambda: ready(port), "ingest to be ready")
                drop_all(spool / "inbox", warm)
                wait(lambda: count_done(spool) >= len(warm), "warm-up files")
                cpu = own_cpu_seconds([proc.pid])
                start = time.perf_counter()
                drop_all(spool / "inbox", corpus)
                wait(lambda: count_done(spool) >= len(warm) + files, "the backlog")
                elapsed = time.perf_counter() - start
                cpu = own_cpu_seconds([proc.pid]) - cpu
        finally:
            proc.terminate()
            proc.wait(15)
    return {"cpu_ms_per_file": cpu * 1000 / files, "seconds": elapsed}


def main() -> None:
    before, after = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    numbers = [a for a in sys.argv[3:] if "=" not in a]
    extra = dict(a.split("=", 1) for a in sys.argv[3:] if "=" in a)
    files = int(numbers[0]) if numbers else 600
    rounds = int(numbers[1]) if len(numbers) > 1 else 6
    rate = float(numbers[2]) if len(numbers) > 2 else 0.0
    runs: dict[str, list[float]] = {"before": [], "after": []}
    for r in range(rounds):
        order = (("before", before), ("after", after))
        for label, checkout in order if r % 2 == 0 else order[::-1]:
            result = one_run(checkout, files, 900 + r, rate, extra)
            runs[label].append(round(result["cpu_ms_per_file"], 3))
            print(f"round {r + 1} {label}: {result}", file=sys.stderr)
    medians = {k: round(statistics.median(v), 3) for k, v in runs.items()}
    lower = sum(a < b for a, b in zip(runs["after"], runs["before"], strict=True))
    out = {
        "files": files,
        "rounds": rounds,
        "rate": rate,
        "cpu_ms_per_file": runs,
        "median": medians,
        "after_over_before": round(medians["after"] / medians["before"], 3),
        "after_lower_in": f"{lower} of {rounds}",
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
