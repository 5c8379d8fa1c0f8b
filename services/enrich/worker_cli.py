"""``dropwire enrich``: the enrich worker on queue ``enrich`` (registered by ``dropwire.cli``).

By default (``--pool batch``) one consumer thread takes the queue's messages in batches and hands
each batch to one of ``--concurrency`` forked worker processes (``services.enrich.batching``): one NER
pass, one store message and one round of acknowledgements per batch instead of per document. The
parent keeps every metric and serves ``/metrics``, ``/healthz`` and ``/readyz`` on
``DROPWIRE_METRICS_PORT`` (default 9102). ``--pool prefork`` and ``--pool solo`` run the Celery
worker of task ``TASK_ENRICH`` instead (one document per task), for Celery tooling and comparison.
The NER model is loaded once, in the parent before it forks; the processes share it.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import typer
from celery.signals import worker_process_shutdown

from shared.celery_app import QUEUE_ENRICH, create_app
from shared.logging import configure_logging, get_logger
from shared.metrics import create_metrics
from shared.observability import (
    MULTIPROC_ENV,
    alive_check,
    mark_process_dead,
    prepare_multiprocess_dir,
    redis_check,
    serve,
)
from shared.settings import BrokerSettings, LogSettings, MetricsSettings, NerSettings

log = get_logger(__name__)

# The enrich worker's metrics port when DROPWIRE_METRICS_PORT is not set.
DEFAULT_METRICS_PORT = 9102
# One child per core of a small host; raise it with --concurrency where there are more.
DEFAULT_CONCURRENCY = 2


def _load_extractor(model: str | None) -> Any:
    from services.enrich.entities import load_extractor

    return load_extractor(model)


def enrich(
    concurrency: int = typer.Option(
        DEFAULT_CONCURRENCY, "--concurrency", "-c", min=1, help="Worker processes."
    ),
    pool: str = typer.Option(
        "batch",
        "--pool",
        help="batch (default: batches over forked processes), or the Celery worker: prefork, solo.",
    ),
    hostname: str | None = typer.Option(
        None, "--hostname", "-n", help="Celery node name (default: DROPWIRE_WORKER_NAME, enrich@%h)."
    ),
) -> None:
    """Run the enrich worker: split pages into articles, find entities, pass them to the store."""
    if pool == "batch":
        run_batches(concurrency)
        return
    # Imported here, not at module level: every `dropwire` command imports this module to register it.
    from services.enrich.task import EnrichHandler, ExtractorSlot, celery_sender
    from services.enrich.task import register as register_task

    logs = LogSettings()
    configure_logging(logs.log_level, logs.log_format, service="enrich")
    from services.enrich.celery_says import route_celery_says
    from shared.logging import uses_json

    route_celery_says(json_lines=uses_json(logs.log_format))  # Celery's shutdown prints as log lines
    broker_url = BrokerSettings().url()
    if pool == "prefork":
        # Children write their metric values to files the parent's endpoint merges; wiped at start.
        folder = os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="dropwire-enrich-metrics-")
        prepare_multiprocess_dir(folder)
    model = NerSettings().ner_model
    # spaCy, the NER code and the model itself are loaded once, here in the parent, before the pool
    # forks: the children share the model's weights copy-on-write instead of each loading a copy
    # (measured: the enrich tree's PSS went from 400 to 333 MB with two children), and a child that
    # replaces a dead one is ready at once. Inference starts no threads, so forking after it is safe.
    from services.enrich.entities.engine import model_version
    from services.enrich.parser import PARSER_VERSION

    metrics = create_metrics(
        parser_version=PARSER_VERSION, model_version=model_version(model), service="enrich"
    )

    slot = ExtractorSlot(lambda: _load_extractor(model))
    # Our structlog set-up writes to the real stderr; Celery's stdout redirection would swallow it.
    app = create_app("dropwire-enrich", broker_url, worker_redirect_stdouts=False)
    # A dead-lettered document ends its task in FAILURE, as Celery's tools should show it.
    from services.enrich.celery_state import failing_dead_letters

    register_task(app, failing_dead_letters(EnrichHandler(slot, celery_sender(app), metrics)))

    @worker_process_shutdown.connect(weak=False)
    def _child_stop(**_: Any) -> None:
        mark_process_dead(os.getpid())

    slot.load()  # before the worker forks its pool (see above)
    settings = MetricsSettings()
    server = serve(
        metrics,
        port=DEFAULT_METRICS_PORT if settings.metrics_port is None else settings.metrics_port,
        host=settings.metrics_host,
        checks={"broker": redis_check(broker_url)} if broker_url.startswith("redis") else {},
        on_scrape=[],  # queue depths: exported by ingest alone
    )
    log.info("enrich.starting", concurrency=concurrency, pool=pool, metrics=server.url)
    try:
        app.worker_main(
            [
                "--quiet",  # no banner on stdout: enrich.starting above says the same as a JSON line
                "worker",
                "--queues",
                QUEUE_ENRICH,
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--hostname",
                hostname or BrokerSettings().worker_name,
                "--loglevel",
                logs.log_level,
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        server.close()


def run_batches(concurrency: int) -> None:
    """The batch consumer (``--pool batch``) until SIGTERM/SIGINT; exits non-zero if it died."""
    import signal
    import threading

    from services.enrich.batching import EnrichConsumer
    from services.enrich.entities.engine import model_version
    from services.enrich.parser import PARSER_VERSION
    from services.enrich.pool import install
    from services.enrich.task import ExtractorSlot
    from shared.settings import EnrichSettings

    logs = LogSettings()
    configure_logging(logs.log_level, logs.log_format, service="enrich")
    broker_url = BrokerSettings().url()
    model = NerSettings().ner_model
    settings = EnrichSettings()
    if os.environ.get(MULTIPROC_ENV):
        # Set for the Celery pool (docker-compose sets it): wiped, so no earlier run's values are summed in.
        prepare_multiprocess_dir(os.environ[MULTIPROC_ENV])
    metrics = create_metrics(
        parser_version=PARSER_VERSION, model_version=model_version(model), service="enrich"
    )
    slot = ExtractorSlot(lambda: _load_extractor(model))
    slot.load()  # before the pool forks: the processes share the model
    install(slot.load)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    consumer = EnrichConsumer(
        create_app("dropwire-enrich", broker_url),
        workers=concurrency,
        batch_size=settings.enrich_batch_size,
        recycle_documents=settings.enrich_recycle_documents,
        metrics=metrics,
        stopping=stopping,
    )
    consumer.start_pool()  # forked before the metrics server's thread starts
    served = MetricsSettings()
    redis = broker_url.startswith("redis")
    server = serve(
        metrics,
        port=DEFAULT_METRICS_PORT if served.metrics_port is None else served.metrics_port,
        host=served.metrics_host,
        checks={
            "consumer": alive_check(lambda: {"enrich-consumer": consumer.alive}),
            **({"broker": redis_check(broker_url)} if redis else {}),
        },
    )
    log.info("enrich.starting", concurrency=concurrency, pool="batch", metrics=server.url)
    thread = threading.Thread(target=consumer.run, name="enrich-consumer")
    thread.start()
    try:
        while thread.is_alive() and not stopping.is_set():
            stopping.wait(1.0)
    finally:
        stopping.set()
        thread.join()
        server.close()
    if consumer.refused is not None:
        raise consumer.refused  # one line and exit 2 from dropwire.cli: the broker refused the credentials
    if not consumer.alive:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``enrich`` to ``app``."""
    app.command()(enrich)
