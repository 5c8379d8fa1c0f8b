"""``dropwire run``: the whole pipeline in one command, with the same handlers the services use.

Nothing to install or start: the queue is kombu's in-process ``memory://`` transport, the database a
SQLite file under ``./var/``, the spool ``./spool/`` (created if missing), metrics on localhost.
Setting ``DROPWIRE_BROKER_URL`` (Redis) and ``DROPWIRE_DATABASE_URL`` (PostgreSQL) runs the very same
process against those instead.

Four threads of one process do the work (enrich's batches in forked worker processes beside it),
each the thin shell of a service's pure core:

* ingest: ``IngestService.run`` (watcher, claims, leases), publishing by task name;
* enrich: the enrich service's own ``EnrichConsumer`` on ``enrich``: batches handed to ``workers``
  forked processes (default: one per core; the NER model is loaded once, before they fork; 0: enrich
  in the consumer thread itself);
* store: the store service's own ``BatchConsumer`` on ``store`` (batches in one transaction; one
  writer: SQLite's only mode);
* done: a ``TaskConsumer`` on ``ingest.done`` calling ``DoneHandler`` (archive/ or failed/).

Messages are the same JSON records, sent with ``send_task`` as between the real services, so a first
try exercises the same contract as production.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery

from dropwire.inprocess import TRANSPORT
from services.enrich import pool
from services.enrich.batching import EnrichConsumer
from services.enrich.task import ExtractorSlot
from services.ingest.done import DoneHandler
from services.ingest.publisher import CeleryPublisher
from services.ingest.service import IngestService
from services.store.db import make_engine, upgrade
from services.store.handler import StoreHandler
from services.store.repository import Repository
from services.store.task import BatchConsumer
from shared.celery_app import (
    QUEUE_DONE,
    QUEUE_STORE,
    create_app,
)
from shared.consumer import TaskConsumer
from shared.logging import get_logger
from shared.metrics import Metrics, create_metrics
from shared.observability import (
    Server,
    alive_check,
    database_check,
    heartbeat_age_probe,
    redis_check,
    serve,
)
from shared.settings import DEFAULT_ENRICH_BATCH_SIZE, IngestSettings
from shared.spool import Spool

log = get_logger(__name__)

# The in-process broker: kombu's memory transport, shared by every connection of this process.
IN_PROCESS_BROKER = "memory://localhost/"
# The in-process queue: kombu's memory transport whose idle consumers wait for a publish instead of
# polling (``dropwire.inprocess``). Its messages never leave the process, so their bodies are kept as
# they are instead of base64-encoded and decoded again (kombu's default for its virtual transports):
# 0.76 -> 0.44 ms of CPU per 72 kB message sent and received, about 40 µs per document of an enrich
# batch (BENCHMARKS.md, "Ingest's CPU per file, and the embedded run's per-document overhead").
IN_PROCESS_OVERRIDES: dict[str, Any] = {
    "broker_transport": TRANSPORT,
    "broker_transport_options": {"body_encoding": None},
}
# A store batch being written at stop finishes (commit, report, acknowledge) well within this.
STORE_STOP_SECONDS = 30.0
# dropwire run's metrics port when DROPWIRE_METRICS_PORT is not set.
DEFAULT_METRICS_PORT = 9100


@dataclass
class EmbeddedConfig:
    spool_dir: Path
    database_url: str
    broker_url: str = IN_PROCESS_BROKER
    ingest: IngestSettings = field(default_factory=IngestSettings)
    delete_archived: bool = False
    ner_model: str | None = None
    batch_size: int = 50
    batch_seconds: float = 0.2
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    enrich_batch_size: int = DEFAULT_ENRICH_BATCH_SIZE
    enrich_recycle_documents: int = 1000
    metrics_host: str = "127.0.0.1"
    metrics_port: int = DEFAULT_METRICS_PORT


class Embedded:
    """The pipeline in one process: ``start()``, then ``stop()`` (or use it as a context manager)."""

    def __init__(self, config: EmbeddedConfig, extractor_loader: Callable[[], object] | None = None) -> None:
        self.config = config
        self.metrics: Metrics = create_metrics()
        self.spool = Spool(config.spool_dir)
        self.stopping = threading.Event()
        self._extractor_loader = extractor_loader
        self._threads: list[threading.Thread] = []
        self._consumers: list[TaskConsumer] = []
        # Set after the enrich consumer stopped, so the store writes what enrich finished last.
        self._store_stopping = threading.Event()
        self._store_thread: threading.Thread | None = None
        self._enrich_stopping = threading.Event()
        self._enrich: EnrichConsumer | None = None
        self._enrich_thread: threading.Thread | None = None
        self.server: Server | None = None
        self.app: Celery | None = None
        # Set when one of the pipeline's threads died of an error: ``dropwire run`` then exits non-zero.
        self.died = threading.Event()

    @property
    def in_process(self) -> bool:
        return self.config.broker_url.startswith("memory://")

    def start(self) -> None:
        """Migrate the database, load the NER model, start every thread and the metrics endpoint."""
        cfg = self.config
        self.spool.ensure()
        upgrade(cfg.database_url)
        overrides = IN_PROCESS_OVERRIDES if self.in_process else {}
        app = create_app("dropwire-run", cfg.broker_url, **overrides)
        self.app = app
        slot = ExtractorSlot(self._extractor_loader or _default_loader(cfg.ner_model))  # type: ignore[arg-type]
        slot.load()
        pool.install(slot.load)
        enrich = EnrichConsumer(
            app,
            workers=cfg.workers,
            batch_size=cfg.enrich_batch_size,
            recycle_documents=cfg.enrich_recycle_documents,
            metrics=self.metrics,
            stopping=self._enrich_stopping,
        )
        enrich.start_pool()  # forked now, before this process starts its other threads
        self._enrich = enrich
        store = BatchConsumer(
            app,
            StoreHandler(Repository(make_engine(cfg.database_url)), self.metrics),
            queue=QUEUE_STORE,
            batch_size=cfg.batch_size,
            batch_seconds=cfg.batch_seconds,
            metrics=self.metrics,
            stopping=self._store_stopping,
        )
        done = DoneHandler(self.spool, self.metrics, delete_archived=cfg.delete_archived)
        self._consumers = [
            TaskConsumer(app, QUEUE_DONE, done.handlers(), name="run-done", on_crash=self._died),
        ]
        for consumer in self._consumers:
            consumer.start()
        self._enrich_thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._supervised, enrich.run),
            name="run-enrich",
            daemon=True,
        )
        self._enrich_thread.start()
        self._store_thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._supervised, store.run),
            name="run-store",
            daemon=True,
        )
        self._store_thread.start()
        self.ingest = IngestService(self.spool, cfg.ingest, CeleryPublisher(app), self.metrics)
        thread = threading.Thread(
            target=self._supervised, args=(self.ingest.run, self.stopping), name="run-ingest", daemon=True
        )
        thread.start()
        self._threads.append(thread)
        checks = {"database": database_check(cfg.database_url), "loops": alive_check(self.parts)}
        if not self.in_process:
            checks["broker"] = redis_check(cfg.broker_url)
        probes = (
            [heartbeat_age_probe(self.metrics, lambda: done.last_heartbeat)]
            if cfg.ingest.heartbeat_seconds
            else []
        )
        self.server = serve(
            self.metrics, port=cfg.metrics_port, host=cfg.metrics_host, checks=checks, on_scrape=probes
        )
        self.ingest.ready.wait(10)
        log.info(
            "run.started",
            inbox=str(self.spool.inbox.resolve()),
            broker="in-process" if self.in_process else "redis",
            database=cfg.database_url.split("://", 1)[0],
            metrics=self.server.url,
        )

    def parts(self) -> dict[str, bool]:
        """Each long-lived part of the pipeline and whether it is still running as it should."""
        parts = {c.name: c.alive for c in self._consumers}
        parts["run-ingest"] = self.ingest.alive
        parts["run-enrich"] = self._enrich is not None and self._enrich.alive
        thread = self._store_thread
        parts["run-store"] = thread is not None and (thread.is_alive() or self._store_stopping.is_set())
        return parts

    def _supervised(self, target: Callable[..., object], *args: object) -> None:
        try:
            target(*args)
        except BaseException as exc:
            log.critical(
                "run.part_died", part=threading.current_thread().name, error=repr(exc), exc_info=True
            )
            self._died(exc)
            raise

    def _died(self, exc: BaseException) -> None:
        self.died.set()

    def stop(self) -> None:
        """Stop claiming, then stop the consumers; files in flight stay in processing/ for the next start."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(10)
        self._enrich_stopping.set()
        if self._enrich_thread is not None:
            self._enrich_thread.join(STORE_STOP_SECONDS)
        for consumer in self._consumers:
            consumer.stop()
        self._store_stopping.set()
        if self._store_thread is not None:
            self._store_thread.join(STORE_STOP_SECONDS)
        if self.server is not None:
            self.server.close()
        log.info("run.stopped")

    def __enter__(self) -> Embedded:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _default_loader(model: str | None) -> Callable[[], object]:
    def load() -> object:
        from services.enrich.entities import load_extractor

        return load_extractor(model)

    return load


def default_database_url() -> str:
    """The SQLite file ``dropwire run`` uses unless ``DROPWIRE_DATABASE_URL`` says otherwise."""
    return "sqlite:///" + str(Path("var") / "dropwire.db")


def broker_from_env() -> str:
    """Redis when ``DROPWIRE_BROKER_URL`` is set, else the in-process queue."""
    return os.environ.get("DROPWIRE_BROKER_URL") or IN_PROCESS_BROKER
