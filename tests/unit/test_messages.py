"""The message contract: frozen, versioned, JSON only, and strict at the boundary."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from shared.errors import BadMessage, PermanentError
from shared.messages import DocumentDone, DocumentReceived, decode

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
