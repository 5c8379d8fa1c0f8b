"""Celery's worker prints a few lines past logging ("worker: Warm shutdown (MainProcess)", the Ctrl+C
hints) from its signal handlers; with JSON logs those lines broke the stream's one-JSON-object-a-line
shape. ``route_celery_says(json_lines)`` makes them log lines like any other.

They are written with one ``os.write`` (as Celery does, safe in a signal handler: no lock a handler
could wait on), rendered by hand in the shape ``shared.logging`` gives every JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any


def route_celery_says(*, json_lines: bool, service: str = "enrich") -> None:
    """Replace ``celery.apps.worker.safe_say`` with a writer of log lines (JSON when ``json_lines``)."""
    import celery.apps.worker as celery_worker

    def say(msg: str, f: Any = None) -> None:
        text = msg.strip()
        if json_lines:
            record = {
                "event": "celery.worker_said",
                "text": text,
                "service": service,
                "level": "info",
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
            line = json.dumps(record, ensure_ascii=False) + "\n"
        else:
            line = text + "\n"
        with contextlib.suppress(OSError):  # a closed stderr: nothing to tell
            os.write(sys.__stderr__.fileno() if sys.__stderr__ else 2, line.encode("utf-8", "replace"))

    celery_worker.safe_say = say
