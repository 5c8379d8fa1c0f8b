"""Backpressure, the heartbeat, a Redis restart and credentials, on one pipeline of processes.

The broker is a private ``redis-server`` on a free port with a password (``requirepass``), started and
restarted by this module; the services get that password only through ``DROPWIRE_BROKER_PASSWORD_FILE``
and the database password through its URL and ``DROPWIRE_DATABASE_PASSWORD_FILE``. The tests run in
file order on the shared pipeline: ingest alone first (backpressure), then all three services.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import sqlalchemy as sa

from dropwire.stack import Stack, dropwire_command, fresh_postgres, wait_until
from tests.integration.badinput import samples, unique_page, value
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BROKER_SECRET = "broker-s3cret-5e1f"
DATABASE_SECRET = "db-s3cret-77ab"
# Ingest stops claiming above this many waiting enrich messages (small, so a handful of files shows it).
QUEUE_CAP = 3
HEARTBEAT_SECONDS = 1
# A heartbeat crosses three services in well under a second; a few intervals of slack on a busy machine.
FRESH_AGE_SECONDS = 5.0
FLOW_DEADLINE_SECONDS = 45.0


@dataclass
class Rig:
    stack: Stack
    broker: RedisServer
    client: redis.Redis
    env: dict[str, str]

    def metric(self, service: str, name: str, **labels: str) -> float:
        return value(samples(self.stack.scrape(service)), name, **labels)

    def ensure_running(self) -> None:
        missing = [s for s in ("ingest", "enrich", "store") if s not in self.stack.procs]
        if missing:
            self.stack.start(missing)


@pytest.fixture(scope="module")
def rig(pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("stalls")
    broker = RedisServer(root, password=BROKER_SECRET)
    broker.start()
    secrets = root / "secrets"
    secrets.mkdir()
    (secrets / "broker").write_text(BROKER_SECRET + "\n")
    (secrets / "database").write_text(DATABASE_SECRET + "\n")
    try:
        with fresh_postgres(pg_admin) as database_url:
            # PostgreSQL here trusts local connections: the password is carried (and must stay hidden),
            # not checked. Redis does check its password.
            url = sa.engine.make_url(database_url).set(password=DATABASE_SECRET).render_as_string(False)
            env = {
                "DROPWIRE_BROKER_PASSWORD_FILE": str(secrets / "broker"),
                "DROPWIRE_DATABASE_PASSWORD_FILE": str(secrets / "database"),
                "DROPWIRE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
                "DROPWIRE_MAX_QUEUE_DEPTH": str(QUEUE_CAP),
                # heartbeat lines are DEBUG (an idle hour is not 800 info lines); these tests read them
                "DROPWIRE_LOG_LEVEL": "DEBUG",
            }
            stack = Stack(root, redis_url=broker.url, database_url=url, env=env, services=("ingest",))
            client = redis.Redis.from_url(broker.authed_url)
            try:
                stack.start()
                yield Rig(stack, broker, client, env)
            finally:
                stack.stop()
                client.close()
    finally:
        broker.stop()


def test_ingest_pauses_at_the_queue_cap_shows_it_and_resumes_when_enrich_drains(rig: Rig) -> None:
    """With no enrich running, ingest queues QUEUE_CAP files and leaves the rest in the inbox: the paused
    gauge reads 1, files_waiting{inbox} and `dropwire status` show them; once enrich and store start and
    drain the queue, claiming resumes and every file is archived."""
    stack = rig.stack
    names = [f"wacht-{i}.txt" for i in range(QUEUE_CAP + 5)]
    for name in names:
        stack.drop(name, unique_page(name))
    wait_until(lambda: rig.client.llen("enrich") >= QUEUE_CAP, "the enrich queue at its cap")
    wait_until(lambda: rig.metric("ingest", "dropwire_ingest_paused") == 1, "the paused gauge")
    # Paused, nothing more is claimed (heartbeats may still join the queue: they measure the pipeline).
    waiting = len(stack.folder("inbox"))
    assert waiting >= len(names) - QUEUE_CAP
    wait_until(
        lambda: rig.metric("ingest", "dropwire_files_waiting", folder="inbox") == waiting,
        "files_waiting{inbox}",
        10,
    )
    assert len(stack.folder("inbox")) == waiting
    status = subprocess.run(
        [*dropwire_command(), "status", "--json"],
        env=stack.env("ingest")
        | {"DROPWIRE_STATUS_SERVICES": f"ingest=http://127.0.0.1:{stack.ports['ingest']}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    report = json.loads(status.stdout)
    # Only ingest runs: the database is not migrated until the store starts, and status says so.
    assert set(report["down"]) <= {"database"}, report["down"]
    assert status.returncode == (1 if report["down"] else 0), status.stderr
    assert report["folders"]["inbox"] == waiting
    assert report["queues"]["enrich"] >= QUEUE_CAP
    assert report["ingest_paused"] is True

    stack.start(["enrich", "store"])
    wait_until(
        lambda: len(stack.folder("archive")) == len(names), "every file archived", FLOW_DEADLINE_SECONDS
    )
    wait_until(lambda: rig.metric("ingest", "dropwire_ingest_paused") == 0, "the paused gauge back to 0")
    wait_until(
        lambda: rig.metric("ingest", "dropwire_files_waiting", folder="inbox") == 0, "an empty inbox", 10
    )


def test_the_heartbeat_goes_round_and_its_age_stays_small(rig: Rig) -> None:
    """Heartbeats every second come back to ingest; ingest's and the store's heartbeat age stay a few
    seconds; they are recorded in `heartbeats`, never as documents, and no file is moved for them."""
    rig.ensure_running()
    stack = rig.stack
    returned = lambda: [e for e in stack.events("ingest") if e.get("event") == "heartbeat.returned"]  # noqa: E731
    seen = len(returned())
    wait_until(lambda: len(returned()) >= seen + 3, "three heartbeats back at ingest", FLOW_DEADLINE_SECONDS)
    assert all(e["round_trip_seconds"] < FRESH_AGE_SECONDS for e in returned()[seen:])
    for service in ("ingest", "store"):
        age = rig.metric(service, "dropwire_heartbeat_age_seconds")
        assert 0 <= age < FRESH_AGE_SECONDS, (service, age)
    engine = sa.create_engine(stack.database_url)
    with engine.connect() as conn:
        beats = conn.execute(sa.text("select stage from heartbeats")).all()
        news = conn.execute(
            sa.text("select count(*) from documents where name like 'dropwire-heartbeat%'")
        ).scalar()
    engine.dispose()
    assert beats == [("store",)]
    assert news == 0
    assert not any("heartbeat" in n for n in stack.folder("archive") + stack.folder("failed"))


def test_the_task_counters_reconcile_over_documents_only(rig: Rig) -> None:
    """With a heartbeat every second going through enrich and store, each stage's task counters count
    the dropped files alone: started = completed (ok + failed + retry) + in progress = the files that
    reached it, while dropwire_heartbeats_total counts the heartbeats apart."""
    rig.ensure_running()
    stack = rig.stack
    for i in range(3):
        stack.drop(f"telling-{i}.txt", unique_page(f"telling-{i}"))
    wait_until(lambda: not stack.folder("inbox") and not stack.folder("processing"), "all filed", 45)
    files = len(stack.folder("archive")) + len(stack.folder("failed"))  # no file fails at ingest here

    def counters(stage: str) -> dict[str, float]:
        scraped = samples(stack.scrape(stage))
        out = {
            outcome: value(scraped, "dropwire_tasks_completed_total", stage=stage, outcome=outcome)
            for outcome in ("ok", "failed", "retry")
        }
        out["started"] = value(scraped, "dropwire_tasks_started_total", stage=stage)
        out["in_progress"] = value(scraped, "dropwire_tasks_in_progress", stage=stage)
        out["heartbeats"] = value(scraped, "dropwire_heartbeats_total", stage=stage, outcome="ok")
        return out

    for stage in ("enrich", "store"):
        before = counters(stage)["heartbeats"]
        # A few more heartbeats through the stage: they must not move its document counters.
        wait_until(lambda s=stage, b=before: counters(s)["heartbeats"] >= b + 3, f"heartbeats at {stage}")
        c = counters(stage)
        assert c["started"] == c["ok"] + c["failed"] + c["retry"] + c["in_progress"], (stage, c)
        assert c["started"] == files, (stage, c, files)


def test_every_consumer_consumes_again_after_a_redis_restart(rig: Rig) -> None:
    """Redis restarted under the running services: files dropped afterwards are archived (the enrich
    worker, the store consumer and ingest's done consumer all consume again) and heartbeats resume."""
    rig.ensure_running()
    stack = rig.stack
    rig.broker.stop()
    rig.broker.start()
    names = [f"na-herstart-{i}.txt" for i in range(5)]
    for name in names:
        stack.drop(name, unique_page(name))
    wait_until(
        lambda: all(any(c.endswith("__" + n) for c in stack.folder("archive")) for n in names),
        "the files dropped after the restart archived",
        FLOW_DEADLINE_SECONDS,
    )
    wait_until(
        lambda: rig.metric("ingest", "dropwire_heartbeat_age_seconds") < FRESH_AGE_SECONDS,
        "a fresh heartbeat after the restart",
        FLOW_DEADLINE_SECONDS,
    )


def test_no_service_logs_a_password_and_dropwire_config_masks_them(rig: Rig) -> None:
    """The broker and database passwords (from URL and *_FILE) appear in no service's log, and
    `dropwire config` shows both settings with the passwords masked."""
    stack = rig.stack
    for service in ("ingest", "enrich", "store"):
        text = stack.log(service)
        assert text, service
        assert BROKER_SECRET not in text and DATABASE_SECRET not in text, service
    shown = subprocess.run(
        [*dropwire_command(), "config"],
        env=stack.env("ingest"),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    config = json.loads(shown.stdout)
    assert BROKER_SECRET not in shown.stdout and DATABASE_SECRET not in shown.stdout
    assert config["broker"]["broker_password"] == "**********"
    assert config["database"]["database_password"] == "**********"
    assert "***" in config["database"]["database_url"]


def test_the_heartbeat_age_grows_while_the_pipeline_is_stopped(rig: Rig) -> None:
    """With enrich stopped, heartbeats pile up unanswered: ingest's heartbeat age grows past several
    intervals instead of reading a reassuring 0."""
    rig.ensure_running()
    wait_until(
        lambda: rig.metric("ingest", "dropwire_heartbeat_age_seconds") < FRESH_AGE_SECONDS,
        "a fresh heartbeat",
    )
    rig.stack.stop(["enrich"])
    first = wait_until(
        lambda: (a := rig.metric("ingest", "dropwire_heartbeat_age_seconds")) > 2 * HEARTBEAT_SECONDS and a,
        "the age to pass two intervals",
    )
    wait_until(
        lambda: rig.metric("ingest", "dropwire_heartbeat_age_seconds") > first + 2 * HEARTBEAT_SECONDS,
        "the age to keep growing",
    )
