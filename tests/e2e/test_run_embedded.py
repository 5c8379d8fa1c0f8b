"""``dropwire run``: the same end-to-end flow in one process, with SQLite and the in-process queue."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dropwire.stack import PASSED_THROUGH, TEST_SETTLE_SECONDS, dropwire_command, free_port, wait_until
from tests.e2e.scenario import exercise

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FOLDERS = ("inbox", "processing", "archive", "failed")


class RunProcess:
    """``dropwire run`` as a subprocess in a fresh working folder, nothing but defaults and a port."""

    def __init__(self, workdir: Path, broker_url: str | None = None, database_url: str | None = None) -> None:
        self.workdir = workdir
        self.spool = workdir / "spool"  # the default ./spool, created by the command itself
        # The default database is ./var/dropwire.db; the URLs, when given, are passed as settings.
        self.database_url = database_url or f"sqlite:///{workdir / 'var' / 'dropwire.db'}"
        self.settings = {"DROPWIRE_BROKER_URL": broker_url} if broker_url else {}
        if database_url:
            self.settings["DROPWIRE_DATABASE_URL"] = database_url
        self.port = free_port()
        self.log = workdir / "run.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_") or k in PASSED_THROUGH}
        env.update(
            {
                "DROPWIRE_METRICS_PORT": str(self.port),
                "DROPWIRE_SETTLE_SECONDS": TEST_SETTLE_SECONDS,
                "DROPWIRE_LOG_FORMAT": "json",
                "PYTHONUNBUFFERED": "1",
                **self.settings,
            }
        )
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*dropwire_command(), "run"], cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(self.ready, "dropwire run to answer /readyz", timeout=60)

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"dropwire run exited early:\n{self.log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def counts(self) -> dict[str, int]:
        return {
            f: sum(
                1
                for p in (self.spool / f).iterdir()
                if not p.name.startswith(".") and not p.name.endswith(".error.json")
            )
            for f in FOLDERS
        }

    def describe(self, lines: int = 30) -> str:
        tail = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        return "--- dropwire run\n" + "\n".join(line[:500] for line in tail)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


def test_dropwire_run_processes_the_same_flow_with_sqlite(tmp_path: Path, seeds_dir: Path) -> None:
    """With no servers and no settings but a port, `dropwire run` stores every good file in SQLite
    and fails every broken one, exactly as the three services do."""
    run = RunProcess(tmp_path)
    # The scenario puts a file in the inbox before start-up: the folder must exist for that.
    (run.spool / "inbox").mkdir(parents=True)
    try:
        exercise(run, seeds_dir)
        assert "Drop files into" in run.log.read_text(encoding="utf-8", errors="replace")
    finally:
        code = run.stop()
    assert code == 0
    assert (tmp_path / "var" / "dropwire.db").exists()


def test_dropwire_run_uses_redis_and_postgresql_when_their_urls_are_set(
    tmp_path: Path, redis_url: str, pg_url: str, seeds_dir: Path
) -> None:
    """With DROPWIRE_BROKER_URL and DROPWIRE_DATABASE_URL set, the same command runs the same flow over
    Redis into PostgreSQL, and leaves no SQLite file behind."""
    run = RunProcess(tmp_path, broker_url=redis_url, database_url=pg_url)
    (run.spool / "inbox").mkdir(parents=True)
    try:
        exercise(run, seeds_dir)
    finally:
        code = run.stop()
    assert code == 0
    assert not (tmp_path / "var" / "dropwire.db").exists()
