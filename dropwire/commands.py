"""Commands that span services: run, config, version (and status, from dropwire.status)."""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import Annotated, Any

import typer

from shared import __version__
from shared.settings import (
    BrokerSettings,
    ConsoleSettings,
    DatabaseSettings,
    EnrichSettings,
    IngestSettings,
    LogSettings,
    MetricsSettings,
    NerSettings,
    ProvenanceSettings,
    SpoolSettings,
    StatusSettings,
    masked,
)

# The metrics port each service uses when DROPWIRE_METRICS_PORT is not set (kept in step with the
# services' own DEFAULT_METRICS_PORT constants; tests/unit/test_config_check.py checks them).
DEFAULT_METRICS_PORTS = {"run": 9100, "ingest": 9101, "enrich": 9102, "store": 9103}


def shipped_model_path() -> str:
    """Where the shipped NER model lives (found without importing spaCy)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("services.enrich")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(next(iter(spec.submodule_search_locations))) / "models" / "nl_dropwire_ner")


def effective_settings() -> dict[str, dict[str, Any]]:
    """Every settings group as the services will use it: defaults that depend on the service filled in."""
    from dropwire.status import DEFAULT_SERVICES, parse_services

    groups = {
        "spool": SpoolSettings(),
        "ingest": IngestSettings(),
        "broker": BrokerSettings(),
        "database": DatabaseSettings(),
        "metrics": MetricsSettings(),
        "logging": LogSettings(),
        "ner": NerSettings(),
        "enrich": EnrichSettings(),
        "console": ConsoleSettings(),
        "provenance": ProvenanceSettings(),
        "status": StatusSettings(),
    }
    out = {name: masked(group) for name, group in groups.items()}
    if out["metrics"]["metrics_port"] is None:
        out["metrics"]["metrics_port"] = dict(DEFAULT_METRICS_PORTS)
    if out["ner"]["ner_model"] is None:
        out["ner"]["ner_model"] = shipped_model_path()
    services = parse_services(out["status"]["status_services"])
    out["status"]["status_services"] = DEFAULT_SERVICES if services is None else services
    return out


def config(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line instead of indented JSON.")] = False,
) -> None:
    """Print the effective settings (DROPWIRE_* variables, else the defaults in use), secrets masked."""
    from shared.jsonl import line

    settings = effective_settings()
    typer.echo(line(settings) if as_json else json.dumps(settings, indent=2, default=str))


def run(
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            help="Enrich worker processes (forked, sharing the loaded model). Default: the number of cores. "
            "0: enrich in the pipeline's own process.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the whole pipeline in this one process: drop files into the inbox it prints, Ctrl-C to stop.

    No servers needed: SQLite under ./var, an in-process queue, ./spool created if missing, metrics
    on localhost. Set DROPWIRE_BROKER_URL and DROPWIRE_DATABASE_URL to use Redis and PostgreSQL.
    """
    from dropwire.embedded import DEFAULT_METRICS_PORT, IN_PROCESS_BROKER, Embedded, EmbeddedConfig
    from shared.logging import configure_logging

    logs = LogSettings()
    configure_logging(logs.log_level, logs.log_format, service="run")
    spool, database, metrics = SpoolSettings(), DatabaseSettings(), MetricsSettings()
    enrich = EnrichSettings()
    broker = BrokerSettings().url() if os.environ.get("DROPWIRE_BROKER_URL") else IN_PROCESS_BROKER
    config = EmbeddedConfig(
        spool_dir=spool.spool_dir,
        database_url=database.url(),
        broker_url=broker,
        ingest=IngestSettings(),
        delete_archived=spool.delete_archived,
        ner_model=NerSettings().ner_model,
        batch_size=database.batch_size,
        batch_seconds=database.batch_seconds,
        workers=(os.cpu_count() or 1) if workers is None else workers,
        enrich_batch_size=enrich.enrich_batch_size,
        enrich_recycle_documents=enrich.enrich_recycle_documents,
        metrics_host=metrics.metrics_host,
        metrics_port=DEFAULT_METRICS_PORT if metrics.metrics_port is None else metrics.metrics_port,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    pipeline = Embedded(config)
    pipeline.start()
    try:
        assert pipeline.server is not None
        typer.echo(f"dropwire is running. Drop files into: {pipeline.spool.inbox.resolve()}/", err=True)
        typer.echo(
            f"  stored files go to {pipeline.spool.archive.resolve()}/, failures to {pipeline.spool.failed.resolve()}/",
            err=True,
        )
        typer.echo(f"  database: {masked(database)['database_url']}", err=True)
        typer.echo(f"  metrics:  {pipeline.server.url}/metrics   (Ctrl-C to stop)", err=True)
        while not stop.wait(0.5):
            if pipeline.died.is_set():
                dead = ", ".join(name for name, alive in pipeline.parts().items() if not alive)
                typer.echo(
                    f"dropwire run: stopping, a part of the pipeline died ({dead}); see the log", err=True
                )
                raise typer.Exit(1)
    finally:
        pipeline.stop()


def version() -> None:
    """Print dropwire's version."""
    typer.echo(__version__)


def register(app: typer.Typer) -> None:
    """Add the cross-service commands to ``app``."""
    app.command()(run)
    from dropwire.status import status

    app.command()(status)
    app.command()(config)
    app.command()(version)
