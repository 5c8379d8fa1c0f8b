"""A real Prometheus for end-to-end tests: started on loopback, scraping given targets, queried over HTTP.

Usage::

    from tests.e2e.prom import Prometheus

    with Prometheus(tmp_path / "prom", {"ingest": ["127.0.0.1:9101"]}) as prom:
        prom.wait_for_targets_up()
        prom.wait_for('sum(dropwire_files_archived_total)', lambda v: v >= 3)
        prom.query("up")            # the API's result list: [{"metric": {...}, "value": [t, "1"]}, ...]

The binary is Debian's ``prometheus`` (``.ci/run`` installs it); ``find_prometheus()`` calls the
conftest ``unavailable()`` helper when it is missing: skip on a laptop, fail under CI. The generated
configuration scrapes every target every ``scrape_interval`` (short, so a test sees its events within
a second or two), loads the project's ``deploy/prometheus/alerts.yml`` (so the rules are evaluated
against live series too), and keeps its data in a temporary folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from dropwire.stack import free_port
from tests.conftest import REPO_ROOT, unavailable

ALERT_RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
# Scrape and evaluate every second: a test's events show up in Prometheus within about two seconds.
TEST_SCRAPE_INTERVAL = "1s"
# Prometheus opens its TSDB and answers /-/ready in about a second; a loaded 2-core machine is slower.
START_TIMEOUT_SECONDS = 60.0


def find_prometheus() -> str:
    """The ``prometheus`` executable, or skip/fail (per CI) when it is not installed."""
    exe = shutil.which("prometheus")
    if exe is None:
        unavailable("prometheus", "not on PATH (Debian package `prometheus`; .ci/run installs it)")
    assert exe is not None
    return exe


class PrometheusError(AssertionError):
    """Prometheus answered an API call with an error, or never became ready."""


class Prometheus:
    """One Prometheus server process with a generated configuration; a context manager."""

    def __init__(
        self,
        root: Path,
        targets: Mapping[str, Sequence[str]],
        *,
        scrape_interval: str = TEST_SCRAPE_INTERVAL,
        rule_files: Sequence[Path] = (ALERT_RULES,),
    ) -> None:
        self.root = Path(root)
        self.targets = {job: list(addresses) for job, addresses in targets.items()}
        self.scrape_interval = scrape_interval
        self.rule_files = [Path(p) for p in rule_files]
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "prometheus.log"
        self.config_path = self.root / "prometheus.yml"

    # ------------------------------------------------------------------ life cycle

    def config(self) -> dict[str, Any]:
        """The configuration written for this run: one job per service, static loopback targets."""
        return {
            "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": self.scrape_interval},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": addresses}]}
                for job, addresses in self.targets.items()
            ],
        }

    def start(self) -> None:
        exe = find_prometheus()
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False), encoding="utf-8")
        self.port = free_port()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                exe,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
                f"--web.console.templates={self.root}",
                f"--web.console.libraries={self.root}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise PrometheusError(f"prometheus not ready in {START_TIMEOUT_SECONDS:g}s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> Prometheus:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    # ------------------------------------------------------------------ the HTTP API

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, **params: str) -> Any:
        """GET ``/api/v1/<path>`` and return its ``data``; PrometheusError on an error status."""
        query = urllib.parse.urlencode(params)
        url = f"{self.url}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector (or the one-element list of a scalar)."""
        data = self.api("query", query=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, seconds: float = 300.0, step: str = "1s") -> list[dict[str, Any]]:
        """A range query over the last ``seconds``: the matrix of series and their values."""
        end = time.time()
        data = self.api("query_range", query=expr, start=f"{end - seconds:.3f}", end=f"{end:.3f}", step=step)
        result: list[dict[str, Any]] = data["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The single value of an expression that yields at most one series (None when it yields none)."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusError(f"{expr} returned {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def targets_health(self) -> dict[str, list[str]]:
        """``{job: [health of each active target]}`` as Prometheus sees them."""
        out: dict[str, list[str]] = {}
        for target in self.api("targets", state="active")["activeTargets"]:
            out.setdefault(target["labels"]["job"], []).append(target["health"])
        return out

    def wait_for_targets_up(self, timeout: float = 30.0) -> None:
        """Wait until every configured target has been scraped successfully at least once."""
        self.wait_for_condition(
            lambda: (
                self.targets_health()
                if all(h == ["up"] * len(self.targets[job]) for job, h in self.targets_health().items())
                and set(self.targets_health()) == set(self.targets)
                else None
            ),
            "every target to be up",
            timeout,
        )

    def wait_for_scrapes_after(self, moment: float, timeout: float = 30.0) -> None:
        """Wait until every target was scraped successfully after ``moment`` (Unix time).

        Once an event is over (a file filed away), values read after this are final: each service's
        counters were taken after the event, whatever the phase of its scrape within the interval.
        """
        jobs = sorted(self.targets)

        def fresh() -> bool:
            scraped = {
                r["metric"]["job"]: (float(r["value"][1]), r["metric"]["instance"])
                for r in self.query("timestamp(up == 1)")
            }
            return all(job in scraped and scraped[job][0] > moment for job in jobs)

        self.wait_for_condition(
            lambda: fresh() or None, f"a successful scrape of {jobs} after {moment}", timeout
        )

    def wait_for(self, expr: str, predicate: Callable[[float], bool], timeout: float = 30.0) -> float:
        """Wait until ``expr`` yields one value that satisfies ``predicate``; return it."""

        def check() -> float | None:
            value = self.value(expr)
            return value if value is not None and predicate(value) else None

        result: float = self.wait_for_condition(check, f"{expr} to satisfy the predicate", timeout)
        return result

    def wait_for_condition(self, condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = condition()
            if last is not None and last is not False:
                return last
            time.sleep(0.25)
        raise PrometheusError(
            f"timed out after {timeout:g}s waiting for {what} (last: {last!r}); targets: {self.target_errors()}"
        )

    def target_errors(self) -> list[tuple[str, str, str]]:
        """(job, health, last scrape error) of every active target: the first thing to read on a failure."""
        try:
            active = self.api("targets", state="active")["activeTargets"]
        except (PrometheusError, OSError) as exc:
            return [("?", "?", str(exc))]
        return [(t["labels"]["job"], t["health"], t["lastError"]) for t in active]
