"""``dropwire run``'s in-process queue: kombu's ``memory://`` transport, whose idle consumers wait to
be woken by a publish instead of polling.

kombu's virtual transports poll: an idle ``drain_events`` looks at its queues, sleeps
``polling_interval`` and looks again. ``dropwire run`` has several consumers (enrich's, the store's,
the done handler's), each taking the GIL to look 50 times a second while the enrich workers want the
cores, and each message waited up to one interval to be picked up. Here every publish bumps one
counter and wakes whoever waits on it; a consumer that found nothing waits for the counter to move
(or its timeout), so a message is picked up at once and an idle pipeline sleeps. The queues, the
messages and kombu's bookkeeping are the memory transport's own; only the waiting changes.
"""

from __future__ import annotations

import threading
import time
from queue import Empty
from typing import Any

from kombu.transport import memory

# What selects this transport for a ``memory://`` URL (kombu resolves "module:Class").
TRANSPORT = "dropwire.inprocess:Transport"
# The longest a consumer waits without a publish before it looks again anyway: a consumer whose
# prefetch is full finds nothing until it acknowledges, and an acknowledgement wakes nobody.
LONGEST_WAIT_SECONDS = 0.5


class Arrivals:
    """How many messages were put in this process, and a condition to wait for that to change."""

    def __init__(self) -> None:
        self._moved = threading.Condition()
        self.count = 0

    def bump(self) -> None:
        with self._moved:
            self.count += 1
            self._moved.notify_all()

    def wait_past(self, seen: int, timeout: float) -> None:
        """Return once ``count`` is no longer ``seen``, or after ``timeout`` seconds."""
        with self._moved:
            self._moved.wait_for(lambda: self.count != seen, timeout)


ARRIVALS = Arrivals()


class Channel(memory.Channel):
    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        super()._put(queue, message, **kwargs)  # type: ignore[no-untyped-call]
        ARRIVALS.bump()


class Transport(memory.Transport):
    Channel = Channel

    # kombu's two base classes type this differently; this is the virtual transport's signature.
    def drain_events(self, connection: Any, timeout: float | None = None) -> None:  # type: ignore[override]
        """Deliver one message, waiting up to ``timeout`` for one (``TimeoutError`` if none came)."""
        get = self.cycle.get  # type: ignore[union-attr]  # set once a channel exists, as kombu's own
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = ARRIVALS.count  # read before looking: a put in between ends the wait at once
            try:
                get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            left = LONGEST_WAIT_SECONDS if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError()
            ARRIVALS.wait_past(seen, min(left, LONGEST_WAIT_SECONDS))
