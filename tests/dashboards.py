"""The Grafana dashboard as data: its panels and their PromQL, with Grafana's variables filled in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
GRAFANA_DIR = REPO_ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "dropwire.json"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"


@dataclass(frozen=True)
class PanelQuery:
    panel: str
    ref: str
    expr: str
    instant: bool


def load_dashboard(path: Path = DASHBOARD) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panels(dashboard: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every panel that shows data (rows are layout, not panels), nested rows included."""
    out: list[dict[str, Any]] = []
    for panel in (dashboard or load_dashboard())["panels"]:
        if panel["type"] == "row":
            out.extend(panel.get("panels", []))
        else:
            out.append(panel)
    return out


def queries(dashboard: dict[str, Any] | None = None) -> list[PanelQuery]:
    return [
        PanelQuery(p["title"], t["refId"], t["expr"], bool(t.get("instant")))
        for p in panels(dashboard)
        for t in p.get("targets", [])
    ]


def render(expr: str, rate_interval: str = "1m", range_: str = "5m", interval: str = "15s") -> str:
    """The PromQL Grafana sends, with its built-in interval variables replaced by fixed windows."""
    return (
        expr.replace("$__rate_interval", rate_interval)
        .replace("$__range", range_)
        .replace("$__interval", interval)
    )
