"""The spool's journal over inputs nobody chose: any name a file can have, any line a torn write or a
foreign tool can leave. Examples live in test_journey.py; these are properties over generated input."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.journal import JOURNAL_DIR, SUFFIX, Journal, step
from shared.messages import JOURNEY_KINDS
from shared.spool import escape_name

pytestmark = pytest.mark.unit

# Any name Linux allows: bytes without "/" or NUL, as the spool sees it (os.fsdecode), then escaped.
names = st.binary(min_size=1, max_size=120).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
)
facts = st.dictionaries(
    st.text(max_size=12),
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=40)),
    max_size=4,
)
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(raw=names, kind=st.sampled_from(JOURNEY_KINDS), facts=facts)
def test_any_claim_name_and_facts_come_back_as_written(raw: bytes, kind: str, facts: dict) -> None:
    """A step recorded for any escaped file name reads back with that name, kind and facts."""
    claim = escape_name(os.fsdecode(raw))
    with tempfile.TemporaryDirectory() as root:
        journal = Journal(Path(root))
        journal.record(claim, [step(kind, AT, **facts)], doc_id="a" * 64)  # type: ignore[arg-type]
        [line] = list(journal.lines())
    assert (line.claim, line.doc_id) == (claim, "a" * 64)
    assert [(e.kind, e.at, e.facts) for e in line.events] == [(kind, AT, facts)]


@settings(max_examples=150, deadline=None)
@given(garbage=st.lists(st.binary(max_size=200), max_size=6))
def test_any_bytes_beside_good_lines_are_skipped_never_raised(garbage: list[bytes]) -> None:
    """Torn writes, foreign tools, invalid UTF-8: reading skips what is not a journal line and still
    yields every good one."""
    with tempfile.TemporaryDirectory() as root:
        journal = Journal(Path(root))
        journal.record("000001_x_a.txt", [step("claimed", AT)])
        day = Path(root) / JOURNAL_DIR / (AT.date().isoformat() + SUFFIX)
        with day.open("ab") as fh:
            for chunk in garbage:
                fh.write(chunk.replace(b"\n", b" ") + b"\n")
        journal.record("000002_x_b.txt", [step("archived", AT)])
        claims = [line.claim for line in journal.lines()]
    assert claims[0] == "000001_x_a.txt" and claims[-1] == "000002_x_b.txt"
