"""The project's error types: one base class, a shallow tree that says what to do next.

* ``TransientError``: the world is temporarily unwell (broker or database down). Retry with backoff.
* ``PermanentError``: this input will never work. Never retry: dead-letter it (failure row in the
  database, the file in ``failed/`` with ``NAME.error.json``).

Every permanent error has a short, bounded ``reason`` code: it becomes a metric label and the
``reason`` field of ``NAME.error.json``, so keep the set small and stable. The human explanation goes
in the message text.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DropwireError(Exception):
    """Base of every error dropwire raises on purpose."""

    reason: ClassVar[str] = "error"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        if not self.context:
            return self.message
        ctx = ", ".join(f"{k}={v!r}" for k, v in sorted(self.context.items()))
        return f"{self.message} ({ctx})"


class TransientError(DropwireError):
    """Retry later: the same input may succeed once a dependency recovers."""

    reason = "transient"


class DependencyUnavailable(TransientError):
    """The broker or the database could not be reached."""

    reason = "dependency_unavailable"


class PermanentError(DropwireError):
    """Never retry: the input itself is at fault. Dead-letter it with its reason."""

    reason = "permanent"


class EmptyInput(PermanentError):
    """The file holds no text (zero bytes, or whitespace only)."""

    reason = "empty"


class TooLarge(PermanentError):
    """The file is larger than the configured size cap."""

    reason = "too_large"


class BinaryInput(PermanentError):
    """The bytes are not text (an image, an archive, NUL bytes)."""

    reason = "binary"


class MarkupInput(PermanentError):
    """An HTML page where wire text was expected."""

    reason = "markup"


class UndecodableInput(PermanentError):
    """The bytes are text-like but decode under no supported encoding."""

    reason = "undecodable"


class UnreadableInput(PermanentError):
    """The file could not be read (permissions, vanished, not a regular file)."""

    reason = "unreadable"


class NotARegularFile(PermanentError):
    """A symlink, FIFO, device or directory where a file was expected."""

    reason = "not_regular_file"


class BadName(PermanentError):
    """A file whose name the pipeline cannot carry (a name the filesystem refused to take further)."""

    reason = "bad_name"


class BadMessage(PermanentError):
    """A queue message that is not valid JSON or not of a known schema version."""

    reason = "bad_message"


class ParseError(PermanentError):
    """The text decoded but could not be turned into articles."""

    reason = "parse_error"


class InternalError(PermanentError):
    """A step broke on one file for a reason that is the pipeline's, not the input's (a bug, an OS
    error): the file is set aside with this reason so that nothing else stops."""

    reason = "internal"


class RetriesExhausted(PermanentError):
    """A transient error outlived its retry budget; dead-lettered instead of retried forever."""

    reason = "retries_exhausted"


class DeadLettered(DropwireError):
    """Raised out of a Celery task *after* its document was dead-lettered, so that Celery's tools
    (events, Flower) show the task as FAILURE rather than SUCCESS. Listed in the tasks' ``throws``:
    Celery acknowledges the message and logs one line, no traceback, and never retries it."""

    reason = "dead_lettered"


#: Every reason code a failure may carry; metrics pre-initialise their series from this.
FAILURE_REASONS: tuple[str, ...] = (
    EmptyInput.reason,
    TooLarge.reason,
    BinaryInput.reason,
    MarkupInput.reason,
    UndecodableInput.reason,
    UnreadableInput.reason,
    NotARegularFile.reason,
    BadName.reason,
    BadMessage.reason,
    ParseError.reason,
    RetriesExhausted.reason,
    InternalError.reason,
)
