"""`make compose-test`: docker-compose.yml really started, with podman, then container-level chaos.

1. images: scripts/compose_test_images.py (cached by the hash of their inputs);
2. up: redis, postgres, prometheus -> their health checks -> migrate (must exit 0) -> ingest, enrich,
   store, console -> their health checks (each service's /readyz);
3. the seeds (../shared/seeds; required when CI=true) and generated pages into the inbox: every file
   archived once, every document and article in PostgreSQL once, `dropwire status` and `articles` inside
   a container agree, Prometheus's targets (found by DNS service discovery) all up, and its count of
   archived files equal to the files dropped;
4. chaos while more files drop: `--scale enrich=2`, `podman kill` of an enrich and of the store,
   `podman network disconnect` of the other enrich for a while; then `down` and `up` again with the
   volumes kept and a last batch: lost=0 duplicated=0 over all of it;
5. `stop`: every service ends on SIGTERM within its grace period, exit code 0;
6. `down -v` and the work folder removed, whatever happened (also on failure or Ctrl-C).

    python scripts/compose_test.py [--files 300] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import compose_test_images
from compose_test_stack import REPO, SERVICES, Stack, wait_until

from dropwire.corpus import generate
from shared.spool import inbox_name

SEEDS = REPO.parent / "shared" / "seeds"
DROPWIRE_CONTAINERS = ("ingest", "enrich", "store", "console")


@dataclass(frozen=True)
class Drop:
    name: str
    data: bytes
    articles: int


def seeds() -> list[Drop]:
    if not SEEDS.is_dir():
        if os.environ.get("CI") == "true":
            sys.exit(f"compose-test: {SEEDS} is missing, and under CI the seeds are required")
        print(f"compose-test: no seeds at {SEEDS}: dropping generated files only", flush=True)
        return []
    out = []
    for page in sorted(SEEDS.glob("*.txt")):
        gold = json.loads((SEEDS / "gold" / f"{page.stem}.json").read_text(encoding="utf-8"))
        out.append(Drop(page.name, page.read_bytes(), len(gold["articles"])))
    return out


def generated(count: int, seed: int) -> list[Drop]:
    return [Drop(f.name, f.data, f.articles) for f in generate(count, seed=seed)]


class Run:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.dropped: list[Drop] = []
        self.timings: dict[str, float] = {}
        self.faults: list[str] = []

    def say(self, line: str) -> None:
        print(f"compose-test: {line}", flush=True)

    def drop(self, drops: list[Drop], per_second: float = 0.0) -> None:
        for i, d in enumerate(drops):
            self.stack.drop(d.name, d.data)
            self.dropped.append(d)
            if per_second:
                time.sleep(1 / per_second) if i % 5 == 4 else None

    def settle(self, timeout: float = 420) -> float:
        started = time.monotonic()
        total = len(self.dropped)

        def done() -> bool:
            c = self.stack.counts()
            return c["inbox"] == 0 and c["processing"] == 0 and c["archive"] + c["failed"] >= total

        try:
            wait_until(done, f"{total} files archived", timeout, interval=2)
        except AssertionError as e:
            names = [c["Names"][0] for c in self.stack.containers()]
            raise AssertionError(f"{e}: {self.stack.counts()}\n{self.stack.describe(names)}") from None
        return time.monotonic() - started

    def check_stored(self) -> str:
        """Every file archived once, every distinct page stored once with its articles: lost=0 duplicated=0."""
        stack = self.stack
        archived = Counter(inbox_name(c) for c in stack.folder("archive"))
        failed = [c for c in stack.folder("failed") if not c.endswith(".error.json")]
        names = {d.name for d in self.dropped}
        distinct = {hashlib.sha256(d.data).hexdigest(): d for d in self.dropped}
        lost = sorted(names - set(archived))
        documents = int(stack.sql("select count(*) from documents"))
        articles = int(stack.sql("select count(*) from articles"))
        expected_articles = sum(d.articles for d in distinct.values())
        twice = int(
            stack.sql(
                "select count(*) from (select 1 from articles group by document_id, seq having count(*) > 1) d"
            )
        )
        duplicated = sum(n - 1 for n in archived.values()) + max(0, documents - len(distinct)) + twice
        stored = set(stack.sql("select sha256 from documents").split())
        line = (
            f"dropped={len(self.dropped)} archived={sum(archived.values())} failed={len(failed)} lost={len(lost)} "
            f"duplicated={duplicated} documents={documents}/{len(distinct)} articles={articles}/{expected_articles}"
        )
        assert not lost and not failed and duplicated == 0, f"{line}\nlost: {lost[:10]} failed: {failed[:10]}"
        assert stored == set(distinct), f"{line}: stored pages differ from the dropped ones"
        assert articles == expected_articles, line
        assert set(archived) == names, f"{line}: unexpected names {sorted(set(archived) - names)[:10]}"
        return line

    def check_cli(self) -> None:
        """`dropwire status` and `dropwire articles` inside the ingest container see what was stored."""
        status = json.loads(self.stack.exec("ingest", "dropwire", "status", "--json"))
        assert status["folders"]["inbox"] == 0 and status["folders"]["processing"] == 0, status["folders"]
        assert status["folders"]["archive"] == len(self.dropped), status["folders"]
        assert status["rows"]["documents"] == len({d.data for d in self.dropped}), status["rows"]
        assert status.get("database_error") is None, status
        lines = self.stack.exec("ingest", "dropwire", "articles", "--json", "-n", "5").splitlines()
        assert len(lines) == 5 and all(json.loads(line) for line in lines), lines

    def check_prometheus(self, enrich: int) -> None:
        """Every target Prometheus found by DNS is up (`enrich` replicas of enrich), and its count of
        archived files is the number of files dropped."""

        def all_up() -> bool:
            targets = self.stack.prometheus("/api/v1/targets")["activeTargets"]
            jobs = Counter(t["labels"]["job"] for t in targets if t["health"] == "up")
            return all(t["health"] == "up" for t in targets) and jobs == Counter(
                {"ingest": 1, "enrich": enrich, "store": 1, "prometheus": 1}
            )

        wait_until(all_up, f"Prometheus targets all up with {enrich} enrich", 120, interval=5)
        query = "sum(dropwire_files_archived_total)"

        def counted() -> bool:
            result = self.stack.prometheus("/api/v1/query", query=query)["result"]
            return bool(result) and int(float(result[0]["value"][1])) == len(self.dropped)

        wait_until(counted, f"{query} == {len(self.dropped)}", 90, interval=5)

    def check_containers(self) -> None:
        """The dropwire services run as the image's non-root user and get the password from a secret file."""
        for service in DROPWIRE_CONTAINERS:
            uid = self.stack.exec(service, "id", "-u").strip()
            assert uid != "0", f"{service} runs as root"
            env = self.stack.inspect(self.stack.name(service))["Config"]["Env"]
            assert not any(e.startswith("DROPWIRE_DATABASE_PASSWORD=") for e in env), service
        self.stack.exec("store", "test", "-r", "/run/secrets/postgres_password")

    def chaos(self, drops: list[Drop]) -> None:
        """More files drop while an enrich and the store are killed and the other enrich is cut off."""
        stack = self.stack
        dropper = threading.Thread(target=self.drop, args=(drops, 25.0))
        dropper.start()
        time.sleep(3)
        stack.podman("kill", stack.name("enrich", 1))
        self.faults.append("kill enrich_1")
        time.sleep(3)
        stack.podman("kill", stack.name("store"))
        self.faults.append("kill store_1")
        network = f"{stack.project}_default"
        stack.podman("network", "disconnect", network, stack.name("enrich", 2))
        self.faults.append("disconnect enrich_2 20s")
        time.sleep(20)
        stack.podman("network", "connect", "--alias", "enrich", network, stack.name("enrich", 2))
        dropper.join()
        for name in (stack.name("enrich", 1), stack.name("store")):
            if not stack.inspect(name)["State"]["Running"]:  # the restart policy did not bring it back
                stack.podman("start", name)
                self.faults.append(f"podman start {name}")
        stack.wait_healthy(("enrich", "store"))

    def stop_scaled(self) -> list[tuple[str, float, int]]:
        """`podman stop` (SIGTERM, 30 s) of the enrich containers (the `--scale` ones podman-compose
        does not see); (name, seconds, exit code) for each."""
        out = []
        for c in self.stack.containers("enrich"):
            name = c["Names"][0]
            if self.stack.inspect(name)["State"]["Running"]:
                t = time.monotonic()
                self.stack.podman("stop", "-t", "30", name)
                code = self.stack.inspect(name)["State"]["ExitCode"]
                label = f"{name.rsplit('_', 2)[-2]}_{name.rsplit('_', 1)[-1]}"
                out.append((label, time.monotonic() - t, code))
        return out

    def stop_cleanly(self) -> str:
        """Each dropwire service ends on SIGTERM, exit 0, within its grace period (30 s).

        The services first, then what they use (podman-compose 1.6 stops Redis and PostgreSQL first);
        `--scale` containers with `podman stop` (podman-compose's `stop` leaves them running)."""
        stack = self.stack
        started = time.monotonic()
        stack.compose("stop", *SERVICES)
        self.stop_scaled()
        seconds = time.monotonic() - started
        codes = {
            c["Names"][0]: stack.inspect(c["Names"][0])["State"]["ExitCode"]
            for s in SERVICES
            for c in stack.containers(s)
        }
        stack.compose("stop")
        bad = [name for name, code in codes.items() if code != 0]
        assert not bad, f"exit codes after SIGTERM: {codes}\n{stack.describe(bad, 40)}"
        assert seconds < 30, f"stopping the services took {seconds:.0f}s"
        return f"stop: {len(codes)} services ended on SIGTERM in {seconds:.0f}s, exit codes {sorted(set(codes.values()))}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=300, help="generated pages in the first batch")
    parser.add_argument("--keep", action="store_true", help="leave the stack up at the end (for a look)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("compose-test: run as root (rootful podman; the spool is given to the image's uid 10001)")
    # `kill`/CI timeouts send SIGTERM: end through the `finally` below, which takes the stack down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("compose-test: terminated"))
    begun = time.monotonic()
    summary: list[str] = []
    t = time.monotonic()
    compose_test_images.main()
    summary.append(f"images {time.monotonic() - t:.0f}s")
    workdir = Path(tempfile.mkdtemp(prefix="dropwire-compose-test-", dir="/var/tmp"))
    stack = Stack(workdir)
    run = Run(stack)
    ok = False
    try:
        stack.teardown()  # leftovers of an interrupted run
        summary.append(f"up {stack.up():.0f}s")
        run.check_containers()
        run.drop(seeds() + generated(args.files, seed=16))
        summary.append(f"{len(run.dropped)} files stored in {run.settle():.0f}s")
        summary.append(run.check_stored())
        run.check_cli()
        run.check_prometheus(enrich=1)
        run.say("first batch: " + summary[-1])

        t = time.monotonic()
        stack.compose("up", "-d", "--no-deps", "--scale", "enrich=2", "enrich")
        stack.wait_healthy(("enrich",))
        run.chaos(generated(200, seed=17))
        run.settle()
        summary.append(f"chaos ({', '.join(run.faults)}) {time.monotonic() - t:.0f}s: {run.check_stored()}")
        run.check_prometheus(enrich=2)
        run.say(summary[-1])

        t = time.monotonic()
        # enrich_2 is an "orphan" to podman-compose (not in the file's scale): its `down` would stop it
        # after Redis, with 10 s to go, so it is stopped first.
        stopped = run.stop_scaled()
        summary.append(
            "enrich stopped after the chaos: "
            + ", ".join(f"{name} {seconds:.0f}s exit {code}" for name, seconds, code in stopped)
        )
        run.say(summary[-1])
        # The enrich whose network was cut stops on SIGTERM too (it used to sit on its dead broker
        # connection until podman killed it, exit 137: fixed by the broker's socket timeouts).
        assert all(code == 0 for _, _, code in stopped), summary[-1]
        stack.compose("down", "--remove-orphans")
        assert not stack.containers(), [c["Names"][0] for c in stack.containers()]
        stack.up(scale_enrich=2)
        before = len(run.dropped)
        run.drop(generated(30, seed=18))
        run.settle()
        summary.append(
            f"down+up {time.monotonic() - t:.0f}s, volumes kept ({before} before): {run.check_stored()}"
        )
        run.check_cli()
        summary.append(run.stop_cleanly())
        ok = True
    finally:
        if args.keep and ok:
            run.say(f"stack left up (project {stack.project}); spool {stack.spool}; log {stack.log}")
        else:
            stack.teardown()
            if ok:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                run.say(f"FAILED; podman-compose log kept: {stack.log}")
        for line in summary:
            run.say(line)
    run.say(f"PASSED in {time.monotonic() - begun:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
