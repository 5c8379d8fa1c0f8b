"""The Prometheus harness itself, against a tiny process serving shared.observability's endpoint."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dropwire.stack import free_port
from tests.conftest import REPO_ROOT
from tests.e2e.prom import Prometheus

pytestmark = [pytest.mark.e2e]

_TINY_SERVICE = textwrap.dedent(
    """
    import sys
    from shared.metrics import create_metrics
    from shared.observability import serve
    metrics = create_metrics()
    server = serve(metrics, port=int(sys.argv[1]))
    metrics.files_detected.inc(5)
    metrics.entities.labels(label="PER").inc(2)
    for seconds in (0.2, 0.7, 3.0):
        metrics.end_to_end_latency.observe(seconds)
    print("ready", flush=True)
    sys.stdin.read()   # serve until the test closes our stdin
    server.close()
    """
)


@pytest.fixture
def tiny_service() -> Iterator[str]:
    """A process serving dropwire metrics with a few known values; yields its host:port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", _TINY_SERVICE, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # log lines first (structlog's default goes to stdout), then "ready"
            if line.strip() == b"ready":
                break
        else:
            raise AssertionError("the tiny service exited before it was ready")
        yield f"127.0.0.1:{port}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_prometheus_scrapes_the_observability_endpoint(tmp_path: Path, tiny_service: str) -> None:
    """A real Prometheus scrapes /metrics and its API returns the counters and histogram as served."""
    with Prometheus(tmp_path / "prom", {"ingest": [tiny_service]}) as prom:
        prom.wait_for_targets_up()
        assert prom.wait_for('dropwire_files_detected_total{job="ingest"}', lambda v: v == 5) == 5
        assert prom.value('dropwire_entity_mentions_total{label="PER"}') == 2
        assert prom.value('dropwire_entity_mentions_total{label="ORG"}') == 0
        assert prom.value("dropwire_end_to_end_latency_seconds_count") == 3
        assert prom.value('dropwire_end_to_end_latency_seconds_bucket{le="1.0"}') == 2
        assert prom.value('up{job="ingest"}') == 1


def test_prometheus_reports_a_dead_target_down(tmp_path: Path) -> None:
    """A target nobody listens on shows as down, so up==0 (the ServiceDown alert's input) is real."""
    with Prometheus(tmp_path / "prom", {"store": [f"127.0.0.1:{free_port()}"]}) as prom:
        health = prom.wait_for_condition(
            lambda: prom.targets_health().get("store") == ["down"] or None, "the target to be down"
        )
        assert health is True
        assert prom.value('up{job="store"}') == 0


def test_generated_config_loads_the_project_alert_rules(tmp_path: Path, tiny_service: str) -> None:
    """The harness's Prometheus loads deploy/prometheus/alerts.yml, so the rules run on live series."""
    with Prometheus(tmp_path / "prom", {"ingest": [tiny_service]}) as prom:
        groups = prom.api("rules")["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert "DropwirePipelineStalled" in names
    assert "DropwireServiceDown" in names
