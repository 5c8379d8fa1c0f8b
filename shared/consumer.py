"""A thread that consumes Celery task messages with kombu and hands each payload to a plain function.

Used where a whole Celery worker would be the wrong shape: inside ``dropwire ingest`` (the
``ingest.done`` queue, next to the inbox watcher) and in ``dropwire run`` (every queue of the
pipeline in one process). A Celery worker wants the main thread, its own signal handlers and a pool;
one kombu consumer per queue in a daemon thread needs none of that, stops on an event, and reads the
very messages ``send_task`` wrote (protocol 2: body ``[args, kwargs, embed]``, task name in headers).

Delivery is at-least-once, as in the workers: a message is acknowledged only after its handler
returned. A ``TransientError`` puts it back on the queue after a pause; a ``PermanentError`` or an
unexpected exception is logged and dropped (the handlers record failures themselves; the ingest lease
re-publishes any file whose message was lost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery
from kombu.message import Message

from shared.celery_app import broker_errors
from shared.errors import PermanentError, TransientError
from shared.logging import get_logger
from shared.retry import Backoff, DependencyFailed, classify

log = get_logger(__name__)

Handler = Callable[[str], None]

# How long one drain waits for a message before checking the stop flag: bounds shutdown latency.
DRAIN_TIMEOUT_SECONDS = 0.5
# Pause before reconnecting to a broker that went away, and before redelivering a transient failure.
RECONNECT_SECONDS = 1.0
# Reconnect waits double from RECONNECT_SECONDS up to this: a broker back after a restart is used
# again within seconds, while a long outage costs few attempts and one warning per half minute.
RECONNECT_CAP_SECONDS = 5.0


class TaskConsumer:
    """Consumes one queue in a daemon thread, calling ``handlers[task name](payload)`` per message."""

    def __init__(
        self,
        app: Celery,
        queue: str,
        handlers: Mapping[str, Handler],
        *,
        name: str,
        on_dropped: Callable[[str], None] | None = None,
        on_crash: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.app = app
        self.queue = queue
        self.handlers = dict(handlers)
        self.name = name
        self.on_dropped = on_dropped  # called with the reason of each message dropped undecoded
        self.decode_errors = 0
        self.stopping = threading.Event()
        self.consuming = threading.Event()
        self.crashed: BaseException | None = None  # what ended the thread, if not a stop
        self.on_crash = on_crash
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervised, name=self.name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """False once the thread died of an error (``/readyz`` reports it; the process should exit)."""
        return self.crashed is None

    def _supervised(self) -> None:
        try:
            self.run()
        except BaseException as exc:
            self.crashed = exc
            self.consuming.clear()
            log.critical("consumer.died", queue=self.queue, error=repr(exc), exc_info=True)
            if self.on_crash is not None:
                self.on_crash(exc)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Consume until ``stopping`` is set, reconnecting whenever the broker goes away."""
        refused = consume_reconnecting(
            self.app,
            self.queue,
            stopping=self.stopping,
            consuming=self.consuming,
            on_message=self._on_message,
            on_decode_error=self._on_decode_error,
            prefetch=1,
            serve=self._drain,
            events="consumer",
        )
        if refused is not None:
            self.crashed = refused
            if self.on_crash is not None:
                self.on_crash(refused)

    def _drain(self, conn: Any) -> None:
        log.info("consumer.started", queue=self.queue)
        while not self.stopping.is_set():
            try:
                conn.drain_events(timeout=DRAIN_TIMEOUT_SECONDS)
            except TimeoutError:
                continue

    def _on_decode_error(self, message: Message, exc: Exception) -> None:
        """A body that is not JSON (or a refused serializer such as pickle): logged, counted and dropped
        (acknowledged) instead of killing the consumer thread or being redelivered into a crash loop."""
        delivery: Any = message
        self.decode_errors += 1
        log.error(
            "consumer.message_dropped",
            queue=self.queue,
            reason="bad_message",
            content_type=delivery.content_type,
            task=(delivery.headers or {}).get("task"),
            error=str(exc)[:200],
        )
        if self.on_dropped is not None:
            self.on_dropped("bad_message")
        delivery.ack()

    def _on_message(self, body: Any, message: Message) -> None:
        delivery: Any = message  # kombu's Message: typed in some releases, not in others
        task = (message.headers or {}).get("task")
        handler = self.handlers.get(task) if isinstance(task, str) else None
        payload = _first_arg(body)
        if handler is None or payload is None:
            log.error("consumer.unknown_message", queue=self.queue, task=task)
            delivery.reject(requeue=False)
            return
        try:
            handler(payload)
        except TransientError as exc:
            log.warning(
                "consumer.transient_failure", queue=self.queue, task=task, reason=exc.reason, error=str(exc)
            )
            self.stopping.wait(RECONNECT_SECONDS)
            delivery.requeue()
            return
        except PermanentError as exc:
            log.error(
                "consumer.permanent_failure", queue=self.queue, task=task, reason=exc.reason, error=str(exc)
            )
        except Exception:
            log.exception("consumer.handler_crashed", queue=self.queue, task=task)
            delivery.reject(requeue=False)
            return
        delivery.ack()


def consume_reconnecting(
    app: Celery,
    queue: str,
    *,
    stopping: threading.Event,
    consuming: threading.Event,
    on_message: Callable[[Any, Message], None],
    on_decode_error: Callable[[Message, Exception], None],
    prefetch: int,
    serve: Callable[[Any], None],
    events: str,
    on_lost: Callable[[], None] | None = None,
) -> DependencyFailed | None:
    """Consume ``queue`` (JSON bodies, ``prefetch`` unacknowledged at a time) until ``stopping`` is
    set, reconnecting whenever the broker goes away; ``consuming`` is set while connected.

    ``serve(conn)`` does the work while connected (draining events until ``stopping``); a broker error
    out of it clears ``consuming``, calls ``on_lost`` (what was received unacknowledged comes again)
    and reconnects after a capped, jittered pause, with one ``EVENTS.broker_unavailable`` warning a
    while. A refusal that waiting will not cure (a wrong password) ends it: logged as
    ``EVENTS.broker_refused`` and returned; None when stopped. Shared by ``TaskConsumer``, the
    store's batch consumer and enrich's, so all recover from a broker restart alike."""
    kombu_queue = app.amqp.queues[queue]
    errors = broker_errors(app)  # includes redis-py's own ConnectionError (a Redis restart)
    backoff = Backoff(first=RECONNECT_SECONDS, cap=RECONNECT_CAP_SECONDS)  # shared.retry
    while not stopping.is_set():
        try:
            with app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1)
                with conn.Consumer(
                    [kombu_queue], callbacks=[on_message], accept=["json"], on_decode_error=on_decode_error
                ) as consumer:
                    consumer.qos(prefetch_count=prefetch)
                    consuming.set()
                    # Connected: a later outage starts short.
                    backoff = Backoff(first=RECONNECT_SECONDS, cap=RECONNECT_CAP_SECONDS)
                    serve(conn)
        except errors as exc:
            consuming.clear()
            if on_lost is not None:
                on_lost()
            verdict = classify(exc)
            if verdict.kind == "permanent":  # a wrong password: waiting will not help
                log.error(f"{events}.broker_refused", queue=queue, cause=verdict.cause, fix=verdict.fix)
                return DependencyFailed(f"broker: {verdict.line()}")
            if backoff.due_to_say():
                log.warning(
                    f"{events}.broker_unavailable",
                    queue=queue,
                    error=str(exc),
                    waited_s=round(backoff.waited(), 1),
                )
            stopping.wait(backoff.next_delay())
    consuming.clear()
    return None


def _first_arg(body: Any) -> str | None:
    """The single positional argument of a Celery protocol-2 body ``[args, kwargs, embed]``."""
    if isinstance(body, (list, tuple)) and body and isinstance(body[0], (list, tuple)) and body[0]:
        first = body[0][0]
        return first if isinstance(first, str) else None
    return None
