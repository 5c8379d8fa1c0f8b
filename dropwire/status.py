"""``dropwire status``: is the pipeline up, and what is in it?

Reports the spool folders, the broker's queue depths, each service's liveness and heartbeat age (from
its ``/healthz``, ``/readyz`` and ``/metrics``), the rows stored and the last failures. Exits 1 when
anything it reports is down: the spool folder missing, the broker or database unreachable, a service
not ready (or, with the default service list, no part of the pipeline answering at all).

Services probed: ``DROPWIRE_STATUS_SERVICES`` (``name=url,...``; empty: none); by default the
default metrics ports on 127.0.0.1 -- ``run`` 9100 or ``ingest`` 9101, ``enrich`` 9102, ``store`` 9103.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import asdict
from typing import Annotated, Any

import typer

from shared.settings import (
    BrokerSettings,
    DatabaseSettings,
    IngestSettings,
    SpoolSettings,
    StatusSettings,
    masked,
)

# A service that has not answered within this long is reported as not answering.
PROBE_TIMEOUT_SECONDS = 1.0
DEFAULT_SERVICES = {
    "run": "http://127.0.0.1:9100",
    "ingest": "http://127.0.0.1:9101",
    "enrich": "http://127.0.0.1:9102",
    "store": "http://127.0.0.1:9103",
}
_HEARTBEAT = re.compile(r"^dropwire_heartbeat_age_seconds(?:\{[^}]*\})?\s+(\S+)", re.MULTILINE)


def parse_services(value: str | None) -> dict[str, str] | None:
    """``name=url,name=url`` -> dict; ``None`` when unset (use the defaults)."""
    if value is None:
        return None
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, url = item.partition("=")
        out[name.strip()] = url.strip().rstrip("/")
    return out


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def probe(url: str) -> dict[str, Any]:
    """One service: alive (``/healthz``), ready (``/readyz``, with failing checks), heartbeat age."""
    out: dict[str, Any] = {"url": url, "alive": False, "ready": False, "heartbeat_age_seconds": None}
    try:
        _get(f"{url}/healthz")
    except (OSError, ValueError) as exc:
        out["error"] = str(getattr(exc, "reason", exc))
        return out
    out["alive"] = True
    try:
        status, body = _get(f"{url}/readyz")
        out["ready"] = status == 200
        if status != 200:
            checks = json.loads(body).get("checks", {})
            out["error"] = "; ".join(f"{k}: {v.get('detail')}" for k, v in checks.items() if not v.get("ok"))
        _, metrics = _get(f"{url}/metrics")
        ages = [float(m) for m in _HEARTBEAT.findall(metrics)]
        out["heartbeat_age_seconds"] = round(min(ages), 1) if ages else None
    except (OSError, ValueError) as exc:
        out["error"] = str(exc)
    return out


def queue_depths(url: str) -> dict[str, int | None]:
    """Messages waiting per queue (None: the broker did not answer).

    Redis is asked directly (each queue is a list named after it), which spares this read-only
    command Celery's import; other brokers go through Celery.
    """
    from shared.queues import QUEUES

    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            pipe = client.pipeline(transaction=False)
            for name in QUEUES:
                pipe.llen(name)
            return {name: int(depth) for name, depth in zip(QUEUES, pipe.execute(), strict=True)}
        except redis.RedisError:
            return dict.fromkeys(QUEUES)
        finally:
            client.close()
    from shared.celery_app import create_app, queue_depth

    app = create_app("dropwire-status", url, broker_connection_timeout=2)
    return {q: queue_depth(app, q) for q in QUEUES}


def _services_down(services: dict[str, dict[str, Any]], explicit: bool) -> list[str]:
    if explicit:
        return [name for name, s in services.items() if not s["ready"]]
    answering = {name for name, s in services.items() if s["alive"]}
    down = [name for name in answering if not services[name]["ready"]]
    if not answering:
        return ["pipeline"]  # neither `dropwire run` nor any service answers on its default port
    return down


def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line instead of text.")] = False,
    create: Annotated[
        bool, typer.Option("--create", help="Create the spool folders if missing (else: an error).")
    ] = False,
) -> None:
    """Spool folders, queue depths, each service's liveness and heartbeat age, rows stored, last failures.

    Exits 1 when anything reported is down (spool folder missing, broker or database unreachable, a
    service not ready).
    """
    from shared.spool import Spool

    spool_settings = SpoolSettings()
    spool = Spool(spool_settings.spool_dir)
    down: list[str] = []
    report: dict[str, Any] = {"spool": str(spool_settings.spool_dir)}
    if not spool_settings.spool_dir.is_dir() and (create or spool_settings.create_spool):
        spool.ensure()
    if spool_settings.spool_dir.is_dir():
        report["folders"] = spool.counts()
    else:
        report["folders"] = None
        down.append("spool")
    broker = BrokerSettings()
    report["broker"] = masked(broker)["broker_url"]
    report["queues"] = queue_depths(broker.url())
    if any(d is None for d in report["queues"].values()):
        down.append("broker")
    # Backpressure as ingest sees it: at the cap it claims nothing and new files wait in the inbox.
    cap = IngestSettings().max_queue_depth
    enrich_depth = report["queues"].get("enrich")
    report["ingest_paused"] = None if enrich_depth is None else enrich_depth >= cap
    configured = parse_services(StatusSettings().status_services)
    report["services"] = {
        name: probe(url) for name, url in (DEFAULT_SERVICES if configured is None else configured).items()
    }
    down.extend(_services_down(report["services"], explicit=configured is not None))
    database = DatabaseSettings()
    report["database"] = masked(database)["database_url"]
    report.update(_database_status(database.url()))
    if report.get("database_error") and report.get("rows") is None and not report.get("database_empty"):
        down.append("database")
    report["down"] = down
    if as_json:
        from shared.jsonl import line

        typer.echo(line(report))
    else:
        _print(report, cap)
    if down:
        raise typer.Exit(1)


def _print(report: dict[str, Any], cap: int) -> None:
    from shared.terminal import Column, print_table

    folders = report["folders"]
    if folders is None:
        typer.echo(
            f"files:   DOWN: spool folder {report['spool']} does not exist (DROPWIRE_SPOOL_DIR; --create)"
        )
    else:
        typer.echo("files:   " + "  ".join(f"{k} {v}" for k, v in folders.items()))
    depths = "  ".join(f"{q} {'unreachable' if d is None else d}" for q, d in report["queues"].items())
    typer.echo(f"queues:  ({report['broker']})  {depths}")
    if report["ingest_paused"] and folders is not None:
        typer.echo(
            f"ingest:  paused: the enrich queue is at its cap ({cap}); {folders['inbox']} file(s) wait"
        )
    for name, s in report["services"].items():
        if not s["alive"]:
            state = "not answering"
        else:
            state = "ready" if s["ready"] else f"NOT READY ({s.get('error')})"
            if s["heartbeat_age_seconds"] is not None:
                state += f", heartbeat {s['heartbeat_age_seconds']:.0f} s ago"
        typer.echo(f"service: {name:7} {s['url']}  {state}")
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
    elif report.get("rows") is not None:
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
    if report["down"]:
        typer.echo("DOWN: " + ", ".join(report["down"]))


def _database_status(url: str) -> dict[str, Any]:
    """Rows per table and the latest failures, or why they could not be read."""
    import sqlalchemy as sa

    from services.store.db import is_sqlite, make_engine
    from services.store.reads import Reads

    if is_sqlite(url):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:" and not os.path.exists(path):
            return {
                "rows": None,
                "failures": [],
                "database_error": "no database yet (nothing stored)",
                "database_empty": True,
            }
    engine = make_engine(url)
    try:
        repo = Reads()  # the read half alone: no story index to load
        repo.engine = engine
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
        from shared.retry import classify

        return {"rows": None, "failures": [], "database_error": classify(exc).line()}
    finally:
        engine.dispose()
