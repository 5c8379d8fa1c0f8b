"""The Grafana dashboard and its provisioning: well-formed, and every query reads declared metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

from shared.metrics import exported_names
from tests.conftest import unavailable
from tests.dashboards import DASHBOARD, DATASOURCES, GRAFANA_DIR, load_dashboard, panels, queries, render

pytestmark = pytest.mark.unit

METRIC_NAME = re.compile(r"\bdropwire_[a-z0-9_]+\b")
GRAFANA_VARIABLE = re.compile(r"\$\{?\w+")


def test_every_panel_has_a_query() -> None:
    """No panel on the dashboard is empty: each has at least one PromQL target."""
    for panel in panels():
        targets = panel.get("targets", [])
        assert targets, panel["title"]
        assert all(t.get("expr", "").strip() for t in targets), panel["title"]


def test_queries_name_only_declared_metrics() -> None:
    """Every dropwire_* series a panel reads is one shared/metrics.py declares (no typo, no stale name)."""
    known = exported_names()
    used = {name for q in queries() for name in METRIC_NAME.findall(q.expr)}
    assert used <= known, sorted(used - known)


def test_the_dashboard_covers_what_operators_asked_for() -> None:
    """Throughput, latency percentiles, queue depth, failures by reason, backlog, heartbeat, entities."""
    exprs = " ".join(q.expr for q in queries())
    for needed in (
        "dropwire_tasks_completed_total",
        "histogram_quantile(0.99, sum by (le) (rate(dropwire_end_to_end_latency_seconds_bucket",
        "dropwire_queue_depth",
        "dropwire_files_failed_total",
        'dropwire_files_waiting{folder=~"inbox|processing"}',
        "dropwire_heartbeat_age_seconds",
        "sum by (label) (rate(dropwire_entity_mentions_total",
    ):
        assert needed in exprs, needed


def test_panels_use_the_provisioned_datasource() -> None:
    """Every panel and target points at the datasource uid that provisioning creates."""
    provisioned = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
    assert [d["uid"] for d in provisioned] == ["dropwire-prometheus"]
    assert provisioned[0]["url"] == "http://prometheus:9090"
    for panel in panels():
        assert panel["datasource"]["uid"] == "dropwire-prometheus", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "dropwire-prometheus", panel["title"]


def test_dashboard_identity_and_layout() -> None:
    """A stable uid, unique panel ids and titles, and no two panels overlapping on the grid."""
    dashboard = load_dashboard()
    assert dashboard["uid"] == "dropwire-pipeline"
    every = dashboard["panels"]
    assert len({p["id"] for p in every}) == len(every)
    titles = [p["title"] for p in panels()]
    assert len(set(titles)) == len(titles)
    cells: set[tuple[int, int]] = set()
    for p in every:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, p["title"]
        cells |= mine


def test_only_grafana_builtin_variables_are_used() -> None:
    """Queries use only Grafana's built-in intervals, which the e2e test can fill in the same way."""
    for q in queries():
        assert not GRAFANA_VARIABLE.search(render(q.expr)), (q.panel, q.expr)


def test_dashboard_provider_points_at_the_mounted_folder() -> None:
    """The dashboard provider reads the folder docker-compose.yml mounts the JSON into."""
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "dropwire.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
    assert DASHBOARD.parent.name == "dashboards"


def test_every_query_parses_as_promql() -> None:
    """promtool parses every panel query (as a recording rule), so Grafana will not show a syntax error."""
    exe = shutil.which("promtool")
    if exe is None:
        unavailable("promtool", "not on PATH (Debian package `prometheus`)")
    assert exe is not None
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"panel:q{i}", "expr": render(q.expr)} for i, q in enumerate(queries())],
            }
        ]
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as fh:
        yaml.safe_dump(rules, fh)
        fh.flush()
        result = subprocess.run(
            [str(exe), "check", "rules", fh.name], capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 0, result.stdout + result.stderr
