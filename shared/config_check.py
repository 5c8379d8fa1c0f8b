"""Settings checked once at start, and errors turned into one line each with an exit code.

* ``problems()``: every settings class is built once from the environment; each problem becomes one
  line naming the variable (``DROPWIRE_BATCH_SIZE='abc': ...``) and what it accepts. Also checks what
  pydantic cannot: that a ``DROPWIRE_NER_MODEL`` path exists.
* ``explain(exc)``: an exception from a command -> ``(exit code, line)`` when it is an operator's
  problem (a dependency down, a port taken, a database missing), ``None`` for a bug (which keeps its
  traceback).

Exit codes (documented in docs/troubleshooting.md): ``EXIT_CONFIG`` 2 -- fix a setting (or the thing
it names: a missing database, wrong credentials, an unmigrated schema, a port in use);
``EXIT_UNREACHABLE`` 3 -- a dependency did not answer (start it, or wait and run again).
"""

from __future__ import annotations

import errno
import importlib.util
import os
from pathlib import Path
from typing import Any

from shared.errors import DependencyUnavailable, DropwireError
from shared.retry import DependencyFailed, classify

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3

PREFIX = "DROPWIRE_"


class SetupError(DropwireError):
    """A setting names something that is not there (a spool folder): one line, exit 2."""

    reason = "setup"


def _settings_classes() -> list[type[Any]]:
    from shared import settings as s

    return [
        s.SpoolSettings,
        s.IngestSettings,
        s.BrokerSettings,
        s.DatabaseSettings,
        s.MetricsSettings,
        s.LogSettings,
        s.NerSettings,
        s.ConsoleSettings,
        s.StatusSettings,
    ]


def _line(err: dict[str, Any]) -> str:
    """One pydantic error as ``DROPWIRE_FIELD='value': what is accepted``."""
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    loc = err.get("loc") or ()
    if not loc:
        return msg
    var = f"{PREFIX}{str(loc[0]).upper()}"
    value = os.environ.get(var)
    shown = var if value is None else f"{var}={value!r}"
    return f"{shown}: {msg[0].lower() + msg[1:] if msg else msg}"


def problems() -> list[str]:
    """Every problem in the ``DROPWIRE_*`` settings, one line each (empty: all is well)."""
    from pydantic import ValidationError

    lines: list[str] = []
    built: dict[str, Any] = {}
    for cls in _settings_classes():
        try:
            built[cls.__name__] = cls()
        except ValidationError as exc:
            lines.extend(_line(dict(e)) for e in exc.errors())
    ner = built.get("NerSettings")
    if ner is not None and ner.ner_model:
        lines.extend(_ner_problem(ner.ner_model))
    return list(dict.fromkeys(lines))  # a field shared by two classes is reported once


def _ner_problem(model: str) -> list[str]:
    looks_like_path = os.sep in model or model.startswith(".") or model.startswith("~")
    if looks_like_path:
        path = Path(model).expanduser()
        if not path.is_dir():
            return [
                f"{PREFIX}NER_MODEL={model!r}: no such folder; give a spaCy model folder "
                "(dropwire ner train writes one) or unset it to use the shipped model"
            ]
        return []
    if importlib.util.find_spec(model.replace("-", "_")) is None:
        return [
            f"{PREFIX}NER_MODEL={model!r}: no folder or installed spaCy package of that name; "
            "give a model folder's path or unset it to use the shipped model"
        ]
    return []


def explain(exc: BaseException) -> tuple[int, str] | None:
    """``(exit code, one line)`` for an operator's problem, ``None`` for anything else (a bug)."""
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, DependencyFailed | SetupError):
        return EXIT_CONFIG, exc.message
    if isinstance(exc, DependencyUnavailable):
        return EXIT_UNREACHABLE, exc.message
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return EXIT_CONFIG, (
            f"a port is already in use ({exc.strerror}); stop the process holding it or set "
            f"{PREFIX}METRICS_PORT (or {PREFIX}CONSOLE_PORT) to a free port (0: any)"
        )
    if isinstance(exc, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return EXIT_CONFIG, (
            f"{PREFIX}DATABASE_URL is not a URL this install can use ({exc}); "
            "use postgresql://USER@HOST/DB or sqlite:///PATH"
        )
    if isinstance(exc, sa_exc.OperationalError | sa_exc.ProgrammingError | sa_exc.InterfaceError):
        verdict = classify(exc)
        code = EXIT_CONFIG if verdict.kind == "permanent" else EXIT_UNREACHABLE
        fix = verdict.fix if verdict.kind == "permanent" else "start it or correct DROPWIRE_DATABASE_URL"
        return code, f"database: {verdict.cause}; {fix}"
    if _is_broker_error(exc):
        verdict = classify(exc)
        code = EXIT_CONFIG if verdict.kind == "permanent" else EXIT_UNREACHABLE
        fix = verdict.fix if verdict.kind == "permanent" else "start Redis or correct DROPWIRE_BROKER_URL"
        return code, f"broker: {verdict.cause}; {fix}"
    return None


def _is_broker_error(exc: BaseException) -> bool:
    """A Redis or kombu connection error (imported only if those libraries are already loaded)."""
    import sys

    kinds: list[type[BaseException]] = []
    if "redis" in sys.modules:
        kinds.append(sys.modules["redis"].exceptions.ConnectionError)
        kinds.append(sys.modules["redis"].exceptions.AuthenticationError)
    if "kombu" in sys.modules:
        kinds.append(sys.modules["kombu"].exceptions.OperationalError)
    return bool(kinds) and isinstance(exc, tuple(kinds))
