"""The console's browser tests' parts: ``dropwire console`` as a subprocess and a headless Debian chromium.

Playwright drives the chromium of the Debian package (``/usr/bin/chromium``, installed by ``.ci/run``):
no browser is ever downloaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dropwire.stack import PASSED_THROUGH, dropwire_command, free_port, wait_until
from tests.conftest import unavailable

CHROMIUM = Path(os.environ.get("DROPWIRE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium under Playwright; skipped off CI when either is missing, failed under CI."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable("Playwright for Python", str(exc))
    if not CHROMIUM.exists():
        unavailable("Debian's chromium", f"{CHROMIUM} does not exist (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class ConsoleProcess:
    """``dropwire console`` on a free port, over a spool folder and a database."""

    def __init__(self, workdir: Path, spool: Path, database_url: str, **settings: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"console-{self.port}.log"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_") or k in PASSED_THROUGH
        }
        self.env.update(
            {
                "DROPWIRE_SPOOL_DIR": str(spool),
                "DROPWIRE_DATABASE_URL": database_url,
                # Not Redis: the console shows queue depths as unknown instead of reading a shared Redis.
                "DROPWIRE_BROKER_URL": "memory://",
                "DROPWIRE_CONSOLE_PORT": str(self.port),
                "DROPWIRE_LOG_FORMAT": "json",
                "PYTHONUNBUFFERED": "1",
                **settings,
            }
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> ConsoleProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*dropwire_command(), "console"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            wait_until(self.healthy, "dropwire console to answer /healthz", timeout=30)
        return self

    def healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"dropwire console exited early:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def get_json(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)
