"""The one ``--json`` shape of every command: JSON Lines, ISO-8601 times, ``doc_id`` for documents.

Each record is one line of compact JSON (a command that reports one thing prints one line), so
``dropwire X --json | jq .`` and ``while read`` loops work the same for every command. Datetimes are
written with ``isoformat()`` (``2026-11-21T09:30:00+00:00``), paths as strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def line(record: Mapping[str, Any]) -> str:
    """One record as one line of JSON (non-ASCII kept readable)."""
    return json.dumps(record, default=_default, ensure_ascii=False)


def lines(records: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    return (line(r) for r in records)
