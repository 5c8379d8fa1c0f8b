"""Bytes → text: encodings, BOMs, line endings, and refusal of what is not text."""

from __future__ import annotations

import codecs
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.decoding import decode_bytes
from shared.errors import BinaryInput, EmptyInput, PermanentError, UndecodableInput

pytestmark = pytest.mark.unit

TEXT = "Oekraïne meldt “zware” aanval\nKYIV (ANP) - Tekst met € en café.\n"


def test_utf8_without_bom() -> None:
    """Plain UTF-8 is read as utf-8 with no BOM."""
    decoded = decode_bytes(TEXT.encode("utf-8"))
    assert (decoded.text, decoded.encoding, decoded.had_bom) == (TEXT, "utf-8", False)


def test_utf8_with_bom_drops_the_bom() -> None:
    """A UTF-8 BOM is recognised, reported and not left in the text."""
    decoded = decode_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert (decoded.text, decoded.encoding, decoded.had_bom) == (TEXT, "utf-8-sig", True)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec: str) -> None:
    """UTF-16 in either byte order with a BOM decodes to the same text."""
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    decoded = decode_bytes(bom + TEXT.encode(codec))
    assert (decoded.text, decoded.encoding, decoded.had_bom) == (TEXT, "utf-16", True)


def test_utf16_without_bom_is_recognised_by_its_zero_bytes() -> None:
    """BOM-less UTF-16-LE of Latin text is read as such rather than refused for its NUL bytes."""
    decoded = decode_bytes(TEXT.encode("utf-16-le"))
    assert (decoded.text, decoded.encoding) == (TEXT, "utf-16-le")


def test_cp1252_without_mojibake() -> None:
    """A Windows-1252 file yields "Oekraïne", the euro sign and curly quotes, never "OekraÃ¯ne"."""
    decoded = decode_bytes(TEXT.encode("cp1252"))
    assert decoded.encoding == "cp1252"
    assert decoded.text == TEXT
    assert "Oekraïne" in decoded.text


def test_latin1_accents_decode_the_same() -> None:
    """Latin-1 accented letters (a subset of cp1252) come out right."""
    decoded = decode_bytes("Genève, München, Curaçao\n".encode("latin-1"))
    assert decoded.text == "Genève, München, Curaçao\n"


@pytest.mark.parametrize(
    ("raw", "endings", "trailing"),
    [
        (b"a\nb\n", "LF", True),
        (b"a\r\nb\r\n", "CRLF", True),
        (b"a\rb", "CR", False),
        (b"a\r\nb\nc", "mixed", False),
        (b"one line", "none", False),
    ],
)
def test_line_endings_are_reported_and_normalised(raw: bytes, endings: str, trailing: bool) -> None:
    """CRLF and CR become "\\n"; the original convention and the final newline are reported."""
    decoded = decode_bytes(raw)
    assert decoded.line_endings == endings
    assert decoded.trailing_newline is trailing
    assert "\r" not in decoded.text


@pytest.mark.parametrize("raw", [b"", b"   \n\t\r\n", codecs.BOM_UTF8 + b"  \n"])
def test_empty_or_whitespace_is_empty_input(raw: bytes) -> None:
    """Zero bytes or only whitespace is refused as empty."""
    with pytest.raises(EmptyInput):
        decode_bytes(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        b"\xff\xd8\xff\xe0" + b"JFIF",
        b"PK\x03\x04" + b"zipped",
        b"%PDF-1.7\n",
        b"\x1f\x8b\x08\x00",
        b"tekst\x00met\x00nullen en nog meer tekst",
        bytes(range(0, 32)) * 4,
    ],
)
def test_binary_is_refused(raw: bytes) -> None:
    """Images, archives, NUL bytes and control-character soup are refused as binary."""
    with pytest.raises(BinaryInput):
        decode_bytes(raw)


def test_damaged_utf8_is_undecodable() -> None:
    """UTF-8 text with a broken byte mid-file is refused rather than read as cp1252 mojibake."""
    raw = "Oekraïne en Israël".encode() + b" \xff " + "café".encode()
    with pytest.raises(UndecodableInput):
        decode_bytes(raw)


def test_truncated_utf16_is_undecodable() -> None:
    """UTF-16 with a BOM but an odd number of bytes does not decode."""
    with pytest.raises(UndecodableInput):
        decode_bytes(codecs.BOM_UTF16_LE + "abc".encode("utf-16-le") + b"\x00")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_a_permanent_error(raw: bytes) -> None:
    """No input makes decoding crash: it returns text without CR or raises a PermanentError."""
    try:
        decoded = decode_bytes(raw)
    except PermanentError:
        return
    assert "\r" not in decoded.text
    assert decoded.text.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="cp1252", exclude_categories=("Cc",)), min_size=1))
def test_cp1252_text_is_never_misread(text: str) -> None:
    """cp1252 bytes that are not valid UTF-8 decode to exactly their text, or are refused; never mojibake."""
    raw = text.encode("cp1252")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        assume(False)  # valid UTF-8 is read as UTF-8 by design ("Â\xa0" is also UTF-8 for "\xa0")
    try:
        decoded = decode_bytes(raw)
    except (EmptyInput, UndecodableInput):
        return
    assert decoded.text == text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize(
    "sentence",
    [
        "Oekraïne en Israël: “geen akkoord” – financiën €12 mln, café à la carte, Curaçao.",
        "Zoë's reünie in Genève; Björk en Müller zagen het coördinatieoverleg.",
        "ÉÉN OORLOG — naïeve ideeën…",
    ],
)
def test_dutch_cp1252_sentences_round_trip(sentence: str) -> None:
    """Real Dutch text in cp1252 comes back exactly."""
    decoded = decode_bytes(sentence.encode("cp1252"))
    assert (decoded.text, decoded.encoding) == (sentence, "cp1252")


def test_decoding_a_large_file_is_not_quadratic() -> None:
    """A 1 MB file decodes without a super-linear step (a complexity guard with a generous bound; the
    speed itself is measured by ``scripts/parser_bench.py``)."""
    raw = (TEXT * 20_000).encode("cp1252")
    start = time.perf_counter()
    assert decode_bytes(raw).encoding == "cp1252"
    assert time.perf_counter() - start < 2


def test_utf32_with_bom() -> None:
    """UTF-32 with a BOM is recognised before UTF-16 (whose BOM is its prefix)."""
    decoded = decode_bytes(codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"))
    assert (decoded.text, decoded.encoding) == (TEXT, "utf-32")


def test_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    """A byte cp1252 leaves undefined (0x81) does not fail the file: it is read as Latin-1."""
    raw = "Café in Genève ".encode("latin-1") * 20 + b"\x81"
    decoded = decode_bytes(raw)
    assert decoded.encoding == "latin-1"
    assert decoded.text.startswith("Café in Genève")
