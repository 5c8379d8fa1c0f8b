"""The Prometheus configuration and alert rules: promtool accepts them and every alert is unit-tested."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.metrics import exported_names
from tests.conftest import REPO_ROOT, unavailable

pytestmark = pytest.mark.unit

PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERT_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
METRIC_NAME = re.compile(r"\bdropwire_[a-z0-9_]+\b")


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    if exe is None:
        unavailable("promtool", "not on PATH (Debian package `prometheus`; .ci/run installs it)")
    assert exe is not None
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=120)


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_accepts_the_alert_rules() -> None:
    """`promtool check rules` finds the rule file valid."""
    result = promtool("check", "rules", ALERTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_prometheus_config() -> None:
    """`promtool check config` finds prometheus.yml (and the rule file it loads) valid."""
    result = promtool("check", "config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rule_unit_tests_pass() -> None:
    """`promtool test rules` passes every firing and quiet case in alerts_test.yml."""
    result = promtool("test", "rules", ALERT_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_required_alerts_exist() -> None:
    """The alert list the issues ask for: stall, heartbeat, failure ratio, queue, service down, stuck files,
    a jump in the share of pages with parse warnings (layout drift), and a service in a restart loop."""
    names = {rule["alert"] for rule in alert_rules()}
    assert names == {
        "DropwirePipelineStalled",
        "DropwireHeartbeatTooOld",
        "DropwireFailureRatioHigh",
        "DropwireQueueBackingUp",
        "DropwireServiceDown",
        "DropwireFilesStuckInProcessing",
        "DropwireParseWarningsJump",
        "DropwireServiceRestarting",
    }


def test_every_alert_has_a_firing_and_a_quiet_test_case() -> None:
    """alerts_test.yml pins each alert both ways: some case expects it, some case expects silence."""
    tests = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert firing == names
    assert quiet == names


def test_alert_expressions_name_only_declared_metrics() -> None:
    """Every dropwire_* series an alert reads is one shared/metrics.py declares."""
    known = exported_names()
    used = {name for rule in alert_rules() for name in METRIC_NAME.findall(rule["expr"])}
    assert used, "the alerts read no dropwire metric at all"
    assert used <= known, sorted(used - known)


def test_every_alert_has_severity_and_summary() -> None:
    """Each alert carries a severity label and summary/description annotations for the notification."""
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert "for" in rule, rule["alert"]


def test_prometheus_config_scrapes_the_three_services_on_their_ports() -> None:
    """The compose Prometheus scrapes ingest:9101, enrich:9102 and store:9103 and loads alerts.yml."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    scraped = {}
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            scraped[job["job_name"]] = (sd["names"], sd["port"])
    assert scraped == {"ingest": (["ingest"], 9101), "enrich": (["enrich"], 9102), "store": (["store"], 9103)}
