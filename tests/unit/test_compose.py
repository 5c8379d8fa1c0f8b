"""docker-compose.yml and the Dockerfile: valid Compose, real commands, the deployment rules held."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy.engine import make_url
from typer.main import get_command

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

COMPOSE = REPO_ROOT / "docker-compose.yml"
SCHEMA = REPO_ROOT / "deploy" / "schema" / "compose-spec.json"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
DROPWIRE_SERVICES = ("migrate", "ingest", "enrich", "store", "console")
# ${VAR}, ${VAR:-default}, ${VAR-default} (Compose interpolation; defaults stand in for an empty environment)
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation over a parsed file, as `docker compose config` does it."""
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda m: env.get(m["name"]) or (m["default"] or ""), value)
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    return value


def raw_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as Compose sees it with no variables set (every default in force)."""
    resolved: dict[str, Any] = interpolate(raw_compose(), {})
    return resolved


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def errors(validator: jsonschema.Draft7Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification(
    validator: jsonschema.Draft7Validator, compose: dict[str, Any]
) -> None:
    """docker-compose.yml validates against the Compose spec's JSON schema, as written and interpolated."""
    assert errors(validator, raw_compose()) == []
    assert errors(validator, compose) == []


def test_the_schema_rejects_a_broken_compose_file(validator: jsonschema.Draft7Validator) -> None:
    """The vendored schema does reject mistakes (so the validation above can fail)."""
    broken = raw_compose()
    broken["services"]["redis"]["ports"] = 6379
    broken["services"]["store"]["restart_policy"] = "always"
    assert len(errors(validator, broken)) >= 2


def test_the_stack_has_every_service(compose: dict[str, Any]) -> None:
    """redis, postgres, migrate, ingest, enrich, store, console, prometheus and grafana make up the stack."""
    assert set(compose["services"]) == {
        "redis",
        "postgres",
        "migrate",
        "ingest",
        "enrich",
        "store",
        "console",
        "prometheus",
        "grafana",
    }


def is_group(command: Any) -> bool:
    # typer vendors its own click: recognise a group by its behaviour, not by a click class
    return hasattr(command, "list_commands")


def resolve_command(argv: list[str]) -> tuple[Any, list[str], list[str]]:
    """Walk ``argv`` down the dropwire CLI's groups to the command it runs, and the args left for it."""
    from dropwire.cli import app

    command: Any = get_command(app)
    path: list[str] = []
    args = list(argv)
    while is_group(command) and args and not args[0].startswith("-"):
        name = args.pop(0)
        with command.make_context("dropwire", [], resilient_parsing=True) as ctx:
            sub = command.get_command(ctx, name)
        assert sub is not None, f"`dropwire {' '.join([*path, name])}` is not a command"
        command, path = sub, [*path, name]
    return command, path, args


@pytest.mark.parametrize("service", DROPWIRE_SERVICES)
def test_service_command_is_a_real_dropwire_command(compose: dict[str, Any], service: str) -> None:
    """Each dropwire service's command is a dropwire CLI command, and its options parse."""
    argv = compose["services"][service]["command"]
    command, path, args = resolve_command(argv)
    assert path, f"{service}: {argv} names no subcommand"
    assert not is_group(command), f"{service}: `dropwire {' '.join(path)}` needs a subcommand"
    with command.make_context(" ".join(["dropwire", *path]), list(args)) as ctx:
        assert ctx.command is command


def test_command_check_rejects_unknown_commands_and_options() -> None:
    """The command check can fail: an unknown subcommand or an unknown option is caught."""
    with pytest.raises(AssertionError):
        resolve_command(["db", "no-such-subcommand"])
    command, path, args = resolve_command(["enrich", "--no-such-option"])
    assert path == ["enrich"]
    with pytest.raises(Exception, match="no-such-option"):
        command.make_context("dropwire enrich", args)


def test_dropwire_services_share_one_image_and_its_entrypoint(compose: dict[str, Any]) -> None:
    """All four dropwire services run the one image built from the Dockerfile, whose entrypoint is dropwire."""
    images = {compose["services"][s]["image"] for s in DROPWIRE_SERVICES}
    assert images == {"dropwire:local"}
    for service in DROPWIRE_SERVICES:
        assert compose["services"][service]["build"]["dockerfile"] == "Dockerfile"
        assert "entrypoint" not in compose["services"][service]


def test_redis_keeps_queued_messages(compose: dict[str, Any]) -> None:
    """Redis runs with AOF on, noeviction, a data volume and a healthcheck."""
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert "redis-cli" in redis["healthcheck"]["test"]


def test_postgres_has_a_volume_a_healthcheck_and_a_secret_password(compose: dict[str, Any]) -> None:
    """PostgreSQL keeps its data in a named volume, reports health, and reads its password from a secret."""
    pg = compose["services"]["postgres"]
    assert any(v.split(":")[0] in compose["volumes"] for v in pg["volumes"])
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert pg["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "POSTGRES_PASSWORD" not in pg["environment"]


def test_migrate_runs_once_before_the_services(compose: dict[str, Any]) -> None:
    """migrate is a one-shot after PostgreSQL is healthy; the services start only once it succeeded."""
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("ingest", "enrich", "store"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name


def test_ingest_bind_mounts_the_spool_and_polls_by_default(compose: dict[str, Any]) -> None:
    """The inbox is a bind mount of a host folder, watched by polling unless told otherwise."""
    ingest = compose["services"]["ingest"]
    (mount,) = ingest["volumes"]
    assert mount["type"] == "bind"
    assert mount["target"] == ingest["environment"]["DROPWIRE_SPOOL_DIR"]
    assert ingest["environment"]["DROPWIRE_WATCH_MODE"] == "poll"
    raw = raw_compose()["services"]["ingest"]["environment"]["DROPWIRE_WATCH_MODE"]
    assert interpolate(raw, {"DROPWIRE_WATCH_MODE": "events"}) == "events"


def test_enrich_replicas_and_concurrency_are_configurable() -> None:
    """DROPWIRE_ENRICH_REPLICAS and DROPWIRE_ENRICH_CONCURRENCY scale the enrich workers."""
    env = {"DROPWIRE_ENRICH_REPLICAS": "4", "DROPWIRE_ENRICH_CONCURRENCY": "3"}
    enrich = interpolate(raw_compose(), env)["services"]["enrich"]
    assert enrich["deploy"]["replicas"] == "4"
    assert enrich["command"] == ["enrich", "--concurrency", "3"]
    assert "ports" not in enrich, "a published port would stop a second replica from starting"


def test_metrics_ports_match_prometheus_and_bind_all_interfaces(compose: dict[str, Any]) -> None:
    """Each service listens for scrapes on 0.0.0.0 at the port prometheus.yml scrapes."""
    prometheus = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    scraped = {
        job["job_name"]: sd["port"]
        for job in prometheus["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
    }
    for name, port in scraped.items():
        env = compose["services"][name]["environment"]
        assert env["DROPWIRE_METRICS_HOST"] == "0.0.0.0"
        assert int(env["DROPWIRE_METRICS_PORT"]) == port
        assert str(port) in compose["services"][name]["expose"]
        assert f":{port}/readyz" in " ".join(compose["services"][name]["healthcheck"]["test"])


def test_enrich_uses_multiprocess_metrics_in_a_private_tmpfs(compose: dict[str, Any]) -> None:
    """The prefork enrich worker's metric files live on a tmpfs the parent wipes at start."""
    enrich = compose["services"]["enrich"]
    folder = enrich["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert any(t.split(":")[0] == folder for t in enrich["tmpfs"])
    for other in ("ingest", "store", "migrate"):
        assert "PROMETHEUS_MULTIPROC_DIR" not in compose["services"][other].get("environment", {})


def test_prometheus_and_grafana_are_provisioned(compose: dict[str, Any]) -> None:
    """Prometheus mounts the config and rules; Grafana mounts its datasource, provider and dashboard."""
    prometheus = compose["services"]["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    grafana = compose["services"]["grafana"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in grafana["volumes"]}
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./deploy/grafana/dashboards"] == "/etc/grafana/dashboards"
    for source in ("./deploy/prometheus", "./deploy/grafana/provisioning", "./deploy/grafana/dashboards"):
        assert (REPO_ROOT / source).is_dir(), source


def test_no_real_password_is_committed(compose: dict[str, Any]) -> None:
    """Secrets come from files (overridable by variable) that default to committed *.example placeholders."""
    for name, secret in compose["secrets"].items():
        path = Path(secret["file"])
        assert path.name.endswith(".example"), name
        assert (REPO_ROOT / path).read_text().strip().startswith("change-me"), name
    overridden = interpolate(raw_compose(), {"DROPWIRE_POSTGRES_PASSWORD_FILE": "/secure/pg"})
    assert overridden["secrets"]["postgres_password"]["file"] == "/secure/pg"
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key.upper():
                assert key.upper().endswith("_FILE") and str(value).startswith("/run/secrets/"), (name, key)
        for key in ("DROPWIRE_DATABASE_URL", "DROPWIRE_BROKER_URL"):
            url = (service.get("environment") or {}).get(key)
            if url:
                assert make_url(url).password is None, (name, key)


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), split into build stages."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def stage(name: str) -> list[str]:
    """The build stage ``FROM ... AS <name>``."""
    (found,) = [st for st in dockerfile_stages() if st[0].split()[-1] == name]
    return found


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    """Builder and runtime stages; the runtime is slim, runs as a non-root user, entrypoint dropwire."""
    stages = dockerfile_stages()
    assert len(stages) >= 2
    runtime = stages[-1]
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", text)
    users = [line.split()[1] for line in runtime if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entrypoints = [line for line in runtime if line.upper().startswith("ENTRYPOINT")]
    assert json.loads(entrypoints[-1].split(None, 1)[1]) == ["dropwire"]
    assert any(line.startswith("COPY --from=builder") for line in runtime)


def test_runtime_image_installs_no_build_tools() -> None:
    """The runtime stage installs no compiler or package toolchain: only the builder's virtualenv is copied."""
    runtime = " ".join(dockerfile_stages()[-1]).lower()
    for tool in ("apt-get install", "build-essential", "gcc", "pip install", "make "):
        assert tool not in runtime, tool


def test_dockerignore_sends_only_what_the_build_needs() -> None:
    """The build context is the lock file, the packaging metadata and the three packages, nothing else
    (no .venv, no spool)."""
    lines = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {
        "requirements/runtime.txt",
        "pyproject.toml",
        "README.md",
        "shared",
        "services",
        "dropwire",
    }
    copied = {
        line.split()[1] for line in stage("builder") if line.startswith("COPY ") and "--from=" not in line
    }
    assert copied <= allowed | {"pyproject.toml", "README.md"}
    for path in allowed:
        assert (REPO_ROOT / path).exists(), path


def test_the_image_installs_its_dependencies_from_the_lock_file() -> None:
    """The builder installs the locked runtime requirements with their hashes checked, then the project
    without resolving dependencies again: the image runs the versions CI tested."""
    builder = " ".join(stage("builder"))
    assert "pip install --require-hashes -r requirements/runtime.txt" in builder
    assert "pip install --no-deps ." in builder


def test_the_image_builds_on_another_base_and_offline_from_a_wheelhouse() -> None:
    """PYTHON_IMAGE picks the base of both stages; PIP_OFFLINE installs only from the stage (or named
    build context) `wheelhouse`, which by default holds nothing but the lock file."""
    assert stage("builder")[0] == "FROM ${PYTHON_IMAGE} AS builder"
    assert stage("runtime")[0] == "FROM ${PYTHON_IMAGE} AS runtime"
    assert stage("wheelhouse") == ["FROM scratch AS wheelhouse", "COPY requirements/runtime.txt /"]
    builder = " ".join(stage("builder"))
    assert "COPY --from=wheelhouse / /wheels/" in builder
    assert builder.count("export PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels") == 2  # the lock file and the project


def test_the_compose_test_override_swaps_only_third_party_images(compose: dict[str, Any]) -> None:
    """deploy/compose-test's override changes nothing but the Redis, PostgreSQL and Prometheus images
    and ingest's lease; Grafana (no package to build one from) is in a profile the test leaves off."""
    override = yaml.safe_load((REPO_ROOT / "deploy" / "compose-test" / "docker-compose.test.yml").read_text())
    assert {name: set(service) for name, service in override["services"].items()} == {
        "redis": {"image"},
        "postgres": {"image"},
        "prometheus": {"image"},
        "ingest": {"environment"},
    }
    assert override["services"]["ingest"]["environment"] == {"DROPWIRE_LEASE_SECONDS": "90"}
    merged = {**compose["services"]["ingest"]["environment"], **override["services"]["ingest"]["environment"]}
    known = compose_environment_names()
    assert set(merged) <= known | {k for k in merged if not k.startswith("DROPWIRE_")}
    assert set(override) == {"services"}
    assert compose["services"]["grafana"]["profiles"] == ["grafana"]
    assert all("profiles" not in s for n, s in compose["services"].items() if n != "grafana")


def test_console_needs_its_token_and_is_published_on_loopback_only(compose: dict[str, Any]) -> None:
    """The console binds all interfaces in its container, so it reads its token from a secret; the
    host sees it on 127.0.0.1 only."""
    console = compose["services"]["console"]
    env = console["environment"]
    assert env["DROPWIRE_CONSOLE_HOST"] == "0.0.0.0"
    assert env["DROPWIRE_CONSOLE_TOKEN_FILE"] == "/run/secrets/console_token"
    assert "console_token" in console["secrets"] and "DROPWIRE_CONSOLE_TOKEN" not in env
    assert [str(p).split(":")[0] for p in console["ports"]] == ["127.0.0.1"]
    assert [v["target"] for v in console["volumes"]] == ["/data/spool"] == [env["DROPWIRE_SPOOL_DIR"]]


def compose_environment_names() -> set[str]:
    """DROPWIRE_<FIELD> and DROPWIRE_<FIELD>_FILE for every field of every settings class."""
    from shared import settings as settings_module

    known = set()
    for obj in vars(settings_module).values():
        if isinstance(obj, type) and issubclass(obj, settings_module.BaseSettings) and obj.model_fields:
            known |= {f"DROPWIRE_{name.upper()}" for name in obj.model_fields}
            known |= {f"DROPWIRE_{name.upper()}_FILE" for name in obj.model_fields}
    return known


def test_compose_environment_names_are_real_settings(compose: dict[str, Any]) -> None:
    """Every DROPWIRE_* variable the stack sets is a field of a settings class (no typo goes unnoticed)."""
    known = compose_environment_names()
    for name, service in compose["services"].items():
        for key in service.get("environment") or {}:
            if key.startswith("DROPWIRE_"):
                assert key in known, (name, key)
    assert os.environ.get("DROPWIRE_NOT_A_SETTING") is None
