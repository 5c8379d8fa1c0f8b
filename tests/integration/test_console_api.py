"""The console's JSON API against its own OpenAPI schema, fuzzed by schemathesis on a stored database
(SQLite and the real PostgreSQL): no 500s, every answer in the documented status codes and shapes.
Kept short: a few dozen cases per operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from services.console.app import create_app
from services.console.context import Console
from services.console.security import Guard
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.readmodel import ReadModel, open_engine
from shared.spool import Spool
from tests.unit.test_repository_sqlite import make_doc

pytestmark = pytest.mark.integration

TOKEN = "fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Cases per operation: enough to hit the edges (NUL bytes, huge ids, bad times), short enough for CI.
EXAMPLES = 30


def console_app(url: str, spool_dir: Path) -> tuple[Any, Any]:
    upgrade(url)
    writer = make_engine(url)
    Repository(writer).store([make_doc("a"), make_doc("b")])
    writer.dispose()
    spool = Spool(spool_dir)
    spool.ensure()
    (spool.failed / "0badc0de__x.txt").write_text("x")
    engine = open_engine(url)
    console = Console(read=ReadModel(engine), spool=spool, guard=Guard(token=TOKEN))
    return create_app(console), engine


@pytest.fixture(params=["sqlite", "postgresql"])
def api_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    url = str(request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url"))
    app, engine = console_app(url, tmp_path / "spool")
    yield schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)
    engine.dispose()


def test_api_answers_every_request_within_its_schema(api_schema: Any) -> None:
    """Whatever the parameters, every operation answers a documented status with a documented body,
    never a 500 (schemathesis's checks, run operation by operation)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/documents", "/api/search", "/api/failures/{claim}/retry"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=AUTH)

        check()


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    app, engine = console_app(sqlite_url, tmp_path / "spool")
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    engine.dispose()


def test_api_needs_the_token_and_errors_are_json(client: TestClient) -> None:
    """Without the bearer token the API answers 401 JSON; /healthz stays open for probes."""
    assert client.get("/api/documents").json() == {"error": "token required (Authorization: Bearer …)"}
    assert client.get("/api/documents").status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/documents", headers=AUTH).status_code == 200


def test_retry_through_the_api_moves_the_file_like_the_cli(client: TestClient, tmp_path: Path) -> None:
    """POST /api/failures/{claim}/retry with the CSRF token puts the file back in the inbox, its note gone."""
    csrf = client.get("/api/csrf", headers=AUTH).json()["csrf"]
    refused = client.post("/api/failures/0badc0de__x.txt/retry", headers=AUTH)
    assert refused.status_code == 403
    done = client.post("/api/failures/0badc0de__x.txt/retry", headers={**AUTH, "X-CSRF-Token": csrf})
    assert done.json() == {"claim": "0badc0de__x.txt", "inbox_name": "x.txt"}
    assert (tmp_path / "spool" / "inbox" / "x.txt").exists()
    again = client.post("/api/failures/0badc0de__x.txt/retry", headers={**AUTH, "X-CSRF-Token": csrf})
    assert again.status_code == 404 and "not in failed/" in again.json()["error"]


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    """/metrics serves the console's request counter labelled by route template, never by a concrete path."""
    client.get("/api/documents/" + "0" * 64, headers=AUTH)
    text = client.get("/metrics", headers=AUTH).text
    assert 'dropwire_console_requests_total{route="/api/documents/{sha256}",status="4xx"} 1.0' in text
    assert "0" * 64 not in text


def test_pages_forbid_scripts_and_framing(client: TestClient) -> None:
    """Every answer carries a Content-Security-Policy without scripts, and no framing or sniffing."""
    page = client.get("/documents", headers=AUTH)
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"


def test_without_a_token_only_loopback_hosts_get_an_answer(sqlite_url: str, tmp_path: Path) -> None:
    """A console without a token answers 127.0.0.1 and localhost, and refuses a rebound foreign name."""
    upgrade(sqlite_url)
    engine = open_engine(sqlite_url)
    app = create_app(Console(read=ReadModel(engine), spool=Spool(tmp_path), guard=Guard(token=None)))
    try:
        with TestClient(app, base_url="http://127.0.0.1:9104") as local:
            assert local.get("/api/documents").status_code == 200
            assert local.get("/api/documents", headers={"Host": "localhost:9104"}).status_code == 200
            assert local.get("/api/documents", headers={"Host": "attacker.example"}).status_code == 403
    finally:
        engine.dispose()


def test_the_document_page_shows_the_journey(client: TestClient) -> None:
    """The document page shows the same journey as ``dropwire trace``: here the store's step."""
    sha = make_doc("a").doc_id
    page = client.get(f"/documents/{sha}", headers=AUTH)
    assert page.status_code == 200
    assert 'id="journey"' in page.text and 'data-kind="stored"' in page.text
