"""Build the console from the settings: engine, spool, broker, guard, readiness checks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from services.console.app import create_app
from services.console.context import Console
from services.console.security import Guard
from shared.observability import Check, database_check, redis_check
from shared.readmodel import ReadModel, open_engine
from shared.settings import BrokerSettings, ConsoleSettings, DatabaseSettings, SpoolSettings
from shared.spool import Spool


def build(settings: ConsoleSettings) -> tuple[FastAPI, Callable[[], None]]:
    """The console app for ``settings`` and the function that releases what it holds."""
    database_url = DatabaseSettings().url()
    broker_url = BrokerSettings().url()
    engine = open_engine(database_url)
    broker = None
    checks: dict[str, Check] = {"database": database_check(database_url)}
    if broker_url.startswith("redis"):
        from shared.celery_app import create_app as create_celery

        broker = create_celery("dropwire-console", broker_url, broker_connection_timeout=2)
        checks["broker"] = redis_check(broker_url)
    token = settings.console_token.get_secret_value().strip() if settings.console_token is not None else None
    console = Console(
        read=ReadModel(engine),
        spool=Spool(SpoolSettings().spool_dir),
        guard=Guard(token=token),
        broker=broker,
    )
    return create_app(console, checks=checks), engine.dispose
