"""The README's monitoring section agrees with the code: the metrics table and the alert list."""

from __future__ import annotations

import re

import pytest
import yaml

from shared.metrics import markdown_table
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

DOC = REPO_ROOT / "README.md"
ALERTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"


def test_metrics_table_matches_the_declarations() -> None:
    """The table between the markers is exactly what `python -m shared.metrics` prints."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- metrics-table:start -->\n(.*?)\n<!-- metrics-table:end -->", text, re.S)
    assert match, "metrics-table markers missing"
    assert match.group(1) == markdown_table(), "run: python -m shared.metrics, and paste the table"


def test_alert_list_matches_the_rules() -> None:
    """Every alert in alerts.yml has a row in the README's alert table, with its `for` duration and severity."""
    text = DOC.read_text(encoding="utf-8")
    rows = {
        m.group(1): (m.group(2), m.group(3))
        for m in re.finditer(r"^\| `(Dropwire\w+)` \|[^|]*\| (\w+) \| (\w+) \|$", text, re.M)
    }
    rules = [r for g in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    assert rows == {r["alert"]: (r["for"], r["labels"]["severity"]) for r in rules}
