"""The bad-input catalogue, ingest's part: one real ``dropwire ingest`` on the real Redis, one case per test.

Each case drops one kind of bad inbox entry and checks where it ends (``failed/`` with its
``.error.json`` reason, or left alone where that is the right answer), the metric increment on
``/metrics``, the JSON log line, the failure report on the store queue, and that a good file dropped
afterwards is still claimed and queued for enrich. Cases that need enrich and the store are in
``tests/e2e/test_bad_input_e2e.py``.

Ingest runs as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (``setpriv``), so a file with mode
000 is as unreadable to it as to any non-root service account.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from structlog.testing import capture_logs

from dropwire.stack import Stack, leased_redis_db, wait_until
from services.ingest import claim as claims
from services.ingest.publisher import CeleryPublisher
from services.ingest.service import IngestService
from shared.celery_app import TASK_STORE_FAILURE, create_app
from shared.messages import DocumentDone, DocumentReceived, decode
from shared.metrics import create_metrics
from shared.settings import DEFAULT_MAX_FILE_BYTES, IngestSettings
from shared.spool import NAME_MAX_BYTES, Spool, escape_name, inbox_name
from tests.integration.badinput import (
    folder_of,
    note,
    queued,
    samples,
    start_ingest_without_dac_override,
    unique_page,
    value,
)

pytestmark = pytest.mark.integration

# Generous for a shared 2-core machine; a file is claimed within milliseconds of its drop.
CASE_DEADLINE_SECONDS = 20.0
FAILED = "dropwire_files_failed_total"


class Catalogue:
    """The running ingest and handles on what it talks to."""

    def __init__(self, stack: Stack, client: redis.Redis) -> None:
        self.stack = stack
        self.client = client

    @property
    def inbox(self) -> Path:
        return self.stack.spool / "inbox"

    def metrics(self) -> dict:
        return samples(self.stack.scrape("ingest"))

    def enrich_names(self) -> list[str]:
        return [decode(DocumentReceived, p).name for _, p in queued(self.client, "enrich")]

    def failure_reports(self) -> dict[str, DocumentDone]:
        return {
            (d := decode(DocumentDone, p)).claim: d
            for task, p in queued(self.client, "store")
            if task == TASK_STORE_FAILURE
        }

    def log_events(self, event: str) -> list[dict]:
        return [e for e in self.stack.events("ingest") if e.get("event") == event]

    def still_claims_good_files(self) -> None:
        """A good file dropped after the case is claimed and queued for enrich."""
        name = f"goed-{os.urandom(4).hex()}.txt"
        self.stack.drop(name, unique_page(name))
        wait_until(lambda: name in self.enrich_names(), f"{name} on the enrich queue", CASE_DEADLINE_SECONDS)

    def expect_failed(self, name: str, reason: str, drop: Callable[[Path], object]) -> str:
        """Drop ``inbox/name`` with ``drop``; check folder, note, metric, log line and report. The claim."""
        before = value(self.metrics(), FAILED, stage="ingest", reason=reason)
        drop(self.inbox / name)
        where = wait_until(
            lambda: (w := folder_of(self.stack, name)) and w[0] == "failed" and w,
            f"{name!r} in failed/",
            CASE_DEADLINE_SECONDS,
        )
        claim = where[1]
        wait_until(lambda: (self.stack.spool / "failed" / f"{claim}.error.json").exists(), "its note", 5)
        written = note(self.stack, claim)
        assert (written["stage"], written["reason"], written["name"]) == ("ingest", reason, escape_name(name))
        assert written["detail"]
        wait_until(
            lambda: value(self.metrics(), FAILED, stage="ingest", reason=reason) == before + 1,
            f"files_failed{{reason={reason}}} to go up by one",
            5,
        )
        [line] = [e for e in self.log_events("file.failed") if e.get("claim") == claim]
        assert (line["level"], line["stage"], line["reason"], line["service"]) == (
            "warning",
            "ingest",
            reason,
            "ingest",
        )
        report = wait_until(lambda: self.failure_reports().get(claim), "the failure report to the store", 5)
        assert (report.outcome, report.stage, report.reason, report.name) == (
            "failed",
            "ingest",
            reason,
            escape_name(name),
        )
        assert name not in self.enrich_names()
        self.still_claims_good_files()
        return claim

    def expect_claimed(self, name: str, data: bytes) -> DocumentReceived:
        """Drop a good file under an odd name; it is claimed and queued with that name. The message."""
        before = value(self.metrics(), "dropwire_files_claimed_total")
        path = self.stack.spool / "inbox" / name
        path.write_bytes(data)
        payload = wait_until(
            lambda: next(
                (
                    p
                    for _, p in queued(self.client, "enrich")
                    if decode(DocumentReceived, p).text == data.decode()
                ),
                None,
            ),
            f"{name!r} on the enrich queue",
            CASE_DEADLINE_SECONDS,
        )
        message = decode(DocumentReceived, payload)
        assert value(self.metrics(), "dropwire_files_claimed_total") >= before + 1
        assert [e for e in self.log_events("file.claimed") if e.get("claim") == message.claim]
        assert os.path.exists(self.stack.spool / "processing" / message.claim)
        return message


@pytest.fixture(scope="module")
def catalogue(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    root = tmp_path_factory.mktemp("catalogue")
    with leased_redis_db(redis_server) as url:
        env = {"DROPWIRE_HEARTBEAT_SECONDS": "0", "DROPWIRE_WATCH_MODE": "events"}
        stack = Stack(root, redis_url=url, database_url="sqlite://", services=("ingest",), env=env)
        client = redis.Redis.from_url(url)
        try:
            start_ingest_without_dac_override(stack)
            yield Catalogue(stack, client)
            codes = stack.stop()
            assert codes == {"ingest": 0}
        finally:
            stack.stop()
            client.close()


def write(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def test_an_empty_file_fails_as_empty(catalogue: Catalogue) -> None:
    """A zero-byte file goes to failed/ with reason empty."""
    catalogue.expect_failed("leeg.txt", "empty", write(b""))


def test_a_whitespace_only_file_fails_as_empty(catalogue: Catalogue) -> None:
    """Spaces, tabs and newlines only: failed/ with reason empty."""
    catalogue.expect_failed("spaties.txt", "empty", write(b"  \n\t \r\n   \n"))


def test_an_image_fails_as_binary(catalogue: Catalogue) -> None:
    """A PNG image named like a wire file: failed/ with reason binary."""
    catalogue.expect_failed("foto.txt", "binary", write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8))


def test_a_zip_archive_fails_as_binary(catalogue: Catalogue, tmp_path: Path) -> None:
    """A real zip archive (of a good page): failed/ with reason binary."""
    archive = tmp_path / "pagina.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pagina.txt", unique_page("zip"))
    catalogue.expect_failed("archief.txt", "binary", write(archive.read_bytes()))


def test_a_50_mb_file_over_the_size_cap_fails_as_too_large(catalogue: Catalogue) -> None:
    """A 50 MB text file, over the default 10 MiB cap: failed/ with reason too_large, never read whole."""
    size = 50 * 1000 * 1000
    assert size > DEFAULT_MAX_FILE_BYTES

    def drop(path: Path) -> None:
        line = b"GRONINGEN (ANP) - Een regel tekst die zich steeds herhaalt.\n"
        with path.open("wb") as fh:
            fh.write(line * (size // len(line) + 1))

    claim = catalogue.expect_failed("groot.txt", "too_large", drop)
    assert (catalogue.stack.spool / "failed" / claim).stat().st_size > size


def test_invalid_utf8_that_is_not_cp1252_either_fails_as_undecodable(catalogue: Catalogue) -> None:
    """UTF-8 text damaged mid-file (it would be mojibake as cp1252): failed/ with reason undecodable."""
    data = ("Oekraïne en Curaçao melden vooruitgang. " * 20).encode() + b"\xc3\x28\x81\x90 en verder."
    catalogue.expect_failed("beschadigd.txt", "undecodable", write(data))


def test_bytes_undefined_in_cp1252_fail_as_binary(catalogue: Catalogue) -> None:
    """Not UTF-8, and full of bytes cp1252 leaves undefined: failed/ with reason binary."""
    catalogue.expect_failed("onleesbaar.txt", "binary", write(b"tekst " + b"\x81\x8d\x8f\x90\x9d" * 40))


def test_utf16_with_a_bom_that_does_not_decode_fails_as_undecodable(catalogue: Catalogue) -> None:
    """A UTF-16 BOM followed by a lone surrogate: failed/ with reason undecodable."""
    catalogue.expect_failed(
        "kapot16.txt", "undecodable", write(b"\xff\xfe" + b"\x00\xd8" + "tekst".encode("utf-16-le"))
    )


def test_an_html_page_fails_as_markup(catalogue: Catalogue) -> None:
    """A saved web page (doctype, tags) instead of wire text: failed/ with reason markup, never parsed."""
    page = (
        "<!DOCTYPE html>\n<html lang=nl><head><title>Nieuws</title></head>\n<body>\n<h1>Kabinet valt</h1>\n"
        "<p>DEN HAAG (ANP) - Het kabinet is gevallen.</p>\n</body></html>\n"
    )
    catalogue.expect_failed("pagina.html.txt", "markup", write(page.encode()))


def test_nul_bytes_in_a_text_file_fail_as_binary(catalogue: Catalogue) -> None:
    """A text file with NUL bytes in it (not UTF-16): failed/ with reason binary."""
    catalogue.expect_failed("nul.txt", "binary", write(b"GRONINGEN (ANP) - Tekst\x00met\x00nullen.\n"))


def test_a_symlink_pointing_outside_is_refused_and_its_target_untouched(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """A symlink in the inbox to a file outside it: moved (unfollowed) to failed/ as not_regular_file;
    the target keeps its bytes, mode and place."""
    target = tmp_path / "geheim.txt"
    target.write_bytes(unique_page("doel"))
    before = (target.read_bytes(), target.stat().st_mode)
    claim = catalogue.expect_failed("link.txt", "not_regular_file", lambda p: os.symlink(target, p))
    assert os.path.islink(catalogue.stack.spool / "failed" / claim)
    assert (target.read_bytes(), target.stat().st_mode) == before


def test_a_fifo_is_refused_without_blocking_ingest(catalogue: Catalogue) -> None:
    """A named pipe in the inbox (nobody writing to it): failed/ as not_regular_file; ingest never blocks."""
    catalogue.expect_failed("pijp.txt", "not_regular_file", os.mkfifo)


def test_a_file_without_read_permission_fails_as_unreadable(catalogue: Catalogue) -> None:
    """A file with mode 000: failed/ with reason unreadable (ingest holds no capability to bypass modes)."""

    def drop(path: Path) -> None:
        partial = path.with_name(f".{path.name}.part")
        partial.write_bytes(unique_page("geen-rechten"))
        os.chmod(partial, 0)
        os.rename(partial, path)

    claim = catalogue.expect_failed("geheim.txt", "unreadable", drop)
    assert "Permission denied" in str(note(catalogue.stack, claim)["detail"])


def test_a_directory_named_like_a_file_is_left_alone(catalogue: Catalogue) -> None:
    """A directory ``map.txt/`` (with a file in it) is not a drop: it stays in the inbox untouched, nothing
    is counted as detected or failed, and ingest carries on."""
    before = catalogue.metrics()
    folder = catalogue.inbox / "map.txt"
    folder.mkdir()
    (folder / "binnen.txt").write_bytes(unique_page("binnen"))
    catalogue.still_claims_good_files()
    after = catalogue.metrics()
    assert sorted(p.name for p in folder.iterdir()) == ["binnen.txt"]
    assert value(after, "dropwire_files_detected_total") == value(before, "dropwire_files_detected_total") + 1
    assert sum(v for (n, _), v in after.items() if n == FAILED) == sum(
        v for (n, _), v in before.items() if n == FAILED
    )


@pytest.mark.parametrize(
    "name",
    ["met spaties erin.txt", "Überstunden in Curaçao – 東京.txt", "twee\nregels.txt"],
    ids=["spaces", "unicode", "newline"],
)
def test_odd_but_valid_file_names_are_claimed_under_their_own_name(catalogue: Catalogue, name: str) -> None:
    """Spaces, non-ASCII letters and even a newline in a name: claimed and queued under exactly that name."""
    message = catalogue.expect_claimed(name, unique_page(name.replace("\n", " ")))
    assert message.name == escape_name(name)  # the newline travels escaped (%0A), as in every log line
    assert message.claim.endswith("__" + escape_name(name))
    assert inbox_name(message.claim) == name


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("back\\slash.txt", "back%5Cslash.txt"),
        (os.fsdecode(b"bad\xffname.txt"), "bad%FFname.txt"),
        ("evil\u202etxt.exe", "evil%E2%80%AEtxt.exe"),
        ("50%korting.txt", "50%25korting.txt"),
    ],
    ids=["backslash", "non-utf8-bytes", "bidi-override", "percent"],
)
def test_names_that_once_stopped_ingest_are_claimed_escaped(
    catalogue: Catalogue, name: str, shown: str
) -> None:
    """A backslash or bytes that are not UTF-8 in a name: claimed and queued under the escaped name, and
    the next good file is still claimed (these once killed the claim loop for good)."""
    message = catalogue.expect_claimed(name, unique_page(shown))
    assert message.name == shown
    assert inbox_name(message.claim) == name
    catalogue.still_claims_good_files()


def test_a_long_name_on_an_empty_file_fails_with_its_note(catalogue: Catalogue) -> None:
    """240 x 'E' + '.txt', empty: the note fits NAME_MAX beside its shortened claim; ingest goes on."""
    name = "E" * 240 + ".txt"
    before = value(catalogue.metrics(), FAILED, stage="ingest", reason="empty")
    (catalogue.inbox / name).write_bytes(b"")
    spool = Spool(catalogue.stack.spool)
    entry = wait_until(
        lambda: next(
            (e for e in spool.failed_entries() if e["name"].startswith("EEEE") and e["reason"]), None
        ),
        "the file and its note in failed/",
        CASE_DEADLINE_SECONDS,
    )
    assert entry["reason"] == "empty" and entry["name"].endswith("~.txt")
    wait_until(
        lambda: value(catalogue.metrics(), FAILED, stage="ingest", reason="empty") == before + 1,
        "files_failed{reason=empty} to go up by one",
        5,
    )
    catalogue.still_claims_good_files()


def test_a_failed_file_named_like_an_error_note_is_listed(catalogue: Catalogue) -> None:
    """An empty file dropped as ``x.error.json`` fails, and `failed list` and the counts see it."""
    claim = catalogue.expect_failed("verslag.error.json", "empty", write(b""))
    assert claim.endswith("verslag%2Eerror.json")
    assert claim in [e["claim"] for e in Spool(catalogue.stack.spool).failed_entries()]


def test_a_255_byte_file_name_is_claimed_under_a_shortened_name(catalogue: Catalogue) -> None:
    """A name of the longest length the filesystem allows (255 bytes) cannot take the claim prefix: it is
    claimed with the end of its stem cut (marked ``~``, extension kept), within 255 bytes, not crashing ingest."""
    name = "é" * 100 + "x" * 51 + ".txt"
    assert len(os.fsencode(name)) == NAME_MAX_BYTES
    message = catalogue.expect_claimed(name, unique_page("lang"))
    assert len(os.fsencode(message.claim + ".error.json")) <= NAME_MAX_BYTES
    assert message.name.endswith("~.txt") and name.startswith(message.name[:-5])
    catalogue.still_claims_good_files()


def test_a_file_that_vanishes_between_detection_and_claim_is_skipped(
    catalogue: Catalogue, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detected as a complete file, deleted before the claim's rename: nothing is claimed, queued or
    failed, the race is logged, and the loop goes on (a second ingest on its own spool and Redis db)."""
    spool = Spool(tmp_path / "spool")
    metrics = create_metrics()
    service = IngestService(
        spool, IngestSettings(heartbeat_seconds=0), CeleryPublisher(create_app("t", redis_url)), metrics
    )
    path = spool.inbox / "weg.txt"
    path.write_bytes(unique_page("weg"))
    detected = claims.inspect(path)
    assert detected.kind == "file"
    path.unlink()
    original = claims.inspect
    # The detection happened before the file went: inspect answers what it saw then.
    monkeypatch.setattr(claims, "inspect", lambda p: detected if p == path else original(p))
    with capture_logs() as logs:
        assert service.take("weg.txt") is None
    monkeypatch.undo()
    assert [e["event"] for e in logs] == ["file.claimed_elsewhere"]
    assert metrics.files_claimed._value.get() == 0
    assert spool.counts() == {"inbox": 0, "processing": 0, "archive": 0, "failed": 0}
    client = redis.Redis.from_url(redis_url)
    assert client.llen("enrich") == 0 and client.llen("store") == 0
    client.close()
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    service.ready.wait(5)
    try:
        (spool.inbox / "daarna.txt").write_bytes(unique_page("daarna"))
        wait_until(lambda: spool.counts()["processing"] == 1, "the next file to be claimed", 10)
    finally:
        stop.set()
        thread.join(5)
