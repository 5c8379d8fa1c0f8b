"""Modules stay small enough to read in a sitting: one over 400 lines says why in its first line."""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

LIMIT = 400
REASON = "# Over 400 lines on purpose:"
PACKAGES = ("shared", "services", "dropwire", "scripts")


def test_every_long_module_gives_its_reason_at_the_top() -> None:
    """A Python module outside tests/ longer than 400 lines starts with a comment saying why."""
    unexplained = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) > LIMIT and not lines[0].startswith(REASON):
                unexplained.append(f"{path.relative_to(REPO_ROOT)} ({len(lines)} lines)")
    assert unexplained == []
