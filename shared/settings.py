"""Settings, one pydantic-settings class per concern, all read from ``DROPWIRE_*`` variables.

Defaults work for the embedded first run (``dropwire run``: SQLite under ``./var``, spool under
``./spool``). Secrets may come from the variable itself or from a file named by ``<VARIABLE>_FILE``
(docker secrets); ``masked()`` renders any settings object with passwords hidden, for ``dropwire config``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A file that settles this long without a size/mtime change is complete (polling mode only).
DEFAULT_SETTLE_SECONDS = 1.0
# Events mode: a closed file must stay unwritten this long before it is claimed, so a writer that
# appends by reopening the file is not cut at its first chunk. Short next to the 100 ms drop-to-stored
# p50 target; a slower writer should write under *.part and rename.
DEFAULT_CLOSE_SETTLE_SECONDS = 0.05
# Long enough for a slow enrich + store under load; a lease this old means its ingest died.
DEFAULT_LEASE_SECONDS = 300.0
# Redis hands an unacknowledged message to another worker after this long. Longer than a message is
# ever legitimately held unacknowledged (a page is enriched in well under a second; a store batch is
# held through a database outage), so a message still being worked on is not handed out twice; short
# enough that a message whose worker died unseen comes back within the hour. Shorter values recover
# faster from killed workers but hand a message held longer (a long database outage) out again, which
# the content-hash upsert absorbs as a ``duplicate`` and ``MAX_DELIVERIES`` eventually dead-letters.
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 3600.0
# Larger wire pages are a few tens of KiB; 10 MiB leaves room for odd but honest files.
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
# A heartbeat every 30 s keeps the heartbeat-age gauge well under the 5-minute alert while costing
# one tiny document per half minute; 0 switches it off.
DEFAULT_HEARTBEAT_SECONDS = 30.0
# A month of journeys answers "what happened to the file I dropped last week?"; older ones are history
# the documents table already keeps (stored_at, received_at), and the events table stays small.
DEFAULT_PROVENANCE_RETENTION_DAYS = 30.0


# The levels ``DROPWIRE_LOG_LEVEL`` accepts (the standard library's names).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# PostgreSQL URL schemes people write, and the SQLAlchemy driver names that serve them.
_PG_SCHEMES = ("postgresql", "postgres")
_PG_DRIVERS = (("psycopg", "psycopg"), ("psycopg2", "psycopg2"))


def installed_pg_driver() -> str | None:
    """The PostgreSQL driver this install has (psycopg 3 preferred), by SQLAlchemy dialect name."""
    import importlib.util

    for dialect, module in _PG_DRIVERS:
        if importlib.util.find_spec(module) is not None:
            return dialect
    return None


def with_installed_driver(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs with the installed driver named; others unchanged.

    A URL naming a driver that is not installed is refused with the fix (a ``ValueError``).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    backend, _, driver = scheme.partition("+")
    if backend.lower() not in _PG_SCHEMES:
        return url
    installed = installed_pg_driver()
    if installed is None:
        raise ValueError("no PostgreSQL driver is installed; pip install 'psycopg[binary]'")
    if driver and driver != installed:
        raise ValueError(
            f"driver {driver!r} is not installed; write postgresql://... "
            f"(dropwire uses {installed}) or postgresql+{installed}://..."
        )
    return f"postgresql+{installed}://{rest}"


def _prefixed(prefix: str = "DROPWIRE_") -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", env_file=None)


def with_password(url: str, password: str) -> str:
    """``url`` with its password set (percent-encoded), keeping any user name; also with no user name.

    ``redis://host:6379/0`` becomes ``redis://:PASSWORD@host:6379/0`` (SQLAlchemy's URL rendering
    drops a password that has no user name, which Redis URLs usually lack).
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = quote(parts.username, safe="") if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


class _FileSecrets(BaseSettings):
    """Fills a field from ``DROPWIRE_<FIELD>_FILE`` when the variable itself is not set."""

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name in cls.model_fields:
            path = os.environ.get(f"{prefix}{name}_FILE".upper())
            if path and data.get(name) is None:
                try:
                    data[name] = Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    variable = f"{prefix}{name}_FILE".upper()
                    raise ValueError(f"{variable}={path!r}: cannot read it ({exc.strerror})") from exc
        return data


class SpoolSettings(BaseSettings):
    """Where files live while they move through the pipeline."""

    model_config = _prefixed()

    spool_dir: Path = Field(Path("./spool"), description="Holds inbox/, processing/, archive/, failed/.")
    delete_archived: bool = Field(
        False, description="Delete stored files instead of moving them to archive/."
    )
    create_spool: bool = Field(
        False,
        description=(
            "Create a missing spool folder (ingest, status); else a missing one is an error "
            "(a mistyped path is not silently created). `dropwire run` always creates it."
        ),
    )

    @property
    def inbox(self) -> Path:
        return self.spool_dir / "inbox"

    @property
    def processing(self) -> Path:
        return self.spool_dir / "processing"

    @property
    def archive(self) -> Path:
        return self.spool_dir / "archive"

    @property
    def failed(self) -> Path:
        return self.spool_dir / "failed"


class IngestSettings(BaseSettings):
    """How ingest notices and claims files."""

    model_config = _prefixed()

    watch_mode: Literal["auto", "events", "poll"] = Field(
        "auto",
        description=(
            "events: inotify; poll: size+mtime scans (docker volumes, NFS); "
            "auto: events when inotify is available."
        ),
    )
    settle_seconds: float = Field(
        DEFAULT_SETTLE_SECONDS,
        ge=0,
        description="Polling and start-up: a file unchanged this long is complete.",
    )
    poll_interval: float = Field(0.2, gt=0, description="Seconds between inbox scans in poll mode.")
    close_settle_seconds: float = Field(
        DEFAULT_CLOSE_SETTLE_SECONDS,
        ge=0,
        description="Events mode: after a close-write, unchanged this long = complete (0: at once).",
    )
    lease_seconds: float = Field(
        DEFAULT_LEASE_SECONDS, gt=0, description="Re-publish files in processing/ older than this."
    )
    max_file_bytes: int = Field(
        DEFAULT_MAX_FILE_BYTES, gt=0, description="Larger files fail with reason too_large."
    )
    max_queue_depth: int = Field(
        1000, gt=0, description="Stop claiming while the enrich queue is deeper (backpressure)."
    )
    heartbeat_seconds: float = Field(
        DEFAULT_HEARTBEAT_SECONDS,
        ge=0,
        description="Send a heartbeat document through the pipeline this often; 0 disables it.",
    )


class ProvenanceSettings(BaseSettings):
    """The journey of each file (``dropwire trace``): recorded by every stage, pruned after a while."""

    model_config = _prefixed()

    provenance: bool = Field(True, description="Record each file's journey (dropwire trace).")
    provenance_retention_days: float = Field(
        DEFAULT_PROVENANCE_RETENTION_DAYS,
        gt=0,
        description="Journey events older than this are pruned (database and spool journal).",
    )


class BrokerSettings(_FileSecrets):
    """The Celery broker."""

    model_config = _prefixed()

    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker (Redis).")
    broker_password: SecretStr | None = Field(None, description="Merged into broker_url when set.")
    visibility_timeout: float = Field(
        DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
        gt=0,
        description="Seconds before Redis hands an unacknowledged message to another worker.",
    )
    task_events: bool = Field(
        False,
        description=(
            "Send Celery task events (for `celery -A dropwire.celery events` and Flower); "
            "costs a few broker messages per task."
        ),
    )
    worker_name: str = Field(
        "enrich@%h",
        description=(
            "The enrich worker's Celery node name (%h: this host's name); stable across restarts so "
            "Flower and `celery inspect` keep one entry per worker. `dropwire enrich --hostname` overrides."
        ),
    )

    def url(self) -> str:
        if self.broker_password is None:
            return self.broker_url
        return with_password(self.broker_url, self.broker_password.get_secret_value())


class DatabaseSettings(_FileSecrets):
    """The relational store."""

    model_config = _prefixed()

    database_url: str = Field(
        "sqlite:///./var/dropwire.db", description="SQLAlchemy URL (postgresql+psycopg://… or sqlite:///…)."
    )
    database_password: SecretStr | None = Field(None, description="Merged into database_url when set.")
    batch_size: int = Field(50, gt=0, description="Documents per store transaction at most.")
    batch_seconds: float = Field(0.2, ge=0, description="Longest wait to fill a store batch.")

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return with_installed_driver(value)

    def url(self) -> str:
        if self.database_password is None:
            return self.database_url
        return with_password(self.database_url, self.database_password.get_secret_value())


class MetricsSettings(BaseSettings):
    """The Prometheus / health HTTP endpoint of one service."""

    model_config = _prefixed()

    metrics_port: int | None = Field(
        None, description="Defaults: ingest 9101, enrich 9102, store 9103, run 9100 (0: any free port)."
    )
    metrics_host: str = Field("127.0.0.1", description="Bind address; 0.0.0.0 in containers.")


class LogSettings(BaseSettings):
    """Logging."""

    model_config = _prefixed()

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR (any case).")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: console on a terminal, else JSON."
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")
        return level


class StatusSettings(BaseSettings):
    """What ``dropwire status`` asks about the services."""

    model_config = _prefixed()

    status_services: str | None = Field(
        None,
        description=(
            "name=url,... of the services' metrics endpoints to probe (empty: none); default: "
            "run, ingest, enrich, store on 127.0.0.1:9100-9103."
        ),
    )


class NerSettings(BaseSettings):
    """Named-entity recognition."""

    model_config = _prefixed()

    ner_model: str | None = Field(
        None, description="Path or installed spaCy package; default: the shipped model."
    )


# Documents per enrich batch at most (see ``EnrichSettings.enrich_batch_size``).
DEFAULT_ENRICH_BATCH_SIZE = 8


class EnrichSettings(BaseSettings):
    """The enrich worker's batches and worker processes (``dropwire enrich``, ``dropwire run``)."""

    model_config = _prefixed()

    # 8, not 16: at 80 % of the backlog rate most batches filled to the cap, and every document of a
    # batch waits for its whole NER pass; with 8 the drop-to-stored p99 there fell from 543-621 to
    # 397-412 ms for a backlog rate 2-4 % lower (scripts/latency_hops.py, BENCHMARKS.md).
    enrich_batch_size: int = Field(
        DEFAULT_ENRICH_BATCH_SIZE,
        gt=0,
        description="Documents per enrich batch at most (one NER pass, one store message).",
    )
    enrich_recycle_documents: int = Field(
        1000,
        ge=0,
        description="Documents a worker process enriches before it is replaced by a fresh fork "
        "(keeps memory flat over long backlogs); 0: never.",
    )


# What a secret is replaced with wherever a URL is shown or logged.
MASK = "***"
# Query parameters whose values are secrets (libpq's ``password``, Redis' ``password``, tokens, keys).
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|auth|credential", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with every secret in it hidden: the password of its user-info and the values of
    secret-looking query parameters.

    Works on text no URL parser accepts: the user-info ends at the *last* ``@`` (an unencoded ``@``
    in a password hides its tail too), and nothing is decoded or re-encoded.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    at = rest.rfind("@")
    if at != -1:
        user, colon, _ = rest[:at].partition(":")
        rest = f"{user}{':' + MASK if colon else ''}@{rest[at + 1 :]}"
    head, qmark, query = rest.partition("?")
    if qmark:
        query, hash_, fragment = query.partition("#")
        params = []
        for param in re.split(r"([&;])", query):
            key, eq, _ = param.partition("=")
            params.append(f"{key}={MASK}" if eq and _SECRET_PARAM.search(key) else param)
        rest = f"{head}?{''.join(params)}{hash_}{fragment}"
    return f"{scheme}://{rest}"


class ConsoleSettings(_FileSecrets):
    """The operator console's web server (``dropwire console``)."""

    model_config = _prefixed()

    console_host: str = Field(
        "127.0.0.1", description="Bind address; anything but loopback requires DROPWIRE_CONSOLE_TOKEN."
    )
    console_port: int = Field(9104, ge=0, le=65535, description="Port of the pages, the API and /metrics.")
    console_token: SecretStr | None = Field(
        None, description="When set, required on every request (Bearer header or the login page)."
    )


def masked(settings: BaseSettings) -> dict[str, Any]:
    """The settings as a plain dict, with secrets and URL passwords hidden."""
    out: dict[str, Any] = {}
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            out[name] = "**********"
        elif isinstance(value, str) and name.endswith("_url"):
            out[name] = mask_url(value)
        else:
            out[name] = value
    return out
