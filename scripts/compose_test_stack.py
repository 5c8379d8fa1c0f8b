"""The compose stack of `make compose-test`, driven through podman-compose and podman.

A `Stack` is one compose project (docker-compose.yml plus the test override) with its own spool folder on
the host, free host ports and a name of its own; every call goes through podman-compose or podman.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OVERRIDE = REPO / "deploy" / "compose-test" / "docker-compose.test.yml"
DROPWIRE_UID = 10001
INFRA = ("redis", "postgres", "prometheus")
SERVICES = ("ingest", "enrich", "store", "console")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], what: str, timeout: float, interval: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def podman_compose() -> list[str]:
    beside = Path(sys.executable).parent / "podman-compose"
    found = str(beside) if beside.exists() else shutil.which("podman-compose")
    if not found:
        sys.exit("compose-test: podman-compose is not installed (it is in the dev extra: make install)")
    return [found]


class Stack:
    def __init__(self, workdir: Path, project: str = "dropwire-test") -> None:
        self.project = project
        self.spool = workdir / "spool"
        self.spool.mkdir(parents=True)
        for folder in ("inbox", "processing", "archive", "failed"):
            (self.spool / folder).mkdir()
        # The dropwire services run as the image's user (uid 10001): the spool is theirs.
        for path in (self.spool, *self.spool.iterdir()):
            os.chown(path, DROPWIRE_UID, DROPWIRE_UID)
        self.prometheus_port = free_port()
        self.env = {
            **os.environ,
            "DROPWIRE_VERSION": "compose-test",
            "DROPWIRE_SPOOL": str(self.spool),
            "DROPWIRE_PROMETHEUS_PORT": str(self.prometheus_port),
            "DROPWIRE_CONSOLE_PORT": str(free_port()),
            "COMPOSE_PROFILES": "",
        }
        self.log = workdir / "podman-compose.log"

    # -- podman-compose and podman ------------------------------------------------------------------
    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [
            *podman_compose(),
            "-p",
            self.project,
            "-f",
            str(REPO / "docker-compose.yml"),
            "-f",
            str(OVERRIDE),
        ]
        with self.log.open("a") as log:
            log.write(f"\n$ podman-compose {' '.join(args)}\n")
            log.flush()
            done = subprocess.run(
                [*argv, *args], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True
            )
        if check and done.returncode != 0:
            raise AssertionError(f"podman-compose {' '.join(args)} exited {done.returncode} (see {self.log})")
        return done

    @staticmethod
    def podman(*args: str, check: bool = True, timeout: float = 120) -> str:
        done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def containers(self, service: str | None = None) -> list[dict[str, Any]]:
        """The project's containers (running or not), optionally those of one service."""
        out = self.podman(
            "ps", "-a", "--format", "json", "--filter", f"label=io.podman.compose.project={self.project}"
        )
        found = json.loads(out or "[]")
        if service:
            found = [c for c in found if c["Labels"].get("com.docker.compose.service") == service]
        return sorted(found, key=lambda c: c["Names"][0])

    def name(self, service: str, index: int = 1) -> str:
        return f"{self.project}_{service}_{index}"

    def exec(self, service: str, *argv: str, timeout: float = 120) -> str:
        return self.podman("exec", self.name(service), *argv, timeout=timeout)

    def inspect(self, container: str) -> dict[str, Any]:
        data: list[dict[str, Any]] = json.loads(self.podman("inspect", container))
        return data[0]

    # -- bringing the stack up ---------------------------------------------------------------------
    def wait_healthy(self, services: tuple[str, ...], timeout: float = 240) -> None:
        """Run each container's own health check until it passes.

        podman-compose leaves `condition: service_healthy` to `podman wait --condition=healthy`, which
        podman < 4.6 lacks (and without systemd podman runs no health-check timers): so the health checks
        of docker-compose.yml are run here, the same commands, by `podman healthcheck run`.
        """
        names = [c["Names"][0] for s in services for c in self.containers(s)]
        assert names, f"no containers for {services}"
        pending = set(names)

        def check() -> bool:
            for name in sorted(pending):
                ok = (
                    subprocess.run(["podman", "healthcheck", "run", name], capture_output=True).returncode
                    == 0
                )
                if ok:
                    pending.discard(name)
            return not pending

        try:
            wait_until(check, f"health checks of {sorted(pending)}", timeout, interval=3)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.describe(sorted(pending))}") from None

    def wait_exited(self, service: str, timeout: float = 180) -> int:
        name = self.name(service)
        wait_until(lambda: not self.inspect(name)["State"]["Running"], f"{name} to finish", timeout)
        return int(self.inspect(name)["State"]["ExitCode"])

    def up(self, scale_enrich: int = 1) -> float:
        """The stack in dependency order, each step once the previous one is healthy; seconds taken."""
        started = time.monotonic()
        self.compose("up", "-d", *INFRA)
        self.wait_healthy(INFRA)
        self.compose("up", "-d", "--no-deps", "migrate")
        code = self.wait_exited("migrate")
        assert code == 0, f"migrate exited {code}\n{self.describe([self.name('migrate')])}"
        self.compose("up", "-d", "--no-deps", "--scale", f"enrich={scale_enrich}", *SERVICES)
        self.wait_healthy(SERVICES)
        return time.monotonic() - started

    def teardown(self) -> None:
        """Containers (--scale ones included: podman-compose's `down` sees them only as orphans),
        network and volumes, whatever state the stack is in."""
        self.compose("down", "-v", "--remove-orphans", check=False)
        for c in self.containers():
            self.podman("rm", "-f", "-t", "5", c["Names"][0], check=False)
        self.podman("network", "rm", "-f", f"{self.project}_default", check=False)

    def describe(self, names: list[str], lines: int = 15) -> str:
        out = []
        for name in names:
            logs = subprocess.run(
                ["podman", "logs", "--tail", str(lines), name], capture_output=True, text=True
            )
            out.append(f"--- {name}\n{logs.stdout}{logs.stderr}")
        return "\n".join(out)

    # -- the spool on the host ---------------------------------------------------------------------
    def drop(self, name: str, data: bytes) -> None:
        """Into the inbox as an operator's tool would: written under a dot name, then renamed.

        Every third file stays root's (mode 0644): a file another user dropped, which ingest adopts
        (a copy of its own) to set its lease; the others belong to the service's uid.
        """
        part = self.spool / "inbox" / f".{name}.part"
        part.write_bytes(data)
        part.chmod(0o644)
        self.dropped_count = getattr(self, "dropped_count", 0) + 1
        if self.dropped_count % 3:
            os.chown(part, DROPWIRE_UID, DROPWIRE_UID)
        part.rename(self.spool / "inbox" / name)

    def folder(self, name: str) -> list[str]:
        return [p.name for p in (self.spool / name).iterdir() if not p.name.startswith(".")]

    def counts(self) -> dict[str, int]:
        return {
            f: sum(1 for p in self.folder(f) if not p.endswith(".error.json"))
            for f in ("inbox", "processing", "archive", "failed")
        }

    # -- what the stack reports --------------------------------------------------------------------
    def prometheus(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"http://127.0.0.1:{self.prometheus_port}{path}{query}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())["data"]

    def sql(self, query: str) -> str:
        return self.exec("postgres", "psql", "-U", "dropwire", "-d", "dropwire", "-tAc", query).strip()
