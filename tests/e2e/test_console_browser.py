"""The operator console in a real browser, as an operator uses it: files dropped through ``dropwire run``
show up, search finds Dutch inflections, entities are marked where the store says, a failed file is sent
round again from the Failures page, hostile text stays text, and a console bound off loopback wants its
token. On SQLite and on the real PostgreSQL; the SQLite run saves the docs' screenshots (docs/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dropwire.stack import wait_until
from shared.spool import Spool
from tests.e2e.console_harness import SCREENSHOTS, ConsoleProcess, chromium
from tests.e2e.test_run_embedded import RunProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Seconds an operator waits for a dropped file to show: the pipeline stores a page well within this.
SHOWS_WITHIN = 30_000  # Playwright's milliseconds

STRIKE = (
    "Stakingen leggen treinverkeer rond Utrecht stil\n"
    "UTRECHT (ANP) - De stakingen bij de NS duren ook dinsdag voort. Minister Mark Rutte sprak in "
    "Den Haag met de vakbonden FNV en CNV over de cao van het spoorpersoneel.\n"
    "Reizigers wordt aangeraden de reisplanner te raadplegen.\n"
)
HOSTILE = (
    'Kop met <script>window.__xss = 1</script> en <img src=x onerror="window.__xss = 2">\n'
    "DEN HAAG (ANP) - Een bericht met <script>window.__xss = 3</script> in de tekst en "
    '<b onmouseover="window.__xss = 4">vet</b> erin. Mark Rutte zei er niets over.\n'
)
HOSTILE_NAME = "xss<img src=x onerror=alert(1)>.txt"
RETRIED = (
    "Kabinet bespreekt begroting\n"
    "DEN HAAG (ANP) - Het kabinet sprak vrijdag over de begroting van volgend jaar.\n"
)


@dataclass
class Stack:
    backend: str
    run: RunProcess
    console: ConsoleProcess
    browser: Any

    @property
    def spool(self) -> Spool:
        return Spool(self.run.spool)

    def page(self) -> Any:
        page = self.browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(SHOWS_WITHIN)
        return page

    def screenshot(self, page: Any, name: str) -> None:
        if self.backend == "sqlite":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def drop(self, name: str, text: str) -> None:
        inbox = self.run.spool / "inbox"
        tmp = inbox / f".{name}.part"
        tmp.write_text(text, encoding="utf-8")
        tmp.rename(inbox / name)

    def stored_sha256(self, name: str) -> str:
        def find() -> str | None:
            _, docs = self.console.get_json("/api/documents?limit=500")
            return next((d["sha256"] for d in docs if d["name"] == name), None)

        sha: str = wait_until(find, f"{name} to be stored", timeout=SHOWS_WITHIN / 1000)
        return sha


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp(f"console-{request.param}")
    if request.param == "postgresql":
        from dropwire.stack import fresh_postgres

        database = fresh_postgres(request.getfixturevalue("pg_admin"))
        url = database.__enter__()
    else:
        database, url = None, f"sqlite:///{workdir / 'var' / 'dropwire.db'}"
    run = RunProcess(workdir, database_url=url)
    console = ConsoleProcess(workdir, run.spool, url)
    try:
        run.start()
        console.start()
        yield Stack(request.param, run, console, browser)
    finally:
        console.stop()
        run.stop()
        if database is not None:
            database.__exit__(None, None, None)


def test_dropped_files_appear_on_overview_and_documents(stack: Stack) -> None:
    """A file dropped into the inbox is counted in archive/ on the Overview and listed on Documents."""
    page = stack.page()
    page.goto(stack.console.url + "/")
    before = int(page.locator('[data-folder="archive"] td.num').inner_text())
    stack.drop("strike.txt", STRIKE)
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-folder=archive] td.num').textContent) > {before}"
    )  # the Overview reloads itself; no reload by the test
    stack.screenshot(page, "overview")
    page.goto(stack.console.url + "/documents")
    row = page.locator("#documents tr", has_text="strike.txt")
    assert row.locator("td").nth(4).inner_text() == "Stakingen leggen treinverkeer rond Utrecht stil"
    stack.screenshot(page, "documents")
    row.get_by_role("link", name="strike.txt").click()
    page.wait_for_url(re.compile(r"/documents/[0-9a-f]{64}$"))
    assert page.locator(".dateline").first.inner_text().startswith("UTRECHT (ANP)")
    stack.screenshot(page, "document")


def test_search_finds_a_stemmed_form(stack: Stack) -> None:
    """Searching "staking" finds the article that only says "stakingen", with the word marked."""
    stack.drop("strike-search.txt", STRIKE.replace("Utrecht", "Amersfoort"))
    stack.stored_sha256("strike-search.txt")
    page = stack.page()
    page.goto(stack.console.url + "/search")
    page.fill("input[name=q]", "staking")
    page.get_by_role("button", name="Search").click()
    hits = page.locator("ol.hits li")
    assert hits.filter(has_text="Amersfoort").count() >= 1
    marks = page.locator("ol.hits mark").all_inner_texts()
    assert marks and {m.lower() for m in marks} == {"stakingen"}
    stack.screenshot(page, "search")
    page.fill("input[name=q]", "staking")
    page.fill("input[name=place]", "Maastricht")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#hit-count").inner_text() == "0 articles"


def test_entity_highlights_match_the_stored_offsets(stack: Stack) -> None:
    """Every marked entity on a document's page covers exactly a stored mention's offsets and label."""
    stack.drop("strike-entities.txt", STRIKE.replace("Utrecht", "Zwolle"))
    sha = stack.stored_sha256("strike-entities.txt")
    _, stored = stack.console.get_json(f"/api/documents/{sha}")
    page = stack.page()
    page.goto(f"{stack.console.url}/documents/{sha}")
    for article in stored["articles"]:
        marks = page.locator(f'[data-article-id="{article["id"]}"] .body a.ent')
        shown = [
            (
                int(m.get_attribute("data-start")),
                int(m.get_attribute("data-end")),
                m.get_attribute("data-label"),
                m.inner_text(),
            )
            for m in marks.all()
        ]
        expected = [
            (m["start"], m["end"], m["label"], article["body"][m["start"] : m["end"]])
            for m in article["mentions"]
        ]
        assert shown == expected
        assert page.locator(f'[data-article-id="{article["id"]}"] .body').inner_text() == article["body"]
    assert any(a["mentions"] for a in stored["articles"])  # the story has entities to mark
    page.locator(".body a.ent", has_text="Mark Rutte").first.click()
    page.wait_for_url(re.compile(r"/entities/\d+$"))
    assert "Mark Rutte" in page.locator("h1").inner_text()
    stack.screenshot(page, "entity")
    page.goto(stack.console.url + "/entities")
    stack.screenshot(page, "entities")


def test_a_failed_file_is_retried_from_the_failures_page_and_lands_in_archive(stack: Stack) -> None:
    """A file in failed/ (the store was down) is sent round again with the page's Retry and ends in archive/."""
    spool = stack.spool
    claim = "0badc0de__begroting.txt"
    (spool.failed / claim).write_text(RETRIED, encoding="utf-8")
    spool.write_error(
        claim,
        stage="store",
        reason="db_unavailable",
        detail="database unavailable <b>(outage)</b>",
        doc_id=None,
    )
    page = stack.page()
    page.goto(stack.console.url + "/failures")
    row = page.locator(f'tr[data-claim="{claim}"]')
    assert row.locator("td.detail").inner_text() == "database unavailable <b>(outage)</b>"
    stack.screenshot(page, "failures")
    row.get_by_role("button", name="Retry").click()
    assert page.locator("#notice").inner_text() == "Sent back to the inbox as begroting.txt."
    assert page.locator(f'tr[data-claim="{claim}"]').count() == 0
    wait_until(
        lambda: any(p.name.endswith("__begroting.txt") for p in spool.archive.iterdir()),
        "the retried file to be archived",
        timeout=SHOWS_WITHIN / 1000,
    )
    assert not (spool.failed / (claim + ".error.json")).exists()


def test_a_retry_without_the_csrf_token_is_refused(stack: Stack) -> None:
    """A POST that does not carry the page's CSRF token moves nothing (JSON 403 on the API)."""
    spool = stack.spool
    claim = "0badf00d__kept.txt"
    (spool.failed / claim).write_text(RETRIED, encoding="utf-8")
    page = stack.page()
    response = page.request.post(
        f"{stack.console.url}/failures/retry", form={"claim": claim, "csrf": "guess"}
    )
    assert response.status == 403
    response = page.request.post(f"{stack.console.url}/api/failures/{claim}/retry")
    assert response.status == 403 and "error" in response.json()
    assert (spool.failed / claim).exists()
    (spool.failed / claim).unlink()


def test_a_hostile_file_renders_as_text(stack: Stack) -> None:
    """Markup in a dropped file's name, headline and body is shown as text and never runs."""
    stack.drop(HOSTILE_NAME, HOSTILE)
    sha = stack.stored_sha256(HOSTILE_NAME)
    page = stack.page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in (f"/documents/{sha}", "/documents", "/search?q=tekst+bericht", "/"):
        page.goto(stack.console.url + path)
        assert page.evaluate("() => window.__xss") is None
        assert page.locator("main img, main script, main b").count() == 0
    page.goto(f"{stack.console.url}/documents/{sha}")
    assert "<script>window.__xss = 3</script>" in page.locator(".body").first.inner_text()
    assert page.locator("h1").inner_text() == HOSTILE_NAME
    assert dialogs == []


def test_the_json_api_reports_errors_as_json(stack: Stack) -> None:
    """An unknown document, a bad filter and a bad path answer JSON with a message, never a traceback."""
    status, body = stack.console.get_json("/api/documents/" + "0" * 64)
    assert (status, body) == (404, {"error": "no stored document with that sha256"})
    status, body = stack.console.get_json("/api/documents?since=yesterday")
    assert status == 422 and "since" in body["error"]
    status, body = stack.console.get_json("/api/entities/abc")
    assert status == 422 and set(body) == {"error"}


def test_the_token_is_required_when_bound_elsewhere(tmp_path: Path, browser: Any) -> None:
    """Off loopback the console refuses to start without a token; with one, every request needs it."""
    spool, url = tmp_path / "spool", f"sqlite:///{tmp_path / 'dropwire.db'}"
    refused = ConsoleProcess(tmp_path, spool, url, DROPWIRE_CONSOLE_HOST="0.0.0.0").start(wait=False)
    assert refused.proc is not None and refused.proc.wait(30) == 2
    assert "DROPWIRE_CONSOLE_TOKEN" in refused.log.read_text()

    token_file = tmp_path / "token"
    token_file.write_text("s3cret-operator-token\n")
    console = ConsoleProcess(
        tmp_path, spool, url, DROPWIRE_CONSOLE_HOST="0.0.0.0", DROPWIRE_CONSOLE_TOKEN_FILE=str(token_file)
    ).start()
    try:
        assert console.get_json("/api/overview")[0] == 401
        assert console.get_json("/api/overview", {"Authorization": "Bearer wrong"})[0] == 401
        assert console.get_json("/api/overview", {"Authorization": "Bearer s3cret-operator-token"})[0] == 200
        page = browser.new_page()
        page.goto(console.url + "/documents")
        page.wait_for_url(re.compile(r"/login$"))
        page.fill("input[name=token]", "not-it")
        page.get_by_role("button", name="Sign in").click()
        assert "not the right one" in page.locator("main").inner_text()
        page.fill("input[name=token]", "s3cret-operator-token")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(console.url + "/")
        assert page.locator("h1").inner_text() == "Overview"
        assert "s3cret-operator-token" not in page.content()
    finally:
        console.stop()
