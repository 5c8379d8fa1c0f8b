"""Log lines reach the stream whole: one write per line, so processes sharing a stream never glue lines."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog

from shared.logging import configure_logging, get_logger

pytestmark = pytest.mark.unit


class Recorder(io.StringIO):
    """A stream that remembers each write call separately."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)

    def isatty(self) -> bool:
        return False


def test_each_line_is_written_in_one_call_with_its_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = Recorder()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", "json", service="test")
    try:
        get_logger("t").info("first.event", doc_id="a" * 64)
        logging.getLogger("a.library").warning("from the standard library")
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = handlers, level
    lines = [w for w in stream.writes if w]
    assert len(lines) == 2, stream.writes
    for line in lines:
        assert line.endswith("\n") and line.count("\n") == 1
        assert json.loads(line)["service"] == "test"
