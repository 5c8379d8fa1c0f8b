"""Command-line entry points of the ingest service (registered by ``dropwire.cli``).

* ``dropwire ingest``: the service (watcher + claimer in the main thread, ``ingest.done`` consumer
  in a second one, metrics/health endpoint on ``DROPWIRE_METRICS_PORT``, default 9101).
* ``dropwire failed list``: what is in ``failed/`` and why.
* ``dropwire failed retry NAME… | --all``: move failed files back into the inbox.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from shared.logging import get_logger
from shared.settings import SpoolSettings

log = get_logger(__name__)

# The ingest service's metrics port when DROPWIRE_METRICS_PORT is not set.
DEFAULT_METRICS_PORT = 9101

failed_app = typer.Typer(help="Files in failed/: list them, or send them round again.", no_args_is_help=True)


def ingest(
    create: Annotated[
        bool,
        typer.Option("--create", help="Create the spool folder if it is missing (else: exit 2)."),
    ] = False,
) -> None:
    """Watch the inbox, claim complete files, queue them for enrich; file them away when done."""
    # Imported here, not at the top: `dropwire failed list` shares this module and must start fast.
    from services.ingest.done import DoneHandler
    from services.ingest.publisher import CeleryPublisher
    from services.ingest.service import IngestService
    from shared.celery_app import QUEUE_DONE, create_app
    from shared.consumer import TaskConsumer
    from shared.logging import configure_logging
    from shared.metrics import create_metrics
    from shared.observability import alive_check, heartbeat_age_probe, queue_depth_probe, redis_check, serve
    from shared.settings import BrokerSettings, IngestSettings, LogSettings, MetricsSettings
    from shared.spool import Spool

    logs = LogSettings()
    configure_logging(logs.log_level, logs.log_format, service="ingest")
    spool_settings = SpoolSettings()
    require_spool(spool_settings.spool_dir, create=create or spool_settings.create_spool)
    broker_url = BrokerSettings().url()
    app = create_app("dropwire-ingest", broker_url)
    metrics = create_metrics(service="ingest")
    spool = Spool(spool_settings.spool_dir)
    ingest_settings = IngestSettings()
    service = IngestService(spool, ingest_settings, CeleryPublisher(app), metrics)
    done_handler = DoneHandler(spool, metrics, delete_archived=spool_settings.delete_archived)
    stop = _stop_on_signals()
    done = TaskConsumer(
        app,
        QUEUE_DONE,
        done_handler.handlers(),
        name="ingest-done",
        on_dropped=lambda reason: metrics.dead_letters.labels(stage="ingest", reason=reason).inc(),
        on_crash=lambda exc: stop.set(),
    )
    metrics_settings = MetricsSettings()
    checks = {"broker": redis_check(broker_url)} if broker_url.startswith("redis") else {}
    checks["loops"] = alive_check(lambda: {"ingest": service.alive, "ingest-done": done.alive})
    probes = [queue_depth_probe(metrics, broker_url)] if broker_url.startswith("redis") else []
    if ingest_settings.heartbeat_seconds:
        # Here the age is of the whole round trip: sent by ingest, back on ingest.done after the store.
        probes.append(heartbeat_age_probe(metrics, lambda: done_handler.last_heartbeat))
    server = serve(
        metrics,
        port=DEFAULT_METRICS_PORT if metrics_settings.metrics_port is None else metrics_settings.metrics_port,
        host=metrics_settings.metrics_host,
        checks=checks,
        on_scrape=probes,
    )
    done.start()
    log.info("ingest.started", spool=str(spool.root.resolve()), metrics=server.url)
    try:
        service.run(stop)
    except Exception:  # logged by the loop itself (ingest.loop_died); a supervisor restarts us
        raise typer.Exit(1) from None
    finally:
        done.stop()
        server.close()
        log.info("ingest.stopped")
    from shared.retry import DependencyFailed

    if isinstance(done.crashed, DependencyFailed):
        raise done.crashed  # one line and exit 2 from dropwire.cli: the broker refused the credentials
    if not done.alive:
        # The done consumer died (consumer.died logged why): exit non-zero so a supervisor restarts us.
        raise typer.Exit(1)


def require_spool(root: Path, *, create: bool) -> None:
    """A missing spool folder is a mistake (a mistyped path) unless creating it was asked for."""
    if root.is_dir() or create:
        return
    from shared.config_check import SetupError

    raise SetupError(
        f"spool folder {str(root)!r} does not exist; correct DROPWIRE_SPOOL_DIR, or create it with "
        "--create (or DROPWIRE_CREATE_SPOOL=true)"
    )


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the loop finishes the file in hand and returns."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("ingest.stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@failed_app.command("list")
def failed_list(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List the files in failed/ with the stage and reason they failed at."""
    from shared.spool import Spool

    entries = Spool(SpoolSettings().spool_dir).failed_entries()
    if as_json:
        from shared.jsonl import line

        for e in entries:  # the note's "time" is "failed_at" here, as in every other command
            typer.echo(line({**{k: v for k, v in e.items() if k != "time"}, "failed_at": e.get("time")}))
        return
    if not entries:
        typer.echo("failed/ is empty")
        return
    from shared.terminal import Column, print_table

    print_table(
        [
            Column("file (claim)"),
            Column("stage"),
            Column("reason"),
            Column("time"),
            Column("detail", flexible=True),
        ],
        ((e["claim"], e["stage"], e["reason"], e["time"], e["detail"]) for e in entries),
    )


@failed_app.command("retry")
def failed_retry(
    names: Annotated[
        list[str] | None, typer.Argument(help="Names in failed/ (as `failed list` shows them).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every failed file.")] = False,
) -> None:
    """Move failed files back into the inbox under their original names, to be claimed again."""
    from shared.errors import PermanentError
    from shared.spool import Spool

    spool = Spool(SpoolSettings().spool_dir)
    targets = [e["claim"] for e in spool.failed_entries()] if all_ else list(names or [])
    if not targets:
        typer.echo("nothing to retry (give names or --all)", err=True)
        raise typer.Exit(1)
    status = 0
    for claim_name in targets:
        try:
            path = spool.retry_failed(claim_name)
        except (FileNotFoundError, PermanentError) as exc:
            typer.echo(f"{claim_name}: not in failed/ ({exc})", err=True)
            status = 1
            continue
        typer.echo(f"{claim_name} -> inbox/{path.name}")
    raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``failed list|retry`` to ``app``."""
    app.command()(ingest)
    app.add_typer(failed_app, name="failed")
