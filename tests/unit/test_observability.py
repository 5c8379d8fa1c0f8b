"""The metrics/health endpoint of one service process: /metrics, /healthz, /readyz, multiprocess mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.metrics import Metrics, create_metrics
from shared.observability import Server, run_checks, serve

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]


def get(url: str, timeout: float = 10) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture
def metrics() -> Metrics:
    return create_metrics()


@pytest.fixture
def server(metrics: Metrics) -> Iterator[Server]:
    srv = serve(metrics, port=0, host="127.0.0.1")
    yield srv
    srv.close()


def test_metrics_endpoint_serves_preinitialised_counters_at_zero(server: Server) -> None:
    """Before any event, /metrics already lists the counters' series at 0 in Prometheus text format."""
    status, body, content_type = get(f"{server.url}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    values = samples(body.decode())
    assert values[("dropwire_files_detected_total", ())] == 0
    assert values[("dropwire_files_failed_total", (("reason", "empty"), ("stage", "ingest")))] == 0
    assert values[("dropwire_entity_mentions_total", (("label", "PER"),))] == 0


def test_metrics_endpoint_reflects_updates(metrics: Metrics, server: Server) -> None:
    """A counter incremented in the process shows on the next scrape."""
    metrics.files_detected.inc(3)
    metrics.end_to_end_latency.observe(0.3)
    values = samples(get(f"{server.url}/metrics")[1].decode())
    assert values[("dropwire_files_detected_total", ())] == 3
    assert values[("dropwire_end_to_end_latency_seconds_count", ())] == 1
    assert values[("dropwire_end_to_end_latency_seconds_bucket", (("le", "0.5"),))] == 1


def test_metrics_endpoint_speaks_openmetrics_when_asked(server: Server) -> None:
    """A scraper that accepts OpenMetrics gets it (Prometheus asks for it first)."""
    req = urllib.request.Request(f"{server.url}/metrics", headers={"Accept": "application/openmetrics-text"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
        assert resp.read().rstrip().endswith(b"# EOF")


def test_healthz_is_200_while_alive(server: Server) -> None:
    """/healthz answers 200 with the process id, whatever the dependencies."""
    status, body, _ = get(f"{server.url}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "alive", "pid": os.getpid()}


def test_unknown_path_is_404(server: Server) -> None:
    """Any other path is a 404 that lists the served paths."""
    status, body, _ = get(f"{server.url}/nope")
    assert status == 404
    assert json.loads(body)["paths"] == ["/metrics", "/healthz", "/readyz"]


def test_readyz_is_200_when_every_check_passes(metrics: Metrics) -> None:
    """/readyz is 200 and names each check when all of them pass."""
    with serve(metrics, port=0, checks={"broker": lambda: None, "database": lambda: None}) as srv:
        status, body, content_type = get(f"{srv.url}/readyz")
    assert status == 200
    assert content_type == "application/json"
    payload = json.loads(body)
    assert payload["status"] == "ready"
    assert {name: c["ok"] for name, c in payload["checks"].items()} == {"broker": True, "database": True}


def test_readyz_is_503_naming_the_failed_check(metrics: Metrics) -> None:
    """One failing check makes /readyz 503, and the body says which check failed and why."""

    def broken() -> None:
        raise ConnectionError("connection refused")

    with serve(metrics, port=0, checks={"broker": lambda: None, "database": broken}) as srv:
        status, body, _ = get(f"{srv.url}/readyz")
    assert status == 503
    payload = json.loads(body)
    assert payload["status"] == "not ready"
    assert payload["checks"]["broker"]["ok"] is True
    assert payload["checks"]["database"]["ok"] is False
    assert "connection refused" in payload["checks"]["database"]["detail"]


def test_readyz_time_boxes_a_hung_check(metrics: Metrics) -> None:
    """A check that hangs fails as a timeout after check_timeout instead of hanging the endpoint."""
    release = threading.Event()
    checks = {"database": lambda: None, "broker": lambda: release.wait(30) and None}
    with serve(metrics, port=0, checks=checks, check_timeout=0.3) as srv:
        started = time.monotonic()
        status, body, _ = get(f"{srv.url}/readyz")
        elapsed = time.monotonic() - started
    release.set()
    assert status == 503
    assert elapsed < 5
    payload = json.loads(body)
    assert payload["checks"]["broker"]["detail"].startswith("timeout")
    assert payload["checks"]["database"]["ok"] is True


def test_run_checks_runs_checks_in_parallel() -> None:
    """Two slow checks take the time of one, not of both: the time box holds for the whole probe."""
    gate = threading.Barrier(2, timeout=5)

    def meet() -> None:
        gate.wait()  # returns only once the other check is running too

    results = run_checks({"a": meet, "b": meet}, 5)
    assert [(r.name, r.ok) for r in results] == [("a", True), ("b", True)]


def test_on_scrape_hooks_run_before_render_and_failures_do_not_break_the_scrape(metrics: Metrics) -> None:
    """Scrape-time hooks refresh sampled gauges; a hook that raises leaves the scrape answering 200."""

    def set_depth() -> None:
        metrics.queue_depth.labels(queue="enrich").set(7)

    def broken() -> None:
        raise RuntimeError("redis down")

    with serve(metrics, port=0, on_scrape=[broken, set_depth]) as srv:
        status, body, _ = get(f"{srv.url}/metrics")
    assert status == 200
    assert samples(body.decode())[("dropwire_queue_depth", (("queue", "enrich"),))] == 7


def test_close_releases_the_port(metrics: Metrics) -> None:
    """After close() the port can be bound again by a new server."""
    srv = serve(metrics, port=0)
    port = srv.port
    srv.close()
    srv.close()
    again = serve(metrics, port=port)
    try:
        assert get(f"{again.url}/healthz")[0] == 200
    finally:
        again.close()


_MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys, urllib.request
    from pathlib import Path
    import prometheus_client  # imported first on purpose: the import-order trap must not bite
    from shared.observability import prepare_multiprocess_dir, serve, mark_process_dead
    folder = prepare_multiprocess_dir(sys.argv[1])
    from shared.metrics import create_metrics
    metrics = create_metrics()
    metrics.files_detected.inc()          # the parent counts one
    children, done = [], []
    for n in (1, 2, 3):
        r, w = os.pipe()
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            signal.alarm(30)              # never outlive a test that went wrong
            metrics.files_detected.inc(10 * n)
            metrics.tasks_in_progress.labels(stage="enrich").inc()
            metrics.task_duration.labels(stage="enrich").observe(0.02)
            os.write(ready_w, b"x")
            os.read(r, 1)                 # stay alive, mid-task, until the parent says so
            os._exit(0)
        os.read(ready_r, 1)
        children.append((pid, w))
    srv = serve(metrics, port=0)
    scrape = lambda: urllib.request.urlopen(srv.url + "/metrics").read().decode()
    alive = scrape()
    (killed, _), rest = children[2], children[:2]
    os.kill(killed, signal.SIGKILL)       # no shutdown hook runs for this one
    os.waitpid(killed, 0)
    after_kill = scrape()
    for pid, w in rest:
        os.write(w, b"x")
        os.waitpid(pid, 0)
        mark_process_dead(pid)            # what Celery's worker_process_shutdown hook does
    after = scrape()
    srv.close()
    print(json.dumps({"pid": os.getpid(), "alive": alive, "after_kill": after_kill, "after": after,
                      "files": sorted(p.name for p in folder.iterdir())}))
    """
)


def run_multiprocess_script(folder: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", _MULTIPROCESS_SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_multiprocess_mode_sums_counters_across_forked_processes(tmp_path: Path) -> None:
    """Counters incremented in forked children and the parent add up on the one parent endpoint."""
    result = run_multiprocess_script(tmp_path / "prom")
    values = samples(result["alive"])
    assert values[("dropwire_files_detected_total", ())] == 1 + 10 + 20 + 30
    assert values[("dropwire_task_duration_seconds_count", (("stage", "enrich"),))] == 3
    assert values[("dropwire_tasks_in_progress", (("stage", "enrich"),))] == 3
    # pre-initialised series exist at 0 in multiprocess mode too
    assert values[("dropwire_duplicates_total", ())] == 0


def test_a_killed_child_is_reaped_at_the_next_scrape(tmp_path: Path) -> None:
    """A child killed with SIGKILL (no shutdown hook) leaves the in-progress sum; its counts stay."""
    result = run_multiprocess_script(tmp_path / "prom")
    values = samples(result["after_kill"])
    assert values[("dropwire_tasks_in_progress", (("stage", "enrich"),))] == 2
    assert values[("dropwire_files_detected_total", ())] == 61


def test_mark_process_dead_drops_live_gauges_but_keeps_counters(tmp_path: Path) -> None:
    """Children that exit through the shutdown hook leave nothing in progress; their counted work stays."""
    result = run_multiprocess_script(tmp_path / "prom")
    after = samples(result["after"])
    assert after.get(("dropwire_tasks_in_progress", (("stage", "enrich"),)), 0) == 0
    assert after[("dropwire_files_detected_total", ())] == 61
    assert after[("dropwire_task_duration_seconds_count", (("stage", "enrich"),))] == 3
    live = [name for name in result["files"] if name.startswith("gauge_live")]
    assert live and all(name.endswith(f"_{result['pid']}.db") for name in live)  # the parent's own only


def test_prepare_multiprocess_dir_wipes_a_previous_run(tmp_path: Path) -> None:
    """Files left by a previous run are removed at start, so old counts are never summed in."""
    folder = tmp_path / "prom"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"stale")
    (folder / "leftover").mkdir()
    result = run_multiprocess_script(folder)
    assert "counter_999999.db" not in result["files"]
    assert "leftover" not in result["files"]
    assert samples(result["alive"])[("dropwire_files_detected_total", ())] == 61


_FORK_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from shared.metrics import create_metrics
    from shared.observability import serve
    server = serve(create_metrics(), port=0)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if server._httpd.socket.fileno() == -1 else 3)
    _, status = os.waitpid(pid, 0)
    ok_in_parent = server._httpd.socket.fileno() != -1
    server.close()
    print(os.waitstatus_to_exitcode(status), ok_in_parent)
    """
)


def test_forked_children_do_not_keep_the_listening_socket() -> None:
    """A prefork child closes its inherited copy of the metrics socket; the parent keeps serving."""
    proc = subprocess.run(
        [sys.executable, "-c", _FORK_SCRIPT], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["0", "True"]
