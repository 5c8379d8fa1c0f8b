"""``dropwire store``: start-up steps, consumer threads, metrics endpoint, graceful stop.

Start-up is explicit and ordered (never at import time): wait for the database, optionally migrate
it (``--migrate``), refuse to start on a schema that is not at head, then create the one engine of
this process and start ``concurrency`` consumer threads. SQLite allows one writer at a time, so on
SQLite the concurrency is held to 1 (WAL and the busy timeout cover readers such as the CLI).

SIGTERM or SIGINT stops consuming: a batch being written finishes (commit, publish, ack); messages
not yet written stay unacknowledged and the broker hands them out again.
"""

from __future__ import annotations

import contextvars
import signal
import threading
from dataclasses import dataclass

from services.store.db import (
    current_revision,
    head_revision,
    is_sqlite,
    make_engine,
    upgrade,
    wait_for_database,
)
from services.store.handler import StoreHandler
from services.store.repository import Repository
from services.store.task import BatchConsumer
from shared.celery_app import QUEUE_STORE, create_app
from shared.logging import get_logger
from shared.metrics import create_metrics
from shared.observability import database_check, heartbeat_age_probe, redis_check, serve

log = get_logger(__name__)

# The store worker's metrics port when DROPWIRE_METRICS_PORT is not set.
DEFAULT_METRICS_PORT = 9103
# Consumer threads waiting on the database together; one is enough for a few hundred documents/s.
DEFAULT_CONCURRENCY = 1
# A consumer thread finishing its batch at shutdown: a batch commits in well under this.
STOP_GRACE_SECONDS = 30.0


class SchemaNotAtHead(Exception):
    """The database is not migrated to the revision this code expects."""


@dataclass(frozen=True)
class WorkerConfig:
    broker_url: str
    database_url: str
    batch_size: int
    batch_seconds: float
    concurrency: int = DEFAULT_CONCURRENCY
    migrate: bool = False
    wait_seconds: float = 60.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = DEFAULT_METRICS_PORT


def prepare_database(config: WorkerConfig) -> None:
    """Wait for the database, migrate it when asked, and check it is at head."""
    wait_for_database(config.database_url, config.wait_seconds)
    if config.migrate:
        upgrade(config.database_url)
    current, head = current_revision(config.database_url), head_revision()
    if current != head:
        raise SchemaNotAtHead(
            f"database schema is at {current}, this store needs {head}: run `dropwire db upgrade`"
        )


def run(config: WorkerConfig, stopping: threading.Event | None = None) -> bool:
    """Run the store worker until ``stopping`` is set (or SIGTERM/SIGINT in the main thread).

    Returns False when it ended because a consumer thread died (the process should exit non-zero so
    its supervisor restarts it), True after an orderly stop.
    """
    stopping = stopping or threading.Event()
    prepare_database(config)
    concurrency = config.concurrency
    if is_sqlite(config.database_url) and concurrency > 1:
        log.warning("store.sqlite_single_writer", requested=concurrency)
        concurrency = 1
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())

    metrics = create_metrics(service="store")
    engine = make_engine(config.database_url)
    handler = StoreHandler(Repository(engine), metrics)
    app = create_app("dropwire-store", config.broker_url)
    redis = config.broker_url.startswith("redis")
    server = serve(
        metrics,
        port=config.metrics_port,
        host=config.metrics_host,
        checks={
            "database": database_check(config.database_url),
            **({"broker": redis_check(config.broker_url)} if redis else {}),
        },
        on_scrape=[
            heartbeat_age_probe(metrics, lambda: handler.last_heartbeat),
        ],  # queue depths: exported by ingest alone
    )
    consumers = [
        BatchConsumer(
            app,
            handler,
            queue=QUEUE_STORE,
            batch_size=config.batch_size,
            batch_seconds=config.batch_seconds,
            metrics=metrics,
            stopping=stopping,
        )
        for _ in range(concurrency)
    ]
    # Each thread runs in a copy of this context, so its log lines carry the bound ``service``.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(c.run,), name=f"store-consumer-{i}")
        for i, c in enumerate(consumers)
    ]
    log.info("store.starting", concurrency=concurrency, batch_size=config.batch_size, metrics=server.url)
    try:
        for t in threads:
            t.start()
        while not stopping.is_set() and all(t.is_alive() for t in threads):
            stopping.wait(1.0)
        healthy = stopping.is_set()
        if not healthy:
            log.error("store.consumer_died")
    finally:
        stopping.set()
        for t in threads:
            t.join(STOP_GRACE_SECONDS)
        server.close()
        engine.dispose()
        log.info("store.stopped")
    refused = next((c.refused for c in consumers if c.refused is not None), None)
    if refused is not None:
        raise refused  # one line and exit 2 from dropwire.cli: the broker refused the credentials
    return healthy
