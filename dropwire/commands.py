"""Commands that span services: run, status, config, bench, version."""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import asdict
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
    masked,
)


def config() -> None:
    """Print the effective settings (from DROPWIRE_* variables and defaults), secrets masked."""
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
    }
    typer.echo(json.dumps({k: masked(v) for k, v in groups.items()}, indent=2, default=str))


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


def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
) -> None:
    """Files per spool folder, broker queue depths, rows stored and the last failures."""
    from shared.celery_app import create_app, queue_depth
    from shared.metrics import QUEUES
    from shared.spool import Spool

    report: dict[str, Any] = {"folders": Spool(SpoolSettings().spool_dir).counts()}
    broker = BrokerSettings()
    app = create_app("dropwire-status", broker.url(), broker_connection_timeout=2)
    report["broker"] = masked(broker)["broker_url"]
    report["queues"] = {q: queue_depth(app, q) for q in QUEUES}
    # Backpressure as ingest sees it: at the cap it claims nothing and new files wait in the inbox.
    cap = IngestSettings().max_queue_depth
    enrich_depth = report["queues"].get("enrich")
    report["ingest_paused"] = None if enrich_depth is None else enrich_depth >= cap
    database = DatabaseSettings()
    report["database"] = masked(database)["database_url"]
    report.update(_database_status(database.url()))
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str, ensure_ascii=False))
        return
    from shared.terminal import Column, print_table

    typer.echo("files:   " + "  ".join(f"{k} {v}" for k, v in report["folders"].items()))
    depths = "  ".join(f"{q} {'unreachable' if d is None else d}" for q, d in report["queues"].items())
    typer.echo(f"queues:  ({report['broker']})  {depths}")
    if report["ingest_paused"]:
        typer.echo(
            f"ingest:  paused: the enrich queue is at its cap ({cap}); {report['folders']['inbox']} file(s) wait"
        )
    if report.get("rows") is None:
        typer.echo(f"rows:    ({report['database']}) {report.get('database_error')}")
    else:
        typer.echo(
            f"rows:    ({report['database']})  " + "  ".join(f"{k} {v}" for k, v in report["rows"].items())
        )
    failures = report.get("failures") or []
    if failures:
        print_table(
            [
                Column("failed at"),
                Column("stage"),
                Column("reason"),
                Column("file"),
                Column("detail", flexible=True),
            ],
            ((f["failed_at"], f["stage"], f["reason"], f["name"], f["detail"]) for f in failures),
            title="last failures",
        )
    else:
        typer.echo("last failures: none")
    warned = report.get("parse_warnings") or []
    count = report.get("warned_documents") or 0
    typer.echo(
        f"parse warnings: {count} stored document(s) with warnings" if count else "parse warnings: none"
    )
    for d in warned:
        kinds = ", ".join(sorted({w["kind"] for w in d["warnings"]}))
        first = d["warnings"][0]["text"] if d["warnings"] else ""
        typer.echo(f"  {d['stored_at']}  {d['name']}  {kinds}: {first}")


def _database_status(url: str) -> dict[str, Any]:
    """Rows per table and the latest failures, or why they could not be read."""
    import sqlalchemy as sa

    from services.store.db import is_sqlite, make_engine
    from services.store.repository import Repository

    if is_sqlite(url):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:" and not os.path.exists(path):
            return {"rows": None, "failures": [], "database_error": "no database yet (nothing stored)"}
    engine = make_engine(url)
    try:
        repo = Repository(engine)
        report: dict[str, Any] = {
            "rows": asdict(repo.counts()),
            "failures": [asdict(f) for f in repo.recent_failures(5)],
        }
        try:
            warned, latest = repo.warned_documents(5)
        except sa.exc.SQLAlchemyError:
            return report  # a database not yet migrated to 0002 stores no warnings
        return report | {"warned_documents": warned, "parse_warnings": [asdict(d) for d in latest]}
    except sa.exc.SQLAlchemyError as exc:
        return {
            "rows": None,
            "failures": [],
            "database_error": type(exc).__name__ + ": " + str(exc).splitlines()[0],
        }
    finally:
        engine.dispose()


def version() -> None:
    """Print dropwire's version."""
    typer.echo(__version__)


def register(app: typer.Typer) -> None:
    """Add the cross-service commands to ``app``."""
    app.command()(run)
    app.command()(status)
    app.command()(config)
    app.command()(version)
