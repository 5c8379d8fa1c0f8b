"""The Celery app factory and the task names that make up the queue topology.

Producers send tasks *by name* (``send_task``), so no service imports another's code. Every task
takes one positional argument: the JSON text of a ``shared.messages`` record. Celery itself is held
to JSON: a pickled message is refused at the door.
"""

from __future__ import annotations

import random
import socket
from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue

from shared import broker
from shared.queues import QUEUE_DONE as QUEUE_DONE  # re-exported: the topology is named here
from shared.queues import QUEUE_ENRICH as QUEUE_ENRICH
from shared.queues import QUEUE_STORE as QUEUE_STORE
from shared.settings import DEFAULT_VISIBILITY_TIMEOUT_SECONDS, BrokerSettings

TASK_ENRICH = "dropwire.enrich.document"
TASK_STORE = "dropwire.store.document"
TASK_STORE_FAILURE = "dropwire.store.failure"
TASK_STORE_BATCH = "dropwire.store.batch"
TASK_DONE = "dropwire.ingest.done"
TASK_DONE_BATCH = "dropwire.ingest.done_batch"

# enrich: DocumentReceived. store: DocumentEnriched, or DocumentsEnriched (TASK_STORE_BATCH: an enrich
# batch's documents in one message). store.failure: a DocumentDone(outcome="failed")
# from any stage that gives up (the store records the failure row, then forwards it to ingest.done).
# ingest.done: DocumentDone, or DocumentsDone (TASK_DONE_BATCH: a store batch's outcomes in one
# message), consumed by ingest, which files the claimed files away.
TASK_QUEUES = {
    TASK_ENRICH: QUEUE_ENRICH,
    TASK_STORE: QUEUE_STORE,
    TASK_STORE_FAILURE: QUEUE_STORE,
    TASK_STORE_BATCH: QUEUE_STORE,
    TASK_DONE: QUEUE_DONE,
    TASK_DONE_BATCH: QUEUE_DONE,
}

# The default broker visibility timeout (``DROPWIRE_VISIBILITY_TIMEOUT``); the trade-off is explained
# at ``shared.settings.DEFAULT_VISIBILITY_TIMEOUT_SECONDS``.
VISIBILITY_TIMEOUT_SECONDS = DEFAULT_VISIBILITY_TIMEOUT_SECONDS
# A broker that stops answering (hung, or the network path cut without a reset) must surface as an
# error the consumers' reconnect loops handle, not block a thread for ever: a command waits at most
# this long for its reply, and the kernel gives up on a connection whose peer has gone silent (no
# acknowledgement of sent data for TCP_USER_TIMEOUT; keepalive probes while idle). Without these a
# worker whose network was cut kept a dead connection and ignored SIGTERM until it was killed. A stop
# on a silent broker waits for at most two such timeouts: the command in progress, then kombu's
# reading of the pending BRPOP's reply as it closes the channel (Redis answers in well under 1 ms).
BROKER_SOCKET_TIMEOUT_SECONDS = 5.0
BROKER_CONNECT_TIMEOUT_SECONDS = 5.0
BROKER_KEEPALIVE_IDLE_SECONDS = 10
BROKER_KEEPALIVE_INTERVAL_SECONDS = 5
BROKER_KEEPALIVE_PROBES = 3
BROKER_USER_TIMEOUT_MS = 20_000

# A message whose worker died this many times is dead-lettered rather than redelivered again.
MAX_DELIVERIES = 5


def create_app(
    name: str, broker_url: str, *, visibility_timeout: float | None = None, **overrides: Any
) -> Celery:
    """A Celery app wired for at-least-once delivery over Redis, JSON only.

    ``visibility_timeout`` defaults to ``DROPWIRE_VISIBILITY_TIMEOUT`` (``BrokerSettings``).
    """
    if visibility_timeout is None:
        visibility_timeout = BrokerSettings().visibility_timeout
    app = Celery(name, broker=broker_url, set_as_current=False)
    if broker_url.startswith("redis://"):
        app.conf.broker_transport = broker.TRANSPORT  # kombu's, keeping one client per pool
    exchange = Exchange("dropwire", type="direct")
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        # Ack only after the task body has run; a worker killed mid-task leaves the message queued.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(q, exchange, routing_key=q) for q in (QUEUE_ENRICH, QUEUE_STORE, QUEUE_DONE)],
        task_routes={task: {"queue": q, "routing_key": q} for task, q in TASK_QUEUES.items()},
        task_default_exchange="dropwire",
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            **(redis_socket_options() if broker_url.startswith(("redis://", "rediss://")) else {}),
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        # Task events (for `celery events`, Flower): off unless DROPWIRE_TASK_EVENTS=true, since each
        # task then costs the broker a few more messages.
        worker_send_task_events=task_events_enabled(),
        task_send_sent_event=task_events_enabled(),
        enable_utc=True,
    )
    app.conf.update(overrides)
    return app


def redis_socket_options() -> dict[str, Any]:
    """Transport options bounding how long a silent Redis can hold a connection (see above)."""
    keepalive = {
        socket.TCP_KEEPIDLE: BROKER_KEEPALIVE_IDLE_SECONDS,
        socket.TCP_KEEPINTVL: BROKER_KEEPALIVE_INTERVAL_SECONDS,
        socket.TCP_KEEPCNT: BROKER_KEEPALIVE_PROBES,
    }
    if hasattr(socket, "TCP_USER_TIMEOUT"):  # Linux
        keepalive[socket.TCP_USER_TIMEOUT] = BROKER_USER_TIMEOUT_MS
    return {
        "socket_timeout": BROKER_SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": BROKER_CONNECT_TIMEOUT_SECONDS,
        "socket_keepalive": True,
        "socket_keepalive_options": keepalive,
    }


def task_events_enabled() -> bool:
    """``DROPWIRE_TASK_EVENTS``: whether workers (and producers) send Celery task events."""
    return BrokerSettings().task_events


# Transient errors (broker or database down) are retried this many times, waiting 1, 2, 4 … seconds
# (capped, with full jitter so a fleet of workers does not retry in lock-step) before dead-lettering.
RETRY_MAX_RETRIES = 10
# Cap of one backoff wait: a database restart takes tens of seconds, not hours.
RETRY_BACKOFF_MAX_SECONDS = 120
# How long the broker remembers that a task id was redelivered (longer than any redelivery cycle).
REDELIVERY_MEMORY_SECONDS = 24 * 3600
# Publishing to a broker that is briefly away: a few quick attempts, then the caller decides.
PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2.0}


def task_options() -> dict[str, Any]:
    """Options for every dropwire task: late acks, and re-queued (not lost) when its worker dies.

    Retries are decided in the task body with ``backoff_seconds`` so that the last failed attempt
    can be dead-lettered (a failed ``DocumentDone``) instead of vanishing as a failed task.
    """
    from shared.errors import DeadLettered

    return {
        "acks_late": True,
        "reject_on_worker_lost": True,
        "max_retries": RETRY_MAX_RETRIES,
        # An expected ending (the document is in the dead-letter path): FAILURE state, no traceback.
        "throws": (DeadLettered,),
    }


def backoff_seconds(retries: int) -> float:
    """Wait before retry number ``retries + 1``: exponential (1, 2, 4 … s), capped, with full jitter."""
    ceiling = min(RETRY_BACKOFF_MAX_SECONDS, 2.0**retries)
    return random.uniform(0, ceiling)


def task_argument(body: Any) -> str | None:
    """The single positional argument (our JSON text) of a Celery protocol-2 body ``[args, kwargs, embed]``."""
    if isinstance(body, list | tuple) and body and isinstance(body[0], list | tuple) and body[0]:
        first = body[0][0]
        return first if isinstance(first, str) else None
    return None


def broker_errors(app: Celery) -> tuple[type[BaseException], ...]:
    """Every exception that means "the broker is away": kombu's own, the builtins, and the transport's
    (redis-py raises ``redis.exceptions.ConnectionError``, which is not the builtin one, when Redis restarts).
    """
    from kombu.exceptions import OperationalError

    probe = app.connection_for_read()  # not connected: only asked which errors its transport raises
    try:
        return (OperationalError, ConnectionError, OSError, *probe.connection_errors, *probe.channel_errors)
    finally:
        probe.release()


# How much of a payload a message's ``argsrepr`` header shows (Flower, ``celery inspect``): what
# Celery's own ``saferepr`` keeps, about 1 kB.
ARGSREPR_CHARS = 1000


# The message header that marks a heartbeat document, so that a consumer can keep it out of its
# document counters before decoding the body (the batch pool's parent decodes nothing).
HEARTBEAT_HEADER = "dropwire_heartbeat"


def send(
    app: Celery, task_name: str, payload: str, *, task_id: str | None = None, heartbeat: bool = False
) -> None:
    """Publish one message (JSON text) to ``task_name``'s queue; ``DependencyUnavailable`` if the broker is away.

    ``task_id``: the Celery task id (default: a fresh UUID). Ingest gives each enrich task its
    document's ``doc_id``, the correlation id of every log line, so Celery's tools show the id an
    operator greps for. ``heartbeat`` sets ``HEARTBEAT_HEADER``.

    Three of Celery's per-message steps are skipped, a quarter of what a publish cost
    (``scripts/send_cost.py``): declaring the queue again (kombu copies and binds the queue and its
    exchange on every publish to find it declared already; the message goes to the anonymous
    exchange, straight onto the queue named by its routing key, which needs no binding, and every
    consumer declares its queue), ``saferepr`` of the payload for the ``argsrepr`` header (its
    first ``ARGSREPR_CHARS`` instead), and the result backend's hook (results are ignored).
    """
    from shared.errors import DependencyUnavailable

    shown = payload if len(payload) <= ARGSREPR_CHARS else payload[:ARGSREPR_CHARS] + "..."
    try:
        app.send_task(
            task_name,
            args=[payload],
            task_id=task_id,
            headers={HEARTBEAT_HEADER: True} if heartbeat else None,
            queue=TASK_QUEUES[task_name],
            routing_key=TASK_QUEUES[task_name],
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
            declare=[],
            argsrepr=repr([shown]),
            kwargsrepr="{}",
            ignore_result=True,
        )
    except broker_errors(app) as exc:
        raise DependencyUnavailable("broker unreachable while publishing", task=task_name) from exc


def redelivery_count(app: Celery, task_id: str, redelivered: bool) -> int:
    """How many times the broker has redelivered ``task_id`` (a worker died or lost it), counting this one.

    Redis marks a restored message ``redelivered``; the count lives in the broker under a key per task
    id, so it survives the worker that died. A transport without a Redis client (memory://) counts 0.
    """
    if not redelivered:
        return 0
    with app.connection_for_write() as conn:
        client = getattr(conn.default_channel, "client", None)
        if client is None or not hasattr(client, "incr"):
            return 0
        key = f"dropwire:redeliveries:{task_id}"
        count = int(client.incr(key))
        client.expire(key, REDELIVERY_MEMORY_SECONDS)
        return count


def forget_redeliveries(app: Celery, task_id: str) -> None:
    """Drop ``task_id``'s redelivery count once its document is dead-lettered for it.

    An enrich task's id is its document's ``doc_id`` (stable across lease re-publishes, so deaths are
    counted per document, not per publish): forgetting lets ``dropwire failed retry`` give the same
    bytes a fresh count instead of dead-lettering them at their first redelivery.
    """
    with app.connection_for_write() as conn:
        client = getattr(conn.default_channel, "client", None)
        if client is not None and hasattr(client, "delete"):
            client.delete(f"dropwire:redeliveries:{task_id}")


# Waiting for a free pooled broker connection: the pool only runs dry if callers leak connections.
POOL_ACQUIRE_SECONDS = 10.0
NOT_FOUND = "404"  # AMQP reply code kombu's virtual transports use for a queue that does not exist


def queue_depth(app: Celery, queue: str) -> int | None:
    """Messages waiting in ``queue`` (not counting those a worker holds), or None if the broker is away."""
    from amqp.exceptions import ChannelError

    try:
        # A connection from the app's pool, kept between calls: a fresh one costs a connect and a
        # channel set-up each time (about 1 ms of CPU, measured), which ingest paid on every round.
        with app.pool.acquire(block=True, timeout=POOL_ACQUIRE_SECONDS) as conn:
            conn.ensure_connection(max_retries=1)
            _, count, _ = conn.default_channel.queue_declare(queue=queue, passive=True)
            return int(count)
    except ChannelError as exc:
        if str(getattr(exc, "reply_code", "")) == NOT_FOUND:
            return 0  # Redis keeps a queue as a list, which vanishes when empty
        raise
    except broker_errors(app):
        return None
