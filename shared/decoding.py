"""Bytes → text for dropped files: detect the encoding, refuse what is not text, normalise line endings.

Supported: UTF-8 with or without BOM, UTF-16/UTF-32 with BOM (and BOM-less UTF-16 recognised by its
zero bytes), and Windows-1252 (a superset of Latin-1's printable range) for everything that is not
valid UTF-8. The order matters: a valid UTF-8 file is never read as cp1252, so "Oekraïne" cannot turn
into "OekraÃ¯ne"; a cp1252 file is almost never valid UTF-8 (its accented letters stand alone where
UTF-8 needs continuation bytes).

Refused, with a permanent error saying why: empty or whitespace-only files (``EmptyInput``), images,
archives and executables recognised by their first bytes, NUL bytes outside UTF-16 and text with a
high share of control characters (``BinaryInput``), HTML pages (``MarkupInput``), and UTF-8 that is damaged mid-file or UTF-16
that does not decode (``UndecodableInput``).

Everything here is C-speed ``bytes``/``str`` work: this runs on every file the ingest service claims.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

from shared.errors import BinaryInput, EmptyInput, MarkupInput, UndecodableInput

LineEndings = Literal["LF", "CRLF", "CR", "mixed", "none"]

#: First bytes of formats that are never wire text (images, archives, documents, executables).
MAGIC_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"%PDF-", "pdf"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\x7fELF", "elf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_RIFF = b"RIFF"  # WAV/AVI/WEBP: "RIFF" + 4 size bytes + a 4-letter form type

#: Byte-order marks, longest first (UTF-32-LE's BOM starts with UTF-16-LE's).
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

#: Above this share of control characters (other than tab, newline, CR, form feed) it is not text:
#: random binary has ~12 %, real wire copy has none; 2 % leaves room for a few stray escapes.
MAX_CONTROL_SHARE = 0.02

#: BOM-less UTF-16 is recognised when at least this share of the odd (LE) or even (BE) bytes are zero:
#: Dutch text is nearly all Latin-1, whose UTF-16 high byte is zero; binary files do not look like that.
UTF16_ZERO_SHARE = 0.9

#: Bytes after the first invalid one that are weighed to tell damaged UTF-8 from cp1252.
UTF8_DAMAGE_WINDOW = 65_536

# cp1252 leaves five bytes undefined; Latin-1 maps them to C1 controls, which the control check counts.
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_UTF8_LEAD_BYTES = bytes(range(0xC2, 0xF5))
_C0_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_WHITESPACE_BYTES = b" \t\r\n\x0b\x0c"
#: How an HTML page starts (after whitespace, case ignored): a saved web page, not wire copy.
_HTML_OPENINGS = re.compile(r"\s*(<!doctype\s+html|<html[\s>]|<\?xml[^>]*>\s*<html[\s>])", re.IGNORECASE)


@dataclass(frozen=True)
class Decoded:
    """A file's text and what was learnt decoding it."""

    text: str  # line endings normalised to "\n"
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252"
    line_endings: LineEndings
    had_bom: bool
    trailing_newline: bool


def decode_bytes(data: bytes) -> Decoded:
    """Decode one dropped file's bytes, or raise a permanent error saying why it is not wire text."""
    if not data.strip(_WHITESPACE_BYTES):
        raise EmptyInput("the file holds no text", size=len(data))
    text, encoding, had_bom = _decode(data)
    if not text.strip():
        raise EmptyInput("the file holds only whitespace", size=len(data), encoding=encoding)
    if _HTML_OPENINGS.match(text):
        raise MarkupInput("the file is an HTML page, not wire text", encoding=encoding)
    controls = _count_controls(data, text, encoding)
    if controls and controls > MAX_CONTROL_SHARE * len(text):
        raise BinaryInput("too many control characters for text", share=round(controls / len(text), 3))
    line_endings = detect_line_endings(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Decoded(
        text=text,
        encoding=encoding,
        line_endings=line_endings,
        had_bom=had_bom,
        trailing_newline=text.endswith("\n"),
    )


def detect_line_endings(text: str) -> LineEndings:
    """Name the line-ending convention of ``text`` (before normalisation)."""
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    counted: tuple[tuple[LineEndings, int], ...] = (("CRLF", crlf), ("CR", cr), ("LF", lf))
    kinds = [name for name, count in counted if count]
    if not kinds:
        return "none"
    return kinds[0] if len(kinds) == 1 else "mixed"


def _decode(data: bytes) -> tuple[str, str, bool]:
    """Return (text, encoding name, had_bom); BOM stripped from the text."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom) :], codec, name), name, True
    kind = _magic(data)
    if kind is not None:
        raise BinaryInput("the file is not text", format=kind)
    if b"\x00" in data:
        codec16 = _bomless_utf16(data)
        if codec16 is None:
            raise BinaryInput("NUL bytes in a file that is not UTF-16", nul_bytes=data.count(b"\x00"))
        return _strict(data, codec16, codec16), codec16, False
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError as exc:
        if _damaged_utf8(data, exc.start):
            raise UndecodableInput(
                "UTF-8 text with invalid bytes", offset=exc.start, byte=f"0x{data[exc.start]:02x}"
            ) from exc
    if len(data.translate(None, _CP1252_UNDEFINED)) == len(data):
        return data.decode("cp1252"), "cp1252", False
    # Latin-1 maps cp1252's undefined bytes to C1 controls: the control-share check then judges them.
    return data.decode("latin-1"), "latin-1", False


def _damaged_utf8(data: bytes, first_error: int) -> bool:
    """Mostly well-formed UTF-8 multi-byte sequences and a few broken bytes: damaged UTF-8, not cp1252.

    Reading it as cp1252 would turn every accented letter into mojibake, so it is refused instead.
    Everything before the first error is valid UTF-8 (its multi-byte characters are counted by their
    lead bytes); after it, a bounded window is decoded leniently to weigh good sequences against bad.
    """
    well_formed = first_error - len(data[:first_error].translate(None, _UTF8_LEAD_BYTES))
    lossy = data[first_error : first_error + UTF8_DAMAGE_WINDOW].decode("utf-8", "replace")
    broken = lossy.count("\ufffd")
    well_formed += len(lossy) - len(lossy.encode("ascii", "ignore")) - broken
    return well_formed >= 2 and well_formed >= broken


def _count_controls(data: bytes, text: str, encoding: str) -> int:
    """Control characters other than tab, LF, FF and CR (counted on the bytes where C0 is one byte)."""
    if encoding in ("utf-8", "utf-8-sig", "cp1252"):
        return len(data) - len(data.translate(None, _C0_CONTROL_BYTES))
    return len(_CONTROL_CHARS.findall(text))


def _strict(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UndecodableInput(
            "the bytes do not decode as declared", encoding=name, offset=exc.start
        ) from exc


def _magic(data: bytes) -> str | None:
    for prefix, kind in MAGIC_PREFIXES:
        if data.startswith(prefix):
            return kind
    if data.startswith(_RIFF) and len(data) >= 12:
        return "riff"
    return None


def _bomless_utf16(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the zero bytes sit where UTF-16 puts them, else None."""
    if len(data) < 2 or len(data) % 2:
        return None
    half = len(data) // 2
    if data[1::2].count(0) >= UTF16_ZERO_SHARE * half and data[0::2].count(0) < half // 10 + 1:
        return "utf-16-le"
    if data[0::2].count(0) >= UTF16_ZERO_SHARE * half and data[1::2].count(0) < half // 10 + 1:
        return "utf-16-be"
    return None
