"""What Celery's tools see of a dead-lettered document: a FAILED task, not a SUCCESS.

The enrich handler dead-letters a document it cannot process (a failed ``DocumentDone`` to the store,
which records it and tells ingest to move the file to ``failed/``) and then returns normally, which
Celery would report as SUCCESS. ``failing_dead_letters`` makes the worker's handler raise
``DeadLettered`` once the dead letter is sent: the task ends in FAILURE (``celery events``, Flower),
the message is still acknowledged (``DeadLettered`` is in the task's ``throws``), nothing is retried.

Only ``dropwire enrich`` (the Celery worker) applies it; ``dropwire run`` has no Celery tools to tell.
"""

from __future__ import annotations

from typing import Any

from shared.errors import DeadLettered
from shared.messages import DocumentDone


def failing_dead_letters(handler: Any) -> Any:
    """``handler`` with its ``dead_letter`` raising ``DeadLettered`` after it has done its work."""
    send_dead_letter = handler.dead_letter

    def dead_letter(done: DocumentDone) -> None:
        send_dead_letter(done)
        raise DeadLettered(f"dead-lettered at enrich: {done.reason}", doc_id=done.doc_id, reason=done.reason)

    handler.dead_letter = dead_letter
    return handler
