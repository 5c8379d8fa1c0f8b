"""structlog set-up: key/value events, JSON when not on a terminal, context variables merged in.

Bind ``doc_id`` with ``structlog.contextvars.bound_contextvars`` so every line of one document's
journey carries it: ``grep '"doc_id": "…"'`` over all services' logs then tells that document's
story. It is the one correlation id (the enrich task's Celery id is the doc_id too): bind no second one.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import structlog

Format = Literal["auto", "json", "console"]


def uses_json(fmt: Format = "auto") -> bool:
    """Whether ``fmt`` renders JSON here (``auto``: JSON unless stderr is a terminal)."""
    return fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())


def configure_logging(level: str = "INFO", fmt: Format = "auto", service: str | None = None) -> None:
    """Configure structlog and the standard library's root logger (Celery, SQLAlchemy) alike."""
    import structlog

    use_json = uses_json(fmt)
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service is not None:
        # A processor, not a context variable: threads start with an empty context, and their lines
        # (a consumer thread's, a library's) must name the service too.
        shared_processors.insert(0, _add_service(service))
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.StackInfoRenderer(),
            *([structlog.processors.format_exc_info] if use_json else []),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # One write per line, newline included: the prefork children of a worker share one stream, and
        # print()'s separate write of the newline let two children's lines run together.
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library: render their records the same way.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Python warnings (Celery's deprecation notices among them) become log lines like any other.
    logging.captureWarnings(True)
    # Alembic says a dozen lines per start-up (one per plugin, its context); only its warnings
    # matter unless a migration runs (``services.store.db.upgrade`` lets those lines through).
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))


def _add_service(service: str) -> structlog.typing.Processor:
    def add(_: object, __: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
        event.setdefault("service", service)
        return event

    return add


class _Lazy:
    """A logger that imports structlog at its first call, not when a module asks for it.

    Modules take ``log = get_logger(__name__)`` at import time; importing structlog then (with its dev
    renderer, rich's traceback support) cost the read-only commands ~0.1 s of start-up for loggers
    they never call. Each call goes to structlog's own lazy proxy, so ``configure_logging`` and
    ``structlog.testing.capture_logs`` apply whenever they run, as before.
    """

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str | None) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._logger is None:
            import structlog

            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attr)


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    """The logger of module ``name``; structlog itself is imported at its first use."""
    logger: structlog.typing.FilteringBoundLogger = _Lazy(name)
    return logger
