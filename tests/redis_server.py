"""A private ``redis-server`` for tests that must restart, crash or password-protect their broker."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from dropwire.stack import free_port, wait_until


class RedisServer:
    """A private ``redis-server`` on its own port, append-only file fsynced at every write.

    ``crash()`` SIGKILLs it (nothing flushed beyond what the AOF already holds) and ``start()`` brings
    it back on the same port and data directory, so the queues survive the restart. With ``password``
    it requires one: ``url`` is then the bare address (for services given the password apart) and
    ``authed_url`` the one to connect with.
    """

    def __init__(self, directory: Path, *, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            from tests.conftest import unavailable

            unavailable("redis-server binary", "not on PATH (needed for a Redis the test restarts)")
        self.binary = str(binary)
        self.directory = directory
        self.password = password
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        auth = f":{password}@" if password else ""
        self.authed_url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                "--daemonize", "no",
                *(("--requirepass", self.password) if self.password else ()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        client = redis.Redis.from_url(self.authed_url, socket_connect_timeout=1)
        try:
            wait_until(lambda: _pings(client), "the private redis-server to answer", timeout=20)
        finally:
            client.close()

    def crash(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.crash()
        time.sleep(0.5)  # a real outage, however short: clients see their connections drop
        self.start()
        self.restarts += 1

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its connections (the kernel still acknowledges) but never answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
