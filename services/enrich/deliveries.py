"""The batch consumer's messages, and its document counters: heartbeats kept out of ``tasks_*``.

``dropwire_tasks_started_total = tasks_completed (ok + failed + retry) + tasks_in_progress`` must hold
over documents only, so the parent tells heartbeats apart before decoding anything: ingest marks them
with ``HEARTBEAT_HEADER`` (a message from an older ingest, unmarked, is counted as a document at both
ends, so the sum still holds). Heartbeats are counted by ``dropwire_heartbeats_total`` instead.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

from shared.celery_app import HEARTBEAT_HEADER
from shared.metrics import Metrics

STAGE = "enrich"


@dataclass
class Delivery:
    """One message of queue ``enrich`` held by the consumer until its batch is finished."""

    message: Any  # kombu's Message: typed in some releases, not in others
    payload: str
    task_id: str | None  # the doc_id (ingest makes it so); None in a hand-made message
    redelivered: bool
    heartbeat: bool = False


@dataclass
class Batch:
    deliveries: list[Delivery]


def as_delivery(message: Any, payload: str, requeued: Container[str]) -> Delivery:
    """The ``Delivery`` of ``message``: redelivered if the broker says so or this consumer put it back."""
    headers = message.headers or {}
    task_id = headers.get("id") if isinstance(headers.get("id"), str) else None
    redelivered = bool((message.delivery_info or {}).get("redelivered")) or (
        task_id is not None and task_id in requeued
    )
    return Delivery(message, payload, task_id, redelivered, headers.get(HEARTBEAT_HEADER) is True)


def documents(deliveries: Iterable[Delivery]) -> int:
    """How many of ``deliveries`` are documents (not heartbeats): what ``tasks_*`` count."""
    return sum(1 for d in deliveries if not d.heartbeat)


def count_started(metrics: Metrics, deliveries: Iterable[Delivery]) -> None:
    n = documents(deliveries)
    metrics.tasks_started.labels(stage=STAGE).inc(n)
    metrics.tasks_in_progress.labels(stage=STAGE).inc(n)


def count_handed_back(metrics: Metrics, deliveries: Iterable[Delivery]) -> None:
    """Deliveries that go back to the broker unfinished: no longer in progress, completed as ``retry``."""
    n = documents(deliveries)
    metrics.tasks_in_progress.labels(stage=STAGE).dec(n)
    metrics.tasks_completed.labels(stage=STAGE, outcome="retry").inc(n)
