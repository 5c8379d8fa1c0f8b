"""The message contract: frozen, versioned, JSON only, and strict at the boundary."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from shared.errors import BadMessage, PermanentError
from shared.messages import DocumentDone, DocumentEnriched, DocumentReceived, ParseWarning, decode

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def received() -> DocumentReceived:
    return DocumentReceived(
        doc_id="a" * 64,
        claim="x.txt",
        name="x.txt",
        received_at=NOW,
        mtime=NOW,
        size=3,
        encoding="utf-8",
        text="abc",
    )


def test_round_trip_through_json_gives_an_equal_message() -> None:
    msg = received()
    assert decode(DocumentReceived, msg.to_json()) == msg


def test_messages_are_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        received().size = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    "payload",
    [b"\x80\x04pickle", "not json", "[1, 2]", '{"schema_version": 2}', '{"schema_version": 1}'],
)
def test_undecodable_payloads_raise_a_permanent_bad_message(payload: str | bytes) -> None:
    with pytest.raises(BadMessage) as info:
        decode(DocumentDone, payload)
    assert isinstance(info.value, PermanentError)
    assert info.value.reason == "bad_message"


def test_unknown_fields_are_refused() -> None:
    data = received().model_dump(mode="json") | {"surprise": 1}
    with pytest.raises(BadMessage):
        decode(DocumentReceived, pydantic.TypeAdapter(dict).dump_json(data))


def test_doc_id_must_be_a_sha256_hex_digest() -> None:
    with pytest.raises(pydantic.ValidationError):
        DocumentReceived(**(received().model_dump() | {"doc_id": "../../etc/passwd"}))


# A DocumentEnriched as enrich sent it before parse warnings existed (schema 1, no warnings, no
# truncated, articles without byline/updated_at/truncated, datelines without stamp).
OLD_ENRICHED = (
    '{"schema_version": 1, "doc_id": "' + "b" * 64 + '", "claim": "x.txt", "name": "x.txt",'
    ' "received_at": "2026-11-22T12:00:00Z", "mtime": "2026-11-22T12:00:00Z", "size": 10,'
    ' "encoding": "utf-8", "section": null, "parser_version": "1.0.0", "model_version": "m-1",'
    ' "heartbeat": false, "articles": [{"seq": 0, "role": "main", "headline": "Kop",'
    ' "dateline": {"place": "DEN HAAG", "agencies": ["ANP"], "resolved": null},'
    ' "relative_time": null, "published_at": null, "body": "Tekst.", "subheads": [],'
    ' "trailer": null, "entities": []}]}'
)


def test_an_enriched_message_from_before_parse_warnings_is_still_read() -> None:
    """The fields added for parse warnings have defaults: an older message decodes, with none of them."""
    msg = decode(DocumentEnriched, OLD_ENRICHED)
    assert (msg.warnings, msg.truncated) == ((), False)
    (article,) = msg.articles
    assert (article.byline, article.updated_at, article.truncated) == (None, None, False)
    assert article.dateline is not None and article.dateline.stamp is None


def test_parse_warnings_round_trip_and_refuse_unknown_kinds() -> None:
    """Warnings travel as typed records; a kind outside the closed list is a bad message."""
    msg = decode(DocumentEnriched, OLD_ENRICHED)
    warned = msg.model_copy(
        update={"warnings": (ParseWarning(kind="unplaced", text="Zaterdageditie", article=None),)}
    )
    assert decode(DocumentEnriched, warned.to_json()) == warned
    bad = warned.to_json().replace('"unplaced"', '"whatever"')
    with pytest.raises(BadMessage):
        decode(DocumentEnriched, bad)
